"""A third party's person works for no department: the sponsoring department's head and requesters
see them, and nobody else but ITSA (S3.7)."""

import pytest
from agreement_setup import add_person, approved
from django.db import transaction
from django.urls import reverse

from accounts.models import Grant
from accounts.selectors import people_visible_to
from accounts.services import grant_open
from portal.errors import NotAllowed
from portal.models import AuditEvent


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



def test_an_itsa_member_with_end_user_access_to_the_system_cannot_give_a_third_party_access_to_it(city):
    """S3.2c: creating an account on a system is administering it, for a third party's person too."""
    with transaction.atomic():  # an end-user grant on the VMS
        grant_open(person=city.itsa2, system=city.vms, department=city.police, role=Grant.Role.END_USER,
                   account_name="ike-vms", permissible_uses=[], by=city.itsa)
    agreement = approved(city)

    with pytest.raises(NotAllowed, match="administering it"):
        add_person(city, agreement, by=city.itsa2)

    assert AuditEvent.objects.filter(action="agreement.person_add", outcome="refused", actor=city.itsa2).exists()
    assert add_person(city, agreement, by=city.itsa).pk  # another member of ITSA may
