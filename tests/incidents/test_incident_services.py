"""Incidents of willful unauthorized access or abuse (S5.2): reporting, anonymity, suspension pending
review, the corrective action and closure. Every decision names its decider, never the reporter nor
the person concerned."""

import re
from datetime import timedelta

import pytest
from django.db import transaction
from django.utils import timezone

from accounts.models import Grant
from accounts.services import grant_open, grant_set_status
from incidents.services import incident_close, incident_report, incident_suspend, may_close, may_suspend, seed_demo_incidents
from incidents.selectors import incidents_visible_to, is_reporter, reporter_digest
from incidents.models import Incident
from portal import audit as portal_audit
from portal.errors import NotAllowed, RuleViolation
from portal.models import AuditEvent, OutgoingEmail

ABUSE = Incident.Nature.ABUSE
WHAT = "Watched a neighbour's house on the VMS for hours, with no case."



def _vms_grant(city):
    """The analyst's end-user grant on the VMS, opened as ITSA's provisioning opens it."""
    with transaction.atomic():
        return grant_open(person=city.analyst, system=city.vms, department=city.police, role="end_user",
                          account_name="andy-vms", permissible_uses=[city.crime_detection], by=city.itsa)

def _report(city, *, by=None, person="analyst", system="vms", anonymous=False, nature=ABUSE, description=WHAT,
            occurred_on=None):
    return incident_report(
        nature=nature, description=description, occurred_on=occurred_on,
        person=getattr(city, person) if isinstance(person, str) else person,
        system=getattr(city, system) if isinstance(system, str) else system,
        anonymous=anonymous, by=by or city.officer,
    )


def _analyst_grants(city):
    """The analyst's end-user grant on the VMS and one on the plate readers."""
    vms = _vms_grant(city)
    with transaction.atomic():
        lpr = grant_open(person=city.analyst, system=city.lpr, department=city.police, role="end_user",
                         account_name="andy-lpr", permissible_uses=[], by=city.itsa)
    return vms, lpr


def _mails(subject_part):
    return [m for m in OutgoingEmail.objects.order_by("pk") if subject_part in m.subject]


@pytest.fixture
def client_address():
    """The service runs as if a page from this address had called it."""
    token = portal_audit._client_ip.set("198.51.100.7")
    yield "198.51.100.7"
    portal_audit._client_ip.reset(token)


# --- Reporting ----------------------------------------------------------------------------------

def test_a_named_report_is_documented_at_once_and_the_designee_is_told(city, client_address):
    """S5.2: the nature, who and what it concerns, documented at once; the Mayor's designee is e-mailed."""
    incident = _report(city, occurred_on=timezone.localdate())

    year = timezone.localdate().year
    assert incident.reference == f"INC-{year}-0001"
    assert incident.status == Incident.Status.OPEN and not incident.anonymous
    assert incident.reported_by == city.officer and incident.person == city.analyst and incident.system == city.vms
    assert re.fullmatch(r"[0-9a-f]{64}", incident.reporter_digest)
    assert is_reporter(incident=incident, user=city.officer) and not is_reporter(incident=incident, user=city.head)
    created = incident.history.get()
    assert created.history_user == city.officer
    event = AuditEvent.objects.get(action="incident.report")
    assert event.actor == city.officer and event.ip_address == client_address
    [mail] = _mails("Incident reported")
    assert mail.to == [city.designee.email]
    assert "Willful abuse" in mail.body and "Andy Analyst" in mail.body and "Citywide VMS" in mail.body
    assert f"/incidents/{incident.pk}/" in mail.body and "Olive Officer" in mail.body
    assert WHAT not in mail.body  # the description stays behind the sign-in


def test_references_count_up_within_the_year(city):
    """S5.2"""
    first, second = _report(city), _report(city, person="head")
    assert int(second.reference.rsplit("-", 1)[1]) == int(first.reference.rsplit("-", 1)[1]) + 1


