"""Versions of the policy and their change log (Section 2.4): publishing through portal.policy and
through the admin, which calls the same service."""

from datetime import timedelta

import pytest
from conftest import messages_of
from django.urls import reverse
from django.utils import timezone
from public_helpers import draft_version, published_version

from accounts.models import User
from portal.errors import NotAllowed, RuleViolation
from portal.models import AuditEvent, PolicyChange, PolicyVersion
from portal.policy import (current_policy_version, policy_change_add, policy_change_remove, policy_version_publish,
                           policy_version_save)

SUBSTANTIVE = [("2.2", "Adds public health as an intended use.", True)]
CLERICAL = [("3.5", "Corrects a cross-reference to Section 3.4.", False)]


@pytest.mark.parametrize(("approved", "notified"), [(False, False), (True, False), (False, True)],
                         ids=["neither", "approved only", "notified only"])
def test_a_substantive_revision_is_not_published_before_the_mayor_approves_and_the_aldermen_are_told(
        city, approved, notified):
    """S2.4: substantive changes are approved by the Mayor and notified to the Board of Aldermen."""
    version = draft_version(city, approved=approved, notified=notified, changes=SUBSTANTIVE)

    with pytest.raises(RuleViolation, match="substantive revision") as refusal:
        policy_version_publish(version=version, by=city.designee)

    version.refresh_from_db()
    assert not version.is_published and version.published_at is None
    if not approved:
        assert "the Mayor approved it" in refusal.value.message
    if not notified:
        assert "Board of Aldermen was notified" in refusal.value.message
    assert AuditEvent.objects.filter(action="policy_version.publish", outcome="refused", actor=city.designee).exists()


def test_a_substantive_revision_approved_and_notified_is_published_by_the_designee(city):
    """S2.4"""
    version = draft_version(city, changes=SUBSTANTIVE + CLERICAL)

    published = policy_version_publish(version=version, by=city.designee)

    published.refresh_from_db()
    assert published.is_published
    assert published.published_by == city.designee and published.published_at is not None
    assert AuditEvent.objects.filter(action="policy_version.publish", outcome="success", target=str(published),
                                     detail="substantive").exists()


def test_a_version_of_non_substantive_changes_needs_neither_approval_nor_notification(city):
    """S2.4: non-substantive changes need no approval by the Mayor and no external notification."""
    version = draft_version(city, approved=False, notified=False, changes=CLERICAL)

    assert policy_version_publish(version=version, by=city.designee).is_published


@pytest.mark.parametrize("who", ["itsa", "head", "officer"])
def test_only_the_mayors_designee_publishes_a_version(city, who):
    """S2.4: the CTO or other Mayoral designee maintains the policy."""
    person = getattr(city, who)
    version = draft_version(city, changes=CLERICAL)

    with pytest.raises(NotAllowed):
        policy_version_publish(version=version, by=person)

    version.refresh_from_db()
    assert not version.is_published
    assert AuditEvent.objects.filter(action="policy_version.publish", outcome="denied", actor=person).exists()


def test_a_version_with_an_empty_change_log_is_not_published(city):
    """S2.4: a published version includes any and all of its changes."""
    version = draft_version(city)

    with pytest.raises(RuleViolation, match="no change"):
        policy_version_publish(version=version, by=city.designee)


def test_publishing_again_changes_nothing(city):
    version = published_version(city)
    first = version.published_at

    again = policy_version_publish(version=version, by=city.designee)

    assert again.published_at == first
    assert AuditEvent.objects.filter(action="policy_version.publish", outcome="success").count() == 1


def test_a_published_version_and_its_change_log_never_change(city):
    """S2.4: what was published stays as it was published."""
    version = published_version(city)
    change = version.changes.first()

    with pytest.raises(RuleViolation, match="published"):
        policy_change_add(version=version, section="2.6", description="Late addition.", substantive=False,
                          by=city.designee)
    with pytest.raises(RuleViolation, match="published"):
        policy_change_remove(change=change, by=city.designee)
    version.summary = "Rewritten afterwards."
    with pytest.raises(RuleViolation, match="published"):
        policy_version_save(version=version, by=city.designee)

    version.refresh_from_db()
    assert version.summary == "The City's surveillance policy."
    assert list(version.changes.values_list("section", flat=True)) == ["2.2", "3.5"]


def test_people_outside_the_designee_and_itsa_cannot_draft_a_version(city):
    with pytest.raises(NotAllowed):
        policy_version_save(version=PolicyVersion(number="9.9", title="Mine", summary="Mine.",
                                                  effective_on=timezone.localdate()), by=city.head)
    version = draft_version(city)
    with pytest.raises(NotAllowed):
        policy_change_add(version=version, section="2.2", description="Mine.", substantive=True, by=city.head)
    assert not PolicyVersion.objects.filter(number="9.9").exists()
    assert not version.changes.exists()


def test_a_second_version_with_the_same_number_is_refused_with_a_message(city):
    draft_version(city, number="1.0")
    with pytest.raises(RuleViolation, match="already exists"):
        draft_version(city, number="1.0")


def test_the_current_version_is_the_latest_published_one_already_in_effect(city):
    """S2.6: the current version of the policy is the one published."""
    today = timezone.localdate()
    assert current_policy_version() is None

    published_version(city, number="1.0", effective_on=today - timedelta(days=400))
    newer = published_version(city, number="1.1", effective_on=today - timedelta(days=30))
    published_version(city, number="2.0", effective_on=today + timedelta(days=30))  # not in effect yet
    draft_version(city, number="1.2", effective_on=today - timedelta(days=1), changes=CLERICAL)  # never published

    assert current_policy_version() == newer


