"""A third party's person works for no department: the sponsoring department's head and requesters
see them, and nobody else but ITSA (S3.7)."""

import pytest
from agreement_setup import add_person, approved
from django.urls import reverse

from accounts.selectors import people_visible_to


@pytest.mark.parametrize(("who", "sees"), [("head", True), ("requester", True), ("itsa", True),
                                           ("outsider", False), ("officer", False), ("designee", False)])
def test_the_sponsors_see_the_third_partys_person(city, client, who, sees):
    """S3.7"""
    grant = add_person(city, approved(city))
    person = grant.person
    assert person.is_third_party and person.department is None
    viewer = getattr(city, who)

    assert people_visible_to(viewer).filter(pk=person.pk).exists() is sees
    client.force_login(viewer)
    assert client.get(reverse("accounts:person", args=[person.pk])).status_code == (200 if sees else 404)


def test_the_department_list_of_people_keeps_its_own_people_once_each(city):
    grant = add_person(city, approved(city))
    visible = list(people_visible_to(city.head))
    assert len(visible) == len(set(visible))
    assert grant.person in visible and city.officer in visible and city.streets_worker not in visible