def test_an_anonymous_report_leaves_no_trace_of_the_reporter(city, client_address):
    """S5.2 and the whistleblower protection of margin comment JC28: no name in the row, its
    history, the audit trail or the mail; only the keyed digest knows."""
    officer = city.officer
    incident = _report(city, anonymous=True)
    incident.refresh_from_db()

    assert incident.anonymous and incident.reported_by is None
    assert is_reporter(incident=incident, user=officer)
    for record in incident.history.all():
        assert record.history_user_id is None and record.reported_by_id is None
        assert not hasattr(record, "reporter_digest")
    [event] = AuditEvent.objects.filter(target__startswith=incident.reference)
    assert event.actor is None and event.ip_address is None and event.detail == "anonymous report"
    assert not AuditEvent.objects.filter(actor=officer, at__gte=incident.reported_at).exists()
    [mail] = _mails("Incident reported")
    assert mail.to == [city.designee.email]
    for trace in (officer.full_name, officer.email, "Olive"):
        assert trace not in mail.subject and trace not in mail.body
    assert "anonymous" in mail.body


def test_the_digest_is_keyed_so_nobody_can_recompute_it_without_the_secret(city, settings):
    """S5.2: the digest names nobody to whoever reads the table."""
    incident = _report(city, anonymous=True)
    settings.SECRET_KEY = "another secret entirely, long enough to be a real key"
    assert reporter_digest(user=city.officer, reference=incident.reference) != incident.reporter_digest
    assert not is_reporter(incident=incident, user=city.officer)


@pytest.mark.parametrize("description", ["", "   ", "\x00\x00"])
def test_the_description_is_required(city, description):
    """S5.2: the nature of the incident is documented."""
    with pytest.raises(RuleViolation) as refusal:
        _report(city, description=description)
    assert refusal.value.field == "description"
    assert not Incident.objects.exists() and not _mails("Incident")


def test_the_day_it_happened_cannot_be_in_the_future(city):
    """S5.2"""
    with pytest.raises(RuleViolation) as refusal:
        _report(city, occurred_on=timezone.localdate() + timedelta(days=1))
    assert refusal.value.field == "occurred_on"
    assert not Incident.objects.exists()
    assert _report(city, occurred_on=timezone.localdate()).occurred_on == timezone.localdate()


def test_nobody_reports_themselves_as_the_person_concerned(city):
    """S5.2"""
    with pytest.raises(RuleViolation, match="cannot report yourself") as refusal:
        _report(city, person="officer")
    assert refusal.value.field == "person"
    assert not Incident.objects.exists()


def test_an_unknown_nature_is_refused(city):
    """S5.2"""
    with pytest.raises(RuleViolation):
        _report(city, nature="gossip")
    assert not Incident.objects.exists()


def test_a_report_may_name_nobody_and_no_system(city):
    """S5.2: the reporter may not know who it was."""
    incident = _report(city, person=None, system=None)
    assert incident.person is None and incident.system is None
    assert "not named" in _mails("Incident reported")[0].body


# --- Who sees what ------------------------------------------------------------------------------

def test_designees_and_itsa_see_every_incident_a_named_reporter_their_own_and_nobody_else_any(city):
    """S5.2"""
    named = _report(city)
    anonymous = _report(city, anonymous=True, person="head")
    about_itsa2 = _report(city, by=city.requester, person="itsa2")

    for user in (city.designee, city.itsa):
        assert set(incidents_visible_to(user)) == {named, anonymous, about_itsa2}
    assert set(incidents_visible_to(city.officer)) == {named}  # not the anonymous one
    assert set(incidents_visible_to(city.requester)) == {about_itsa2}
    assert set(incidents_visible_to(city.itsa2)) == {named, anonymous}  # never the one about them
    assert not incidents_visible_to(city.analyst).exists()  # the person concerned
    assert not incidents_visible_to(city.head).exists()  # concerned by the anonymous one, reporter of none
    assert not incidents_visible_to(city.outsider).exists()


# --- Suspension pending review ------------------------------------------------------------------

