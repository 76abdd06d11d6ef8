"""Back from leave (S3.5c): the head, or the HR roster, reports the return, and ITSA reinstates exactly
the access the leave suspended (S3.5b); access suspended for another reason stays suspended."""

from datetime import timedelta

import pytest
from conftest import messages_of, provisioned
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from accounts.models import Grant, SodFinding, User
from accounts.services import grant_set_status
from portal.errors import NotAllowed, RuleViolation
from portal.models import AuditEvent, IntendedUse
from access_requests.models import AccessRequest, StatusChange
from access_requests.selectors import itsa_queue
from access_requests.services import (
    access_request_provision, access_request_queue_for_itsa, access_request_submit, department_access_decide,
    department_access_request, leave_suspended_grants, status_change_report,
)
from security.services import grant_suspend

LEAVE, RETURNED = StatusChange.Kind.ON_LEAVE, StatusChange.Kind.RETURNED
REINSTATE, SUSPEND = AccessRequest.Action.REINSTATE, AccessRequest.Action.SUSPEND


@pytest.fixture
def grants(city):
    """The officer's VMS access (through a request) and plate-reader access, both active, and traffic
    access the nightly check suspended before any leave."""
    access = department_access_request(department=city.police, system=city.lpr, business_need="Stolen cars.",
                                       intended_uses=[IntendedUse.objects.get(code="public-safety")], by=city.head)
    department_access_decide(access=access, grant=True, reason="Public safety.", by=city.designee)
    vms = provisioned(city).grant
    lpr = Grant.objects.create(person=city.officer, system=city.lpr, department=city.police,
                               role=Grant.Role.END_USER, account_name="olive-lpr", provisioned_at=timezone.now(),
                               provisioned_by=city.itsa)
    traffic = Grant.objects.create(person=city.officer, system=city.traffic, department=city.police,
                                   role=Grant.Role.MONITOR, account_name="olive-traffic",
                                   provisioned_at=timezone.now(), provisioned_by=city.itsa)
    with transaction.atomic():
        grant_suspend(grant=traffic, by=None, reason="the nightly grant check")
    return {"vms": vms, "lpr": lpr, "traffic": traffic}


def _officer(city):
    return User.objects.get(pk=city.officer.pk)


def _report(city, kind, *, days=0):
    return status_change_report(person=_officer(city), kind=kind, note="",
                                effective_date=timezone.localdate() + timedelta(days=days), by=city.head)


def _carry_out(change, by):
    return [access_request_provision(request=request, by=by) for request in change.requests.order_by("pk")]


def _on_leave(city):
    """The officer goes on leave and ITSA suspends what the leave queued."""
    change = _report(city, LEAVE)
    _carry_out(change, city.itsa)
    return change


def _status(grant):
    return Grant.objects.get(pk=grant.pk).status


def test_a_return_queues_the_reinstatement_of_only_what_the_leave_suspended(city, grants):
    """S3.5c: the leave's suspensions are reinstated; the nightly check's suspension is not touched."""
    leave = _on_leave(city)
    assert {r.grant for r in leave.requests.all()} == {grants["vms"], grants["lpr"]}
    assert _status(grants["vms"]) == _status(grants["lpr"]) == Grant.Status.SUSPENDED

    back = _report(city, RETURNED, days=1)

    assert _officer(city).employment_status == User.EmploymentStatus.ACTIVE
    queued = list(back.requests.all())
    assert {r.grant for r in queued} == {grants["vms"], grants["lpr"]}
    for request in queued:
        assert request.action == REINSTATE and request.is_with_itsa and request in itsa_queue(city.itsa)
        assert request.requested_by == city.head and request.role == request.grant.role
        assert "Reinstate access" in request.written_text and request.written.is_intact()
    assert not AccessRequest.objects.filter(grant=grants["traffic"], action=REINSTATE).exists()
    assert _status(grants["traffic"]) == Grant.Status.SUSPENDED
    assert AuditEvent.objects.filter(action="status_change.report", target=str(back)).exists()


def test_itsa_reinstates_and_the_grant_is_active_again(city, grants):
    """S3.5b: ITSA carries out the reinstatement; the grant's history and the audit trail show it."""
    _on_leave(city)
    back = _report(city, RETURNED)

    done = _carry_out(back, city.itsa2)

    assert all(r.status == AccessRequest.Status.COMPLETED and r.processed_by == city.itsa2 for r in done)
    assert _status(grants["vms"]) == _status(grants["lpr"]) == Grant.Status.ACTIVE
    assert _status(grants["traffic"]) == Grant.Status.SUSPENDED
    latest = Grant.objects.get(pk=grants["vms"].pk).history.first()
    assert latest.status == Grant.Status.ACTIVE and latest.history_user == city.itsa2
    assert AuditEvent.objects.filter(action="access_request.provision", actor=city.itsa2).count() == 2
    assert {r.grant_status_before for r in done} == {Grant.Status.SUSPENDED}


