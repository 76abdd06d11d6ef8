"""The oversight role: auditors read every department's records and change nothing; ITSA asks for an
appointment, the Mayor's designee decides it, ITSA or the designee ends it (issue "The order, read
closely": an oversight role). Whoever audits holds no access to any system (S3.2a)."""

from datetime import timedelta

import pytest
from conftest import file_request, messages_of, provisioned, signed_in_client
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from access_requests.selectors import access_requests_visible_to
from access_requests.services import access_request_approve
from accounts.forms import PersonChangeForm
from accounts.models import OVERSIGHT_GROUP, Grant, User
from accounts.selectors import grants_visible_to, people_visible_to
from accounts.services import grant_open, role_group
from audits.selectors import validations_visible_to
from audits.services import open_due_validations
from incidents.models import Incident
from incidents.selectors import incidents_visible_to
from incidents.services import ANONYMOUS_REPORTER, incident_report
from portal.errors import NotAllowed, RuleViolation
from portal.models import AuditEvent, IntendedUse
from security.models import OversightAppointment
from security.oversight import (
    oversight_decide, oversight_end, oversight_end_expired, oversight_propose, oversight_withdraw,
)
from security.services import second_factor_required
from waivers.selectors import waivers_visible_to
from waivers.services import waiver_request

Status = OversightAppointment.Status


def _person(email="ivy@audit.city.example", name="Ivy Inspector"):
    return User.objects.create_user(email, full_name=name, password="a long enough passphrase 1")


def _appointed(city, person=None, **kwargs):
    person = person or _person()
    appointment = oversight_propose(person=person, body="Office of the Internal Auditor",
                                    purpose="The yearly audit of surveillance access.", by=city.itsa, **kwargs)
    return oversight_decide(appointment=appointment, approve=True, reason="Audit plan 2027.", by=city.designee)


def _in_group(person) -> bool:
    return person.groups.filter(name=OVERSIGHT_GROUP).exists()


def _fresh(person):
    return User.objects.get(pk=person.pk)


def test_itsa_asks_the_designee_approves_and_the_auditor_reads_every_department(city):
    """Oversight: ITSA asks, the designee approves, written to the audit trail; the auditor then reads
    every department's requests, grants, validations, waivers and incidents."""
    grant = provisioned(city).grant
    request = file_request(city, person=city.analyst)
    [validation] = open_due_validations()
    incident = incident_report(nature=Incident.Nature.ABUSE, description="Watched a neighbour.", person=city.officer,
                               system=city.vms, by=city.head)
    waiver = waiver_request(department=city.police, intended_use=IntendedUse.objects.get(code="public-safety"),
                            permissible_use=None, deviation="Wider coverage.", basis="safety",
                            justification="A crowd of 60,000.", grants=[grant], starts_on=timezone.localdate(), days=3,
                            by=city.head)
    person = _person()
    appointment = oversight_propose(person=person, body="Civilian Oversight Board", purpose="Quarterly review.",
                                    by=city.itsa)
    assert appointment.status == Status.PROPOSED and not _in_group(person)
    auditor = _fresh(person)
    assert not access_requests_visible_to(auditor).exists()

    oversight_decide(appointment=appointment, approve=True, reason="Board resolution 12.", by=city.designee)

    auditor = _fresh(person)
    assert auditor.roles.is_oversight and auditor.roles.reads_every_department
    assert request in access_requests_visible_to(auditor)
    assert grant in grants_visible_to(auditor)
    assert city.officer in people_visible_to(auditor) and city.streets_worker in people_visible_to(auditor)
    assert validation in validations_visible_to(auditor)
    assert incident in incidents_visible_to(auditor)
    assert waiver in waivers_visible_to(auditor)
    actions = set(AuditEvent.objects.filter(target=str(appointment)).values_list("action", flat=True))
    assert {"oversight.propose", "oversight.approve"} <= actions


def test_only_itsa_asks_and_only_a_designee_who_did_not_ask_decides(city):
    """Oversight: granted by ITSA with the designee's approval; nobody approves their own request."""
    person = _person()
    with pytest.raises(NotAllowed):
        oversight_propose(person=person, body="Internal Auditor", purpose="Audit.", by=city.head)
    with pytest.raises(NotAllowed):
        oversight_propose(person=person, body="Internal Auditor", purpose="Audit.", by=city.designee)
    assert AuditEvent.objects.filter(action="oversight.propose", outcome="denied").count() == 2

    both = _person("both@city.example", "Bea Both")
    both.groups.add(role_group("ITSA administrators"), role_group("Mayor's designees"))
    both = _fresh(both)
    appointment = oversight_propose(person=person, body="Internal Auditor", purpose="Audit.", by=both)
    with pytest.raises(NotAllowed, match="another designee"):
        oversight_decide(appointment=appointment, approve=True, reason="Fine.", by=both)
    with pytest.raises(NotAllowed):
        oversight_decide(appointment=appointment, approve=True, reason="Fine.", by=city.itsa)
    assert _fresh(appointment.person).roles.is_oversight is False
    assert OversightAppointment.objects.get(pk=appointment.pk).status == Status.PROPOSED