def test_the_designee_suspends_every_active_grant_of_the_person_at_once(city):
    """S5.2 and margin comment JC28: immediate suspension on a good-faith complaint."""
    vms, lpr = _analyst_grants(city)
    with transaction.atomic():
        removed = grant_open(person=city.analyst, system=city.traffic, department=city.police, role="end_user",
                             account_name="andy-traffic", permissible_uses=[], by=city.itsa)
        grant_set_status(grant=removed, status=Grant.Status.REMOVED, by=city.itsa)
    incident = _report(city)
    OutgoingEmail.objects.all().delete()

    assert may_suspend(incident=incident, user=city.designee)
    incident = incident_suspend(incident=incident, reason="Good-faith complaint.", by=city.designee)

    assert set(incident.suspended_grants.all()) == {vms, lpr}
    for grant in (vms, lpr):
        grant.refresh_from_db()
        assert grant.status == Grant.Status.SUSPENDED
    removed.refresh_from_db()
    assert removed.status == Grant.Status.REMOVED
    assert incident.suspended_by == city.designee and incident.suspended_at is not None
    event = AuditEvent.objects.get(action="incident.suspend")
    assert event.actor == city.designee and "Good-faith complaint." in event.detail
    [to_itsa] = _mails("Suspend now")
    assert to_itsa.to == sorted([city.itsa.email, city.itsa2.email])
    assert "andy-vms" in to_itsa.body and "andy-lpr" in to_itsa.body
    [to_head] = _mails("Access suspended pending review")
    assert to_head.to == [city.head.email]
    assert f"/incidents/{incident.pk}/" not in to_head.body  # the head cannot open it
    assert not may_suspend(incident=incident, user=city.designee)


def test_itsa_may_suspend_too(city):
    """S5.2"""
    vms, _ = _analyst_grants(city)
    incident = incident_suspend(incident=_report(city), by=city.itsa)
    vms.refresh_from_db()
    assert incident.suspended_by == city.itsa and vms.status == Grant.Status.SUSPENDED



def test_an_itsa_member_with_end_user_access_to_a_system_concerned_does_not_suspend(city):
    """S3.2c: suspending an account on a system is administering it; another member of ITSA or the
    designee does it."""
    vms, _ = _analyst_grants(city)
    with transaction.atomic():
        grant_open(person=city.itsa2, system=city.vms, department=city.police, role=Grant.Role.END_USER,
                   account_name="ike-vms", permissible_uses=[], by=city.itsa)

    with pytest.raises(NotAllowed, match="administering it"):
        incident_suspend(incident=_report(city), by=city.itsa2)

    vms.refresh_from_db()
    assert vms.status == Grant.Status.ACTIVE
    assert AuditEvent.objects.filter(action="incident.suspend", outcome="refused", actor=city.itsa2).exists()

@pytest.mark.parametrize("role", ["head", "requester", "outsider", "officer"])
def test_only_itsa_or_the_designee_suspends(city, role):
    """S5.2"""
    vms, _ = _analyst_grants(city)
    incident = _report(city, by=city.streets_worker)
    with pytest.raises(NotAllowed):
        incident_suspend(incident=incident, by=getattr(city, role))
    incident.refresh_from_db()
    vms.refresh_from_db()
    assert incident.suspended_at is None and vms.status == Grant.Status.ACTIVE
    assert AuditEvent.objects.filter(action="incident.suspend", outcome="denied",
                                     actor=getattr(city, role)).exists()


def test_a_named_reporter_never_suspends_on_their_own_report(city):
    """S5.2: the decider is never the person who reported."""
    vms, _ = _analyst_grants(city)
    incident = _report(city, by=city.itsa)
    assert not may_suspend(incident=incident, user=city.itsa)
    with pytest.raises(NotAllowed, match="You reported this incident"):
        incident_suspend(incident=incident, by=city.itsa)
    vms.refresh_from_db()
    assert vms.status == Grant.Status.ACTIVE
    assert incident_suspend(incident=incident, by=city.itsa2).suspended_by == city.itsa2


def test_an_anonymous_reporter_is_known_by_the_digest_and_never_suspends(city):
    """S5.2: anonymity does not let the reporter decide; the refusal does not say they reported."""
    vms, _ = _analyst_grants(city)
    incident = _report(city, by=city.designee, anonymous=True)
    assert not may_suspend(incident=incident, user=city.designee)
    with pytest.raises(NotAllowed):
        incident_suspend(incident=incident, by=city.designee)
    vms.refresh_from_db()
    assert vms.status == Grant.Status.ACTIVE
    refusal = AuditEvent.objects.get(action="incident.suspend", outcome="denied")
    assert refusal.actor == city.designee and "report" not in refusal.detail.lower()
    incident.refresh_from_db()
    assert incident.reported_by is None
    assert incident_suspend(incident=incident, by=city.itsa).suspended_by == city.itsa