def test_a_grant_suspended_by_something_else_while_the_leave_suspension_waited_is_not_reinstated(city, grants):
    """S3.5c: the leave's suspension found the grant already suspended (here by an incident), so the
    leave did not suspend it and the return does not give it back."""
    leave = _report(city, LEAVE)
    with transaction.atomic():
        grant_suspend(grant=grants["lpr"], by=city.designee)
    _carry_out(leave, city.itsa)

    back = _report(city, RETURNED)

    assert {r.grant for r in back.requests.all()} == {grants["vms"]}
    assert leave_suspended_grants(person=_officer(city)) == [Grant.objects.get(pk=grants["vms"].pk)]


def test_a_grant_active_again_after_the_leave_and_suspended_since_is_not_reinstated(city, grants):
    """S3.5c: once active again, a later suspension is not the leave's."""
    leave = _on_leave(city)
    with transaction.atomic():
        grant_set_status(grant=grants["lpr"], status=Grant.Status.ACTIVE, by=city.itsa)
        grant_suspend(grant=grants["lpr"], by=None, reason="the nightly grant check")

    back = _report(city, RETURNED)

    assert leave.requests.count() == 2
    assert {r.grant for r in back.requests.all()} == {grants["vms"]}


def test_a_suspension_still_queued_at_the_return_is_withdrawn(city, grants):
    """S3.5c: ITSA had not suspended the accounts yet: the suspensions are withdrawn, nothing to reinstate."""
    leave = _report(city, LEAVE)

    back = _report(city, RETURNED)

    assert not back.requests.exists()
    assert set(leave.requests.values_list("status", flat=True)) == {AccessRequest.Status.WITHDRAWN}
    assert not itsa_queue(city.itsa).filter(person=city.officer).exists()
    assert _status(grants["vms"]) == _status(grants["lpr"]) == Grant.Status.ACTIVE
    assert AuditEvent.objects.filter(action="access_request.withdraw", detail__contains="no longer needed").count() == 2


def test_leave_again_withdraws_a_reinstatement_still_queued(city, grants):
    """S3.5c: away again before ITSA reinstated: the reinstatement is withdrawn, and the next return
    queues it again, as the grant has stayed suspended since the first leave."""
    _on_leave(city)
    first_back = _report(city, RETURNED)
    _report(city, LEAVE, days=2)

    assert set(first_back.requests.values_list("status", flat=True)) == {AccessRequest.Status.WITHDRAWN}
    second_back = _report(city, RETURNED, days=5)
    assert {r.grant for r in second_back.requests.all()} == {grants["vms"], grants["lpr"]}


def test_only_a_person_on_leave_returns_from_it(city, grants):
    """S3.5c: a return for a person at work is refused, and queues nothing."""
    with pytest.raises(RuleViolation, match="not on leave") as refusal:
        _report(city, RETURNED)
    assert refusal.value.field == "kind"
    assert not StatusChange.objects.exists() and not AccessRequest.objects.filter(action=REINSTATE).exists()


def test_reporting_the_same_return_twice_queues_it_once(city, grants):
    """S3.5c"""
    _on_leave(city)
    first = _report(city, RETURNED)
    again = _report(city, RETURNED)
    assert first == again and AccessRequest.objects.filter(action=REINSTATE).count() == 2


def test_a_reinstatement_cannot_be_filed_on_the_request_form(city, grants):
    """S3.5c: the way around the return (asking for a suspended grant back by hand) is refused."""
    _on_leave(city)
    with pytest.raises(RuleViolation, match="add, change, remove or suspend") as refusal:
        access_request_submit(department=city.police, person=_officer(city), system=city.vms, action=REINSTATE,
                              role=Grant.Role.END_USER, permissible_uses=[], justification="Back.", by=city.head)
    assert refusal.value.field == "action"


# --- ITSA's checks when it reinstates ------------------------------------------------------------

@pytest.fixture
def reinstatement(city, grants):
    _on_leave(city)
    back = _report(city, RETURNED)
    return back.requests.get(grant=grants["vms"])


def _refused(request, by, match):
    with pytest.raises((RuleViolation, NotAllowed), match=match):
        access_request_provision(request=request, by=by)
    request.refresh_from_db()
    assert request.is_with_itsa and _status(request.grant) == Grant.Status.SUSPENDED


def test_a_person_who_left_in_the_meantime_is_not_reinstated(city, reinstatement):
    """S3.5b: the person left after the return was reported: ITSA is refused, with the reason."""
    User.objects.filter(pk=city.officer.pk).update(employment_status=User.EmploymentStatus.LEFT)
    _refused(reinstatement, city.itsa, "left the city now")
    assert AuditEvent.objects.filter(action="access_request.provision", outcome="refused").exists()


def test_access_that_has_ended_is_not_reinstated(city, reinstatement):
    """S3.5b: the grant's end date has passed: reinstating it would give access past its end."""
    Grant.objects.filter(pk=reinstatement.grant_id).update(ends_on=timezone.localdate())
    _refused(reinstatement, city.itsa, "ended at 00:00")


