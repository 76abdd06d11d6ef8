"""S3.8: the systems whose live stream may be public are listed on the public transparency page."""

from django.urls import reverse

from accounts.models import SurveillanceSystem


def _section(page: str) -> str:
    start = page.index('id="public-feeds-heading"')
    return page[start:page.index("</section>", start)]


def test_the_transparency_page_lists_the_systems_with_a_public_feed_and_no_other(city, client):
    """S3.8"""
    section = _section(client.get(reverse("transparency:index")).content.decode())

    assert city.traffic.name in section
    assert city.vms.name not in section and city.lpr.name not in section


def test_with_no_public_feed_the_page_says_none(city, client):
    """S3.8"""
    SurveillanceSystem.objects.update(has_public_feed=False)

    assert "None: no system" in _section(client.get(reverse("transparency:index")).content.decode())