def test_the_person_concerned_never_suspends_or_closes(city):
    """S5.2: nobody decides on an incident about themselves."""
    incident = _report(city, person="itsa2")
    with transaction.atomic():
        grant_open(person=city.itsa2, system=city.lpr, department=city.police, role="auditor",
                   account_name="ike-audit", permissible_uses=[], by=city.itsa)
    assert not may_suspend(incident=incident, user=city.itsa2)
    with pytest.raises(NotAllowed, match="concerns you"):
        incident_suspend(incident=incident, by=city.itsa2)
    assert not Grant.objects.filter(person=city.itsa2, status=Grant.Status.SUSPENDED).exists()

    about_designee = _report(city, person="designee")
    assert not may_close(incident=about_designee, user=city.designee)
    with pytest.raises(NotAllowed, match="concerns you"):
        incident_close(incident=about_designee, corrective_action="Nothing found.", by=city.designee)
    about_designee.refresh_from_db()
    assert about_designee.status == Incident.Status.OPEN


def test_a_report_naming_nobody_suspends_nothing(city):
    """S5.2"""
    incident = _report(city, person=None)
    assert not may_suspend(incident=incident, user=city.designee)
    with pytest.raises(RuleViolation, match="names nobody"):
        incident_suspend(incident=incident, by=city.designee)
    incident.refresh_from_db()
    assert incident.suspended_at is None


def test_a_person_with_no_active_access_has_nothing_to_suspend(city):
    """S5.2"""
    incident = _report(city)
    with pytest.raises(RuleViolation, match="no active access"):
        incident_suspend(incident=incident, by=city.designee)
    incident.refresh_from_db()
    assert incident.suspended_at is None


def test_suspending_twice_changes_nothing_more(city):
    """S5.2: a double submit has one effect."""
    _analyst_grants(city)
    incident = incident_suspend(incident=_report(city), by=city.designee)
    first_at = incident.suspended_at
    mails, events = OutgoingEmail.objects.count(), AuditEvent.objects.count()

    again = incident_suspend(incident=incident, by=city.itsa)

    assert again.suspended_by == city.designee and again.suspended_at == first_at
    assert OutgoingEmail.objects.count() == mails and AuditEvent.objects.count() == events


def test_nothing_is_suspended_under_a_closed_incident(city):
    """S5.2"""
    vms, _ = _analyst_grants(city)
    incident = incident_close(incident=_report(city), corrective_action="Unfounded.", by=city.designee)
    with pytest.raises(RuleViolation, match="closed"):
        incident_suspend(incident=incident, by=city.itsa)
    vms.refresh_from_db()
    assert vms.status == Grant.Status.ACTIVE


# --- Closure ------------------------------------------------------------------------------------

@pytest.mark.parametrize("text", ["", "  \n ", "\x00"])
def test_closing_needs_the_corrective_action(city, text):
    """S5.2: documentation includes the corrective action taken."""
    incident = _report(city)
    with pytest.raises(RuleViolation) as refusal:
        incident_close(incident=incident, corrective_action=text, by=city.designee)
    assert refusal.value.field == "corrective_action"
    incident.refresh_from_db()
    assert incident.status == Incident.Status.OPEN and incident.closed_by is None


def test_the_designee_closes_and_the_suspended_access_stays_suspended(city):
    """S5.2: the corrective action and the closure are recorded, with their decider."""
    vms, lpr = _analyst_grants(city)
    incident = incident_suspend(incident=_report(city), by=city.itsa)
    assert may_close(incident=incident, user=city.designee)

    incident = incident_close(incident=incident, corrective_action="Written warning; retraining.", by=city.designee)

    assert incident.status == Incident.Status.CLOSED
    assert incident.corrective_action == "Written warning; retraining."
    assert incident.closed_by == city.designee and incident.closed_at is not None
    for grant in (vms, lpr):
        grant.refresh_from_db()
        assert grant.status == Grant.Status.SUSPENDED
    assert AuditEvent.objects.get(action="incident.close").actor == city.designee
    [mail] = _mails("Incident closed")
    assert set(mail.to) == {city.itsa.email, city.itsa2.email, city.head.email}
    assert "stays suspended" in mail.body and "removal request" in mail.body