def test_who_acts_on_the_records_or_holds_access_cannot_oversee(city):
    """S3.2a: nobody audits a system they have access to; those whose work oversight reads do not
    oversee it (ITSA, designees, heads, requesters)."""
    grant = provisioned(city).grant
    for person, words in ((grant.person, "holds access"), (city.itsa2, "ITSA administrators"),
                          (city.head, "heads or files requests")):
        with pytest.raises(RuleViolation, match=words):
            oversight_propose(person=person, body="Internal Auditor", purpose="Audit.", by=city.itsa)
    third = _person("t@vendor.example", "Tom Third")
    third.organization = "Vendor Inc."
    third.save()
    with pytest.raises(RuleViolation, match="third party"):
        oversight_propose(person=third, body="Internal Auditor", purpose="Audit.", by=city.itsa)
    assert not OversightAppointment.objects.exists()


def test_an_auditor_cannot_be_given_access_to_any_system(city):
    """S3.2a, the way around: once appointed, a grant on any system is refused, whatever the role."""
    auditor = _appointed(city).person
    for role in (Grant.Role.END_USER, Grant.Role.AUDITOR):
        with pytest.raises(RuleViolation, match="reads every department's records for oversight"), \
                transaction.atomic():
            grant_open(person=auditor, system=city.vms, department=city.police, role=role, account_name="ivy",
                       permissible_uses=[city.crime_detection], by=city.itsa)
    assert not Grant.objects.filter(person=auditor).exists()


def test_the_auditor_changes_nothing(city):
    """Oversight: read only. A service asked by an auditor refuses, as for anyone without the role."""
    auditor = _fresh(_appointed(city).person)
    request = file_request(city, person=city.analyst)
    with pytest.raises(NotAllowed):
        access_request_approve(request=request, by=auditor)
    with pytest.raises(NotAllowed):
        oversight_propose(person=_person("x@city.example", "Xavier"), body="Board", purpose="Audit.", by=auditor)


def test_the_admin_cannot_add_or_drop_the_role_outside_an_appointment(city):
    """Oversight, the way around: the person admin's group box neither gives nor takes the role."""
    person = _person()
    group = role_group(OVERSIGHT_GROUP)
    data = {"email": person.email, "full_name": person.full_name, "employment_status": "active",
            "date_joined": person.date_joined.strftime("%Y-%m-%d %H:%M:%S"), "is_active": "on"}
    form = PersonChangeForm(data={**data, "groups": [group.pk]}, instance=person)
    assert not form.is_valid() and "Oversight appointments page" in str(form.errors["groups"])

    auditor = _appointed(city, person=_person("audrey@audit.city.example", "Audrey Auditor")).person
    form = PersonChangeForm(data={**data, "email": auditor.email, "groups": []}, instance=auditor)
    assert not form.is_valid() and "groups" in form.errors
    form = PersonChangeForm(data={**data, "email": auditor.email, "groups": [group.pk]}, instance=auditor)
    assert "groups" not in form.errors


def test_ending_takes_the_role_away_at_once_and_is_recorded(city):
    """Oversight: ended by ITSA or the designee at once, with a reason, in the audit trail."""
    appointment = _appointed(city)
    with pytest.raises(NotAllowed):
        oversight_end(appointment=appointment, reason="Done.", by=city.head)
    with pytest.raises(RuleViolation, match="reason"):
        oversight_end(appointment=appointment, reason="  ", by=city.itsa)
    oversight_end(appointment=appointment, reason="The audit is finished.", by=city.itsa)
    auditor = _fresh(appointment.person)
    assert not auditor.roles.is_oversight
    assert not access_requests_visible_to(auditor).exists()
    appointment.refresh_from_db()
    assert appointment.status == Status.ENDED and appointment.ended_by == city.itsa
    assert AuditEvent.objects.filter(action="oversight.end", target=str(appointment)).exists()