def test_a_grant_with_a_removal_open_is_not_reinstated(city, reinstatement):
    """S3.5b: the head asked for the access to go after the return: the removal wins."""
    grant = Grant.objects.get(pk=reinstatement.grant_id)
    with transaction.atomic():
        removal = access_request_queue_for_itsa(grant=grant, action=AccessRequest.Action.REMOVE, role=grant.role,
                                                by=city.head, justification="No longer needed.")
    _refused(reinstatement, city.itsa, removal.reference)


def test_separation_of_duties_still_applies_to_a_reinstatement(city, reinstatement):
    """S3.2c S3.5b: an ITSA administrator holding end-user access to the system may not reinstate on it;
    nobody reinstates their own access."""
    Grant.objects.create(person=city.itsa2, system=city.vms, department=city.police, role=Grant.Role.END_USER,
                         account_name="ike", provisioned_at=timezone.now(), provisioned_by=city.itsa)
    _refused(reinstatement, city.itsa2, "end-user access")
    assert SodFinding.objects.filter(person=city.itsa2, stage=SodFinding.Stage.PROVISIONING).exists()
    _refused(reinstatement, city.officer, "Only ITSA")


def test_a_reinstatement_that_would_break_separation_of_duties_is_refused(city, reinstatement):
    """S3.2c: the person was made an administrator of the VMS while on leave: their end-user access
    cannot come back beside it."""
    Grant.objects.create(person=city.officer, system=city.vms, department=city.police,
                         role=Grant.Role.ADMINISTRATOR, account_name="olive-admin", provisioned_at=timezone.now(),
                         provisioned_by=city.itsa)
    _refused(reinstatement, city.itsa, "cannot also be an end user of it")
    assert AuditEvent.objects.filter(action="access_request.provision", outcome="refused").exists()
    assert SodFinding.objects.filter(person=city.officer, stage=SodFinding.Stage.PROVISIONING).exists()


# --- The pages --------------------------------------------------------------------------------------

def _status_change_url(person):
    return reverse("requests:status_change", args=[person.pk])


def test_the_heads_form_offers_a_return_only_for_a_person_on_leave(city, client, grants):
    """S3.5c"""
    client.force_login(city.head)
    assert 'value="returned"' not in client.get(_status_change_url(city.officer)).content.decode()

    _on_leave(city)
    page = client.get(_status_change_url(city.officer)).content.decode()
    assert 'value="returned"' in page and "Returned from leave" in page


def test_the_head_reports_a_return_and_the_leaves_suspensions_are_queued(city, client, grants):
    """S3.5c: through the page, the same service as the roster."""
    _on_leave(city)
    client.force_login(city.head)

    response = client.post(_status_change_url(city.officer),
                           {"kind": "returned", "effective_date": timezone.localdate().isoformat(), "note": ""})

    assert response.status_code == 302
    assert "2 grants queued for ITSA to reinstate" in messages_of(response, levels=False)[-1]
    assert AccessRequest.objects.filter(action=REINSTATE, status=AccessRequest.Status.WITH_ITSA).count() == 2


def test_a_return_posted_for_a_person_at_work_is_refused_on_the_form(city, client, grants):
    """S3.5c: the way around the form's choices (posting the value anyway) changes nothing."""
    client.force_login(city.head)

    response = client.post(_status_change_url(city.officer),
                           {"kind": "returned", "effective_date": timezone.localdate().isoformat(), "note": ""})

    assert response.status_code == 200 and "returned is not one of the available choices" in response.content.decode()
    assert not StatusChange.objects.exists()


def test_itsa_sees_the_reinstatement_in_its_queue_and_carries_it_out(city, client, reinstatement):
    """S3.5a S3.5b"""
    client.force_login(city.itsa)

    queue = client.get(reverse("requests:queue")).content.decode()
    assert reinstatement.reference in queue and "Reinstate access" in queue
    detail = client.get(reinstatement.get_absolute_url()).content.decode()
    assert "Confirm the account is reinstated" in detail and "Returned from leave" in detail

    response = client.post(reverse("requests:provision", args=[reinstatement.pk]), {"account_name": ""})

    assert response.status_code == 302
    reinstatement.refresh_from_db()
    assert reinstatement.status == AccessRequest.Status.COMPLETED
    assert _status(reinstatement.grant) == Grant.Status.ACTIVE


def test_itsa_is_told_on_the_page_why_a_reinstatement_is_refused(city, client, reinstatement):
    """S3.5b: a refusal is a message on the page, never an error."""
    User.objects.filter(pk=city.officer.pk).update(employment_status=User.EmploymentStatus.ON_LEAVE)
    client.force_login(city.itsa)

    response = client.post(reverse("requests:provision", args=[reinstatement.pk]), {"account_name": ""})

    assert response.status_code in (200, 302)
    page = response.content.decode() if response.status_code == 200 else client.get(response.url).content.decode()
    assert "on leave now" in page
    assert _status(reinstatement.grant) == Grant.Status.SUSPENDED
