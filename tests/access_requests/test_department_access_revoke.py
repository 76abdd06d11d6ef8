"""Revoking department access (S3.4b): the Mayor's designee who grants department access takes it back,
with a reason; every live grant of the department on the system goes to ITSA for removal."""

import pytest
from conftest import file_request, messages_of, provisioned
from django.core import mail
from django.urls import reverse

from accounts.models import DESIGNEE_GROUP, Department, Grant, User
from accounts.services import department_set_head, role_group
from portal.errors import NotAllowed, RuleViolation
from portal.models import AuditEvent, IntendedUse
from access_requests.models import AccessRequest, DepartmentAccess
from access_requests.services import (
    access_request_approve,
    access_request_provision,
    department_access_decide,
    department_access_request,
    department_access_revoke,
    department_is_authorized,
)

REASON = "The department no longer patrols with the VMS."


def _removals():
    return AccessRequest.objects.filter(action=AccessRequest.Action.REMOVE)


# --- the service -------------------------------------------------------------------------------

def test_revoking_queues_the_removal_of_every_live_grant_of_the_department_on_the_system(city):
    """S3.4b: revoking department access sends the department's grants on the system to ITSA for removal."""
    officer = provisioned(city).grant
    analyst = provisioned(city, person=city.analyst).grant
    # A grant of the department on another system stays.
    department_access_decide(
        access=department_access_request(department=city.police, system=city.lpr,
                                         intended_uses=[IntendedUse.objects.get(code="public-safety")],
                                         business_need="Stolen vehicles.", by=city.head),
        grant=True, reason="Patrol.", by=city.designee,
    )
    other_system = provisioned(city, person=city.requester, system=city.lpr).grant
    ended = provisioned(city, person=city.requester).grant
    ended.status = Grant.Status.REMOVED
    ended.save()

    access = department_access_revoke(access=city.police_vms, reason=REASON, by=city.designee)

    assert access.status == DepartmentAccess.Status.REVOKED
    assert access.get_status_display() == "Revoked"
    assert (access.revoked_by, access.revoke_reason) == (city.designee, REASON)
    assert access.revoked_at is not None
    removals = _removals()
    assert sorted(r.grant_id for r in removals) == sorted([officer.pk, analyst.pk])
    assert other_system.pk not in {r.grant_id for r in removals}
    for removal in removals:
        assert removal.status == AccessRequest.Status.WITH_ITSA
        assert "revoked" in removal.justification and REASON in removal.justification
        assert removal.written is not None  # in writing like every removal (S3.4g)
    assert AuditEvent.objects.filter(actor=city.designee, action="department_access.revoke",
                                     outcome="success").exists()


def test_a_suspended_grant_is_queued_for_removal_too(city):
    """S3.4b: a suspended grant is still live access to take away."""
    grant = provisioned(city).grant
    grant.status = Grant.Status.SUSPENDED
    grant.save()

    department_access_revoke(access=city.police_vms, reason=REASON, by=city.designee)

    assert [r.grant_id for r in _removals()] == [grant.pk]


def test_a_removal_already_in_flight_is_not_queued_twice(city):
    """S3.4b"""
    grant = provisioned(city).grant
    in_flight = file_request(city, action="remove")
    assert in_flight.grant_id == grant.pk

    department_access_revoke(access=city.police_vms, reason=REASON, by=city.designee)

    assert _removals().filter(grant=grant, status__in=AccessRequest.OPEN_STATUSES).count() == 1


def test_revoking_twice_has_one_effect(city):
    """S3.4b"""
    provisioned(city)
    department_access_revoke(access=city.police_vms, reason=REASON, by=city.designee)

    department_access_revoke(access=city.police_vms, reason=REASON, by=city.designee)

    assert _removals().count() == 1
    assert AuditEvent.objects.filter(action="department_access.revoke").count() == 1


@pytest.mark.parametrize("role", ["head", "requester", "itsa", "outsider"])
def test_only_the_designee_revokes(city, role):
    """S3.4b: the Mayor or designee decides department access, and takes it back."""
    provisioned(city)
    actor = getattr(city, role)

    with pytest.raises(NotAllowed):
        department_access_revoke(access=city.police_vms, reason=REASON, by=actor)

    city.police_vms.refresh_from_db()
    assert city.police_vms.status == DepartmentAccess.Status.GRANTED
    assert not _removals().exists()
    assert AuditEvent.objects.filter(actor=actor, action="department_access.revoke", outcome="denied").exists()


