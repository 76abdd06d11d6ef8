"""One validation: the items under review, the head's decisions and sign-off, the timeline (S3.4e, S3.4f)."""

import pytest
from conftest import PASSWORD, open_validation
from django.urls import reverse
from django.utils import timezone

from accounts.models import Grant, User

from audits.models import Validation
from audits.services import (
    user_audit_open, validation_item_decide, validation_keep_all, validation_sign_off,
)
from portal.models import AuditEvent


def _page(client, user, validation):
    client.force_login(user)
    response = client.get(validation.get_absolute_url())
    assert response.status_code == 200
    return response.content.decode()


def test_the_head_sees_every_item_with_a_decision_form_and_the_sign_off_form(city, client):
    """S3.4e S3.4f"""
    validation = open_validation(city)

    page = _page(client, city.head, validation)

    for item in validation.items.select_related("grant__person", "grant__system"):
        assert item.grant.person.full_name in page
        assert item.grant.account_name in page
        assert reverse("audits:decide", args=[validation.pk, item.pk]) in page
    assert "Detection of crime" in page  # the permissible use of the grants
    assert "Not decided yet" in page
    assert reverse("audits:keep_all", args=[validation.pk]) in page
    assert "Keep all still to decide" in page
    assert "Enter your password to sign" in page
    assert f"I, {city.head.full_name}, head of Police Department" in page
    assert 'id="timeline-heading"' in page


@pytest.mark.parametrize("who", ["itsa", "designee", "requester"])
def test_others_who_follow_the_validation_see_the_items_but_no_decision_form(city, client, who):
    validation = open_validation(city)

    page = _page(client, getattr(city, who), validation)

    assert "Olive Officer" in page and "Andy Analyst" in page
    assert reverse("audits:keep_all", args=[validation.pk]) not in page
    assert reverse("audits:sign_off", args=[validation.pk]) not in page
    assert "Only the head of Police Department decides" in page


@pytest.mark.parametrize("who", ["outsider", "officer"])
def test_a_validation_of_another_department_answers_404_and_the_attempt_is_logged(city, client, who):
    validation = open_validation(city)
    client.force_login(getattr(city, who))

    assert client.get(validation.get_absolute_url()).status_code == 404
    assert AuditEvent.objects.filter(actor=getattr(city, who), action="validation.view", outcome="denied").exists()


def test_a_revoked_item_shows_its_reason_and_links_the_removal_request(city, client):
    """S3.4e S3.5a: a revocation goes to ITSA as removal work."""
    validation = open_validation(city)
    item = validation.items.get(grant__person=city.officer)
    item = validation_item_decide(item=item, decision="revoke", reason="Moved to the front desk.", by=city.head)

    page = _page(client, city.head, validation)

    assert "Moved to the front desk." in page
    assert f'href="{item.follow_up.get_absolute_url()}"' in page
    assert item.follow_up.reference in page


def test_the_follow_up_request_is_named_but_not_linked_for_someone_who_cannot_open_it(city, client):
    validation = open_validation(city)
    item = validation_item_decide(item=validation.items.get(grant__person=city.officer), decision="revoke",
                                  reason="Left the unit.", by=city.head)

    page = _page(client, city.designee, validation)

    assert item.follow_up.reference in page
    assert f'href="{item.follow_up.get_absolute_url()}"' not in page


def test_a_reason_is_shown_escaped(city, client):
    validation = open_validation(city)
    validation_item_decide(item=validation.items.get(grant__person=city.officer), decision="revoke",
                           reason="<script>alert(1)</script>", by=city.head)

    page = _page(client, city.head, validation)

    assert "<script>alert(1)</script>" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page


def test_after_sign_off_the_page_shows_the_statement_the_signer_and_the_time_and_no_forms(city, client):
    """S3.4f: the sign-off cannot later be denied."""
    validation = open_validation(city)
    validation_keep_all(validation=validation, by=city.head, confirmed=True)
    signed = validation_sign_off(validation=validation, by=city.head, password=PASSWORD)

    page = _page(client, city.head, validation)

    assert signed.sign_off_statement in page
    assert f"Signed by {city.head.full_name}" in page
    assert f'datetime="{timezone.localtime(signed.signed_off_at).isoformat()}"' in page
    assert reverse("audits:sign_off", args=[validation.pk]) not in page
    assert reverse("audits:keep_all", args=[validation.pk]) not in page
    assert Validation.objects.get(pk=validation.pk).get_status_display() in page


def test_the_items_table_runs_the_same_number_of_queries_whatever_the_number_of_items(
    city, client, django_assert_max_num_queries
):
    small = open_validation(city)
    client.force_login(city.head)
    with django_assert_max_num_queries(30) as few:
        client.get(small.get_absolute_url())
    people = User.objects.bulk_create(
        User(email=f"p{i}@police.example", full_name=f"Person {i:02d}", department=city.police) for i in range(20)
    )
    for person in people:
        grant = Grant.objects.create(person=person, system=city.vms, department=city.police, role="end_user",
                                     account_name=person.email, provisioned_at=timezone.now(),
                                     provisioned_by=city.itsa)
        grant.permissible_uses.set([city.crime_detection])
    large = user_audit_open(by=city.itsa, department=city.police)
    assert large.items.count() == 22

    with django_assert_max_num_queries(len(few.captured_queries)):
        response = client.get(large.get_absolute_url())
    assert response.content.decode().count("Not decided yet") == 22