def test_closing_may_reinstate_the_access_this_incident_suspended(city):
    """S5.2: the review found nothing; the access comes back."""
    vms, lpr = _analyst_grants(city)
    incident = incident_suspend(incident=_report(city), by=city.designee)
    with transaction.atomic():
        grant_set_status(grant=lpr, status=Grant.Status.REMOVED, by=city.itsa)  # removed meanwhile

    incident_close(incident=incident, corrective_action="Unfounded.", reinstate=True, by=city.designee)

    vms.refresh_from_db()
    lpr.refresh_from_db()
    assert vms.status == Grant.Status.ACTIVE and lpr.status == Grant.Status.REMOVED
    [mail] = _mails("access reinstated")
    assert "reactivate" in mail.body and vms.account_name in mail.body and "andy-lpr" not in mail.body


def test_a_reinstatement_that_would_break_separation_of_duties_is_refused_whole(city):
    """S5.2 with S3.2: nothing half-written; the message says what to do."""
    vms, _ = _analyst_grants(city)
    incident = incident_suspend(incident=_report(city), by=city.designee)
    # A staff grant on the same system, made while the end-user grant was suspended (legacy data).
    Grant.objects.create(person=city.analyst, system=city.vms, department=city.police, role="administrator",
                         account_name="andy-admin", provisioned_at=timezone.now(), provisioned_by=city.itsa)

    with pytest.raises(RuleViolation, match="cannot be reinstated") as refusal:
        incident_close(incident=incident, corrective_action="Unfounded.", reinstate=True, by=city.designee)

    assert refusal.value.field == "reinstate"
    incident.refresh_from_db()
    vms.refresh_from_db()
    assert incident.status == Incident.Status.OPEN and vms.status == Grant.Status.SUSPENDED


@pytest.mark.parametrize("role", ["itsa", "head", "officer"])
def test_only_the_designee_closes(city, role):
    """S5.2: the designee documents the corrective action."""
    incident = _report(city, by=city.requester)
    with pytest.raises(NotAllowed):
        incident_close(incident=incident, corrective_action="Done.", by=getattr(city, role))
    incident.refresh_from_db()
    assert incident.status == Incident.Status.OPEN


def test_the_reporter_never_closes_even_when_anonymous(city):
    """S5.2"""
    for anonymous in (False, True):
        incident = _report(city, by=city.designee, anonymous=anonymous)
        assert not may_close(incident=incident, user=city.designee)
        with pytest.raises(NotAllowed):
            incident_close(incident=incident, corrective_action="Done.", by=city.designee)
        incident.refresh_from_db()
        assert incident.status == Incident.Status.OPEN


def test_closing_twice_changes_nothing_more(city):
    """S5.2"""
    incident = incident_close(incident=_report(city), corrective_action="First.", by=city.designee)
    again = incident_close(incident=incident, corrective_action="Second.", by=city.designee)
    again.refresh_from_db()
    assert again.corrective_action == "First."
    assert AuditEvent.objects.filter(action="incident.close").count() == 1


# --- The demo -----------------------------------------------------------------------------------

def test_the_demo_incident_is_an_open_named_report_with_the_access_suspended_by_itsa(city):
    """S5.2"""
    vms = _vms_grant(city)
    incident = seed_demo_incidents(reporter=city.officer, person=city.analyst, system=city.vms, itsa=city.itsa)

    assert incident.status == Incident.Status.OPEN and incident.nature == Incident.Nature.ABUSE
    assert incident.reported_by == city.officer and not incident.anonymous
    assert incident.suspended_by == city.itsa and list(incident.suspended_grants.all()) == [vms]
    again = seed_demo_incidents(reporter=city.officer, person=city.analyst, system=city.vms, itsa=city.itsa)
    assert again == incident and Incident.objects.count() == 1