def test_a_designee_who_asked_for_the_access_cannot_revoke_it(city):
    """S3.4b: the one who asked never decides, granting or revoking."""
    board = Department.objects.create(name="Parking Board", code="parking", kind=Department.Kind.BOARD)
    chair = User.objects.create_user(email="chair@parking.example", full_name="Cora Chair", department=board)
    chair.groups.add(role_group(DESIGNEE_GROUP))
    board = department_set_head(department=board, head=chair, by=city.itsa)
    access = department_access_request(department=board, system=city.lpr,
                                       intended_uses=[IntendedUse.objects.get(code="public-safety")],
                                       business_need="Parking enforcement.", by=chair)
    access = department_access_decide(access=access, grant=True, reason="Parking enforcement.", by=city.designee)

    with pytest.raises(NotAllowed, match="somebody else must revoke it"):
        department_access_revoke(access=access, reason="Mine to end.", by=chair)

    access.refresh_from_db()
    assert access.is_granted
    assert AuditEvent.objects.filter(actor=chair, action="department_access.revoke", outcome="denied").exists()
    assert department_access_revoke(access=access, reason="Ended.", by=city.designee).status == "revoked"


@pytest.mark.parametrize("decision", ["pending", "denied"])
def test_only_granted_access_can_be_revoked(city, decision):
    """S3.4b"""
    access = department_access_request(department=city.police, system=city.lpr,
                                       intended_uses=[IntendedUse.objects.get(code="public-safety")],
                                       business_need="Stolen vehicles.", by=city.head)
    if decision == "denied":
        access = department_access_decide(access=access, grant=False, reason="No need.", by=city.designee)

    with pytest.raises(RuleViolation, match="Only granted department access can be revoked"):
        department_access_revoke(access=access, reason=REASON, by=city.designee)

    access.refresh_from_db()
    assert access.status == decision


@pytest.mark.parametrize("reason", ["", "   "])
def test_a_revocation_needs_a_reason(city, reason):
    """S3.4b"""
    with pytest.raises(RuleViolation):
        department_access_revoke(access=city.police_vms, reason=reason, by=city.designee)

    city.police_vms.refresh_from_db()
    assert city.police_vms.is_granted


def test_a_refusal_while_queueing_undoes_the_whole_revocation(city, monkeypatch):
    """S3.4b: the revocation and its removals are one transaction."""
    from access_requests import services

    provisioned(city)
    provisioned(city, person=city.analyst)
    calls = []

    def failing_queue(**kwargs):
        calls.append(kwargs)
        if len(calls) == 2:
            raise RuleViolation("The queue refused.")
        return original(**kwargs)

    original = services.access_request_queue_for_itsa
    monkeypatch.setattr(services, "access_request_queue_for_itsa", failing_queue)

    with pytest.raises(RuleViolation):
        department_access_revoke(access=city.police_vms, reason=REASON, by=city.designee)

    city.police_vms.refresh_from_db()
    assert city.police_vms.is_granted
    assert not _removals().exists()


def test_the_head_and_itsa_are_told_after_commit(city, django_capture_on_commit_callbacks):
    """S3.4b: the department head and ITSA hear of the revocation once it is committed."""
    removal_grant = provisioned(city).grant
    mail.outbox.clear()

    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        department_access_revoke(access=city.police_vms, reason=REASON, by=city.designee)
    assert mail.outbox == []

    for callback in callbacks:
        callback()
    by_recipients = {tuple(sorted(m.to)): m for m in mail.outbox}
    head_mail = by_recipients[(city.head.email,)]
    itsa_mail = by_recipients[tuple(sorted([city.itsa.email, city.itsa2.email]))]
    assert "revoked" in head_mail.subject.lower() and REASON in head_mail.body
    removal = _removals().get(grant=removal_grant)
    assert removal.reference in itsa_mail.body and REASON in itsa_mail.body


