"""Temporary access on the pages (Def.T: "Temporary" is less than thirty days): the end date on the
request form, its refusal tied to the field, and the end shown on the request, in ITSA's queue and
on the person's grants."""

import re
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from access_requests.models import AccessRequest
from access_requests.services import access_request_provision


def _form(city, **changes):
    data = {
        "department": city.police.pk, "person": city.officer.pk, "system": city.vms.pk, "action": "add",
        "role": "end_user", "permissible_uses": [city.crime_detection.pk],
        "justification": "Covers a colleague's leave.",
        "condition_statement": "Case 26-001234, an active investigation, until the case closes.",
    }
    data.update(changes)
    return data


def in_days(days: int):
    return timezone.localdate() + timedelta(days=days)


def _plain(page: str) -> str:
    """The page with its <time> tags taken out, to read the sentences they sit in."""
    return re.sub(r"</?time[^>]*>", "", page)


def ends_text(day) -> str:
    return f"access ends at 00:00 on {day:%-d %B %Y}"


def test_the_new_request_page_offers_an_optional_end_date_with_a_hint(city, client):
    """Def.T: the form says what temporary means and that the field may stay empty."""
    client.force_login(city.requester)

    page = client.get(reverse("requests:new")).content.decode()

    assert '<label class="usa-label" for="id_ends_on">Temporary access ends <span class="usa-hint">(optional)' in page
    assert 'type="date" name="ends_on"' in page
    assert 'aria-describedby="id_ends_on_helptext"' in page
    assert "less than 30 days" in page


def test_thirty_days_is_refused_on_the_end_date_field_and_nothing_is_filed(city, client):
    """Def.T: 30 days is not temporary; the error is shown next to the field it concerns."""
    client.force_login(city.requester)

    response = client.post(reverse("requests:new"), _form(city, ends_on=in_days(30).isoformat()))

    assert response.status_code == 200
    page = response.content.decode()
    assert 'id="id_ends_on_error"' in page and "less than 30 days" in page
    assert 'aria-invalid="true"' in page
    assert not AccessRequest.objects.exists()


def test_a_temporary_request_is_filed_and_its_page_shows_the_end(city, client):
    """Def.T: the request, once filed, says when the access ends."""
    client.force_login(city.requester)
    ends_on = in_days(14)

    response = client.post(reverse("requests:new"), _form(city, ends_on=ends_on.isoformat()))

    request = AccessRequest.objects.get()
    assert response.status_code == 302 and response.url == request.get_absolute_url()
    assert request.ends_on == ends_on
    page = client.get(request.get_absolute_url()).content.decode()
    assert f"Temporary: {ends_text(ends_on)}" in _plain(page)
    assert f'<time datetime="{ends_on.isoformat()}">' in page


def test_a_request_without_an_end_date_shows_none(city, client):
    """Def.T: access without an end date is not called temporary."""
    client.force_login(city.requester)

    client.post(reverse("requests:new"), _form(city))

    request = AccessRequest.objects.get()
    assert request.ends_on is None
    assert "Temporary" not in client.get(request.get_absolute_url()).content.decode()


def test_itsa_sees_the_end_in_the_queue_and_the_person_page_marks_the_grant(city, client):
    """Def.T S3.5b: ITSA sees, before creating the account, that it is temporary and when it ends."""
    client.force_login(city.head)
    ends_on = in_days(10)
    client.post(reverse("requests:new"), _form(city, ends_on=ends_on.isoformat()))
    request = AccessRequest.objects.get()
    assert request.is_with_itsa

    client.force_login(city.itsa)
    queue = _plain(client.get(reverse("requests:queue")).content.decode())
    assert "Temporary</span> " + ends_text(ends_on) in queue

    access_request_provision(request=request, by=city.itsa, account_name="olive.temp")
    person_page = _plain(client.get(reverse("accounts:person", args=[city.officer.pk])).content.decode())
    assert 'grant-temporary">Temporary</span>' in person_page
    assert ends_text(ends_on) in person_page


@pytest.mark.parametrize("days, expected", [(29, "No rule stands in the way"), (30, "less than 30 days")])
def test_the_inline_feedback_checks_the_end_date(city, client, days, expected):
    """Def.T: the preview applies the service's rule to the end date and repeats it when it is fine."""
    client.force_login(city.requester)
    data = _form(city, ends_on=in_days(days).isoformat())
    data.pop("permissible_uses"), data.pop("justification")

    page = client.post(reverse("requests:preview"), data).content.decode()

    assert expected in page
    assert (f"Temporary: {ends_text(in_days(days))}" in page) == (days == 29)