def test_an_appointment_with_a_last_day_ends_by_itself(city):
    """Oversight: an appointment ends after its last day, and its read access with it."""
    today = timezone.localdate()
    appointment = _appointed(city, ends_on=today + timedelta(days=10))
    assert oversight_end_expired(today=today + timedelta(days=10)) == 0
    assert _fresh(appointment.person).roles.is_oversight
    assert oversight_end_expired(today=today + timedelta(days=11)) == 1
    appointment.refresh_from_db()
    assert appointment.status == Status.ENDED and appointment.ended_by is None
    assert not _fresh(appointment.person).roles.is_oversight


def test_one_open_appointment_per_person_and_withdrawal(city):
    person = _person()
    appointment = oversight_propose(person=person, body="Internal Auditor", purpose="Audit.", by=city.itsa)
    with pytest.raises(RuleViolation, match="already has an oversight appointment"):
        oversight_propose(person=person, body="Board", purpose="Audit.", by=city.itsa)
    oversight_withdraw(appointment=appointment, by=city.itsa)
    with pytest.raises(RuleViolation, match="already decided"):
        oversight_decide(appointment=appointment, approve=True, reason="Fine.", by=city.designee)
    assert oversight_propose(person=person, body="Board", purpose="Audit.", by=city.itsa).status == Status.PROPOSED


def test_auditors_need_a_second_factor(city):
    """S3.10: whoever reads every department's records signs in with a second factor."""
    auditor = _fresh(_appointed(city).person)
    assert second_factor_required(auditor)


def test_the_anonymous_reporter_stays_unknown_to_the_auditor(city):
    """Oversight reads incidents without the reporter of an anonymous one (S5.2)."""
    incident = incident_report(nature=Incident.Nature.ABUSE, description="Browsed footage of a home.",
                               person=city.analyst, system=city.vms, anonymous=True, by=city.officer)
    auditor = _fresh(_appointed(city).person)
    client = signed_in_client()
    client.force_login(auditor)
    page = client.get(reverse("incidents:detail", args=[incident.pk]))
    assert page.status_code == 200
    text = page.content.decode()
    assert ANONYMOUS_REPORTER in text and city.officer.full_name not in text
    log = client.get(reverse("audit_log"), {"action": "incident.report"})
    assert log.status_code == 200 and city.officer.email not in log.content.decode()


# --- The pages ---------------------------------------------------------------------------------------

def test_itsa_asks_on_the_page_and_the_designee_decides_there(city):
    person = _person()
    client = signed_in_client()
    client.force_login(city.itsa)
    assert "Ask for an appointment" in client.get(reverse("security:oversight_list")).content.decode()
    response = client.post(reverse("security:oversight_new"), {
        "person": person.pk, "body": "Office of the Internal Auditor", "purpose": "Yearly audit."})
    appointment = OversightAppointment.objects.get(person=person)
    assert response.status_code == 302 and response["Location"] == appointment.get_absolute_url()

    client.force_login(city.designee)
    page = client.get(appointment.get_absolute_url()).content.decode()
    assert "Decide the appointment" in page
    response = client.post(reverse("security:oversight_decide", args=[appointment.pk]),
                           {"decision": "approve", "reason": "Audit plan."})
    assert response.status_code == 302
    assert _fresh(person).roles.is_oversight

    client.force_login(_fresh(person))
    home = client.get(reverse("home")).content.decode()
    assert "You read for oversight" in home and "Office of the Internal Auditor" in home
    assert "You have no role in the portal yet" not in home


def test_a_refused_appointment_shows_why_on_the_form(city):
    grant = provisioned(city).grant
    client = signed_in_client()
    client.force_login(city.itsa)
    response = client.post(reverse("security:oversight_new"), {
        "person": grant.person.pk, "body": "Board", "purpose": "Audit."})
    assert response.status_code == 400
    assert "holds access to" in response.content.decode()
    assert not OversightAppointment.objects.exists()
    response = client.post(reverse("security:oversight_new"), {"person": "not a number", "body": "", "purpose": ""})
    assert response.status_code == 400


def test_ending_on_the_page_needs_a_reason(city):
    appointment = _appointed(city)
    client = signed_in_client()
    client.force_login(city.designee)
    response = client.post(reverse("security:oversight_end", args=[appointment.pk]), {"reason": ""})
    assert response.status_code == 302
    assert "Write the reason" in " ".join(messages_of(response, levels=False))
    assert _fresh(appointment.person).roles.is_oversight
    client.post(reverse("security:oversight_end", args=[appointment.pk]), {"reason": "Term over."})
    assert not _fresh(appointment.person).roles.is_oversight