def test_new_requests_for_the_system_are_refused_after_revocation(city):
    """S3.4b: the way around: before, access once granted could never be taken back, and the department
    kept filing requests for the system."""
    assert department_is_authorized(department=city.police, system=city.vms)

    department_access_revoke(access=city.police_vms, reason=REASON, by=city.designee)

    assert not department_is_authorized(department=city.police, system=city.vms)
    with pytest.raises(RuleViolation):
        file_request(city, person=city.analyst)


def test_a_request_approved_before_the_revocation_cannot_be_provisioned_after_it(city):
    """S3.4b: the way around was an add request already with ITSA when the access was revoked."""
    approved = access_request_approve(request=file_request(city, person=city.analyst), by=city.head)
    assert approved.is_with_itsa

    department_access_revoke(access=city.police_vms, reason=REASON, by=city.designee)

    with pytest.raises(RuleViolation, match="no longer authorized"):
        access_request_provision(request=approved, account_name="andy-vms", by=city.itsa)
    approved.refresh_from_db()
    assert approved.is_with_itsa and approved.grant is None
    assert AuditEvent.objects.filter(action="access_request.provision", outcome="refused").exists()

def test_the_department_may_ask_again_after_revocation(city):
    """S3.4a: a revoked access is not open, so the head can ask anew."""
    department_access_revoke(access=city.police_vms, reason=REASON, by=city.designee)

    again = department_access_request(department=city.police, system=city.vms,
                                      intended_uses=[IntendedUse.objects.get(code="public-safety")],
                                      business_need="Patrol again.", by=city.head)

    assert again.is_pending


# --- the page ----------------------------------------------------------------------------------

def _revoke(client, access, reason=REASON):
    return client.post(reverse("requests:department_access_revoke", args=[access.pk]), {"reason": reason})


def test_the_designee_sees_the_revoke_form_and_nobody_else(city, client):
    """S3.4b"""
    url = city.police_vms.get_absolute_url()
    action = reverse("requests:department_access_revoke", args=[city.police_vms.pk])
    for person in (city.head, city.requester, city.itsa):
        client.force_login(person)
        assert action not in client.get(url).content.decode()

    client.force_login(city.designee)
    page = client.get(url).content.decode()

    assert action in page and "csrfmiddlewaretoken" in page


def test_the_designee_revokes_on_the_page(city, client):
    """S3.4b"""
    provisioned(city)
    client.force_login(city.designee)

    response = _revoke(client, city.police_vms)

    assert response.status_code == 302
    city.police_vms.refresh_from_db()
    assert city.police_vms.status == DepartmentAccess.Status.REVOKED
    assert _removals().count() == 1
    assert messages_of(response)[0][0] == "success"
    page = client.get(city.police_vms.get_absolute_url()).content.decode()
    assert "Revoked" in page and REASON in page
    assert reverse("requests:department_access_revoke", args=[city.police_vms.pk]) not in page


def test_the_revoke_page_answers_get_with_405(city, client):
    client.force_login(city.designee)

    response = client.get(reverse("requests:department_access_revoke", args=[city.police_vms.pk]))

    assert response.status_code == 405


def test_a_revocation_without_a_reason_is_refused_on_the_page(city, client):
    """S3.4b"""
    client.force_login(city.designee)

    response = _revoke(client, city.police_vms, reason="")

    assert messages_of(response) == [("error", "Write the reason for revoking the department access.")]
    city.police_vms.refresh_from_db()
    assert city.police_vms.is_granted


def test_the_head_is_refused_with_a_message(city, client):
    """S3.4b"""
    client.force_login(city.head)

    response = _revoke(client, city.police_vms)

    assert messages_of(response) == [("error", "Only the Mayor's designee can revoke department access.")]
    city.police_vms.refresh_from_db()
    assert city.police_vms.is_granted


def test_an_outsider_gets_404(city, client):
    client.force_login(city.outsider)

    assert _revoke(client, city.police_vms).status_code == 404


def test_revoking_a_revoked_access_again_on_the_page_changes_nothing(city, client):
    """S3.4b: a repeated POST has one effect."""
    provisioned(city)
    client.force_login(city.designee)
    _revoke(client, city.police_vms)

    response = _revoke(client, city.police_vms)

    assert messages_of(response)[-1][0] == "info"
    assert _removals().count() == 1