# --- The admin (ITSA superusers) ------------------------------------------------------------------

def _superuser(client, person):
    User.objects.filter(pk=person.pk).update(is_staff=True, is_superuser=True)
    client.force_login(person)
    return client


def _publish_in_admin(client, version):
    return client.post(reverse("admin:portal_policyversion_changelist"),
                       {"action": "publish", "_selected_action": [version.pk]}, follow=True)


def test_the_admin_publishes_through_the_service_and_shows_its_refusal(city, client):
    """S2.4: the admin's publish action checks the same rule."""
    _superuser(client, city.designee)
    refused = draft_version(city, number="1.0", approved=False, changes=SUBSTANTIVE)
    allowed = draft_version(city, number="1.1", changes=SUBSTANTIVE)

    response = _publish_in_admin(client, refused)
    assert any("Mayor must approve" in message for message in messages_of(response, levels=False))
    response = _publish_in_admin(client, allowed)
    assert any("Version 1.1 is published." in message for message in messages_of(response, levels=False))

    assert list(PolicyVersion.objects.filter(status="published").values_list("number", flat=True)) == ["1.1"]


def test_an_itsa_superuser_outside_the_designees_cannot_publish_in_the_admin(city, client):
    """S2.4"""
    _superuser(client, city.itsa)
    version = draft_version(city, changes=CLERICAL)

    response = _publish_in_admin(client, version)

    assert any("Only the Mayor's designee" in message for message in messages_of(response, levels=False))
    version.refresh_from_db()
    assert not version.is_published


def test_a_published_version_is_read_only_in_the_admin(city, client):
    """S2.4"""
    _superuser(client, city.designee)
    version = published_version(city)
    url = reverse("admin:portal_policyversion_change", args=[version.pk])

    assert client.get(url).status_code == 200
    response = client.post(url, {"number": "1.0", "title": "Changed", "summary": "Changed.",
                                 "effective_on": "2020-01-01"})
    assert response.status_code == 403
    assert client.post(reverse("admin:portal_policyversion_delete", args=[version.pk]),
                       {"post": "yes"}).status_code == 403
    version.refresh_from_db()
    assert version.title != "Changed"
    assert version.changes.count() == 2


def _admin_form(version_fields, *, new_changes=(), delete=()):
    data = {**version_fields,
            "changes-TOTAL_FORMS": str(len(delete)), "changes-INITIAL_FORMS": str(len(delete)),
            "changes-MIN_NUM_FORMS": "0", "changes-MAX_NUM_FORMS": "1000",
            "changes-2-TOTAL_FORMS": str(len(new_changes)), "changes-2-INITIAL_FORMS": "0",
            "changes-2-MIN_NUM_FORMS": "0", "changes-2-MAX_NUM_FORMS": "1000"}
    for index, change in enumerate(delete):
        data.update({f"changes-{index}-id": change.pk, f"changes-{index}-version": change.version_id,
                     f"changes-{index}-DELETE": "on"})
    for index, (section, description, substantive) in enumerate(new_changes):
        data.update({f"changes-2-{index}-section": section, f"changes-2-{index}-description": description})
        if substantive:
            data[f"changes-2-{index}-substantive"] = "on"
    return data


def test_a_draft_and_its_change_log_are_written_in_the_admin_through_the_service(city, client):
    _superuser(client, city.itsa)
    fields = {"number": "1.0", "title": "Surveillance policy", "summary": "First version.",
              "effective_on": timezone.localdate().isoformat(), "mayor_approved_on": "", "aldermen_notified_on": ""}

    response = client.post(reverse("admin:portal_policyversion_add"),
                           _admin_form(fields, new_changes=SUBSTANTIVE + CLERICAL))

    assert response.status_code == 302, response.content.decode()[:2000]
    version = PolicyVersion.objects.get(number="1.0")
    assert not version.is_published
    assert sorted(version.changes.values_list("section", "substantive")) == [("2.2", True), ("3.5", False)]
    assert AuditEvent.objects.filter(action="policy_change.add", actor=city.itsa).count() == 2

    url = reverse("admin:portal_policyversion_change", args=[version.pk])
    response = client.post(url, _admin_form(fields, delete=list(version.changes.filter(section="3.5"))))
    assert response.status_code == 302
    assert list(version.changes.values_list("section", flat=True)) == ["2.2"]
    assert AuditEvent.objects.filter(action="policy_change.remove", actor=city.itsa).count() == 1


def test_a_change_log_entry_has_the_orders_definition_of_a_substantive_revision_as_help():
    help_text = PolicyChange._meta.get_field("substantive").help_text
    assert "adds, alters or eliminates an intended use, permissible use and/or condition" in help_text


def test_the_demo_city_publishes_version_1_0_with_its_change_log_once(db):
    """S2.4: the demo's first version is substantive, approved and notified, and in force."""
    from django.core.management import call_command

    call_command("seed_demo", stdout=None)
    call_command("seed_demo", stdout=None)

    version = current_policy_version()
    assert version.number == "1.0" and version.is_published
    assert version.has_substantive_change and version.mayor_approved_on and version.aldermen_notified_on
    assert PolicyVersion.objects.count() == 1
    assert version.changes.filter(substantive=False).exists()
