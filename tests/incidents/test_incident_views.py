"""The incident pages (S5.2): the report form, the list, the record with its timeline, suspension and
closure. The pages call the services; a refusal shows its message; nothing names an anonymous
reporter."""

import time
from datetime import timedelta

import pytest
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from accounts.models import Grant
from accounts.services import grant_open
from incidents.services import incident_report, incident_suspend
from incidents.models import Incident
from portal.models import AuditEvent
from security.services import PASSWORD_AT

WHAT = "Looked up the car of a former partner on the plate readers."



def _vms_grant(city):
    """The analyst's end-user grant on the VMS, opened as ITSA's provisioning opens it."""
    with transaction.atomic():
        return grant_open(person=city.analyst, system=city.vms, department=city.police, role="end_user",
                          account_name="andy-vms", permissible_uses=[city.crime_detection], by=city.itsa)

def _report(city, *, by=None, anonymous=False, person=None):
    return incident_report(nature=Incident.Nature.UNAUTHORIZED_ACCESS, description=WHAT, person=person or city.analyst,
                           system=city.lpr, anonymous=anonymous, by=by or city.officer)


def _form(city, **changes):
    data = {"nature": "unauthorized_access", "description": WHAT, "occurred_on": "", "person": city.analyst.pk,
            "system": city.lpr.pk}
    data.update(changes)
    return {key: value for key, value in data.items() if value is not None}


def test_the_form_finds_people_lists_systems_and_explains_anonymity(client, city):
    """S5.2: anyone signed in reports; the pickers say nothing about who holds what."""
    client.force_login(city.streets_worker)
    response = client.get(reverse("incidents:new"))
    page = response.content.decode()
    assert response.status_code == 200
    assert "Andy Analyst" not in page and "Citywide VMS" in page
    found = client.get(reverse("incidents:new"), {"find": "person", "person_q": "andy"}).content.decode()
    assert "Andy Analyst — Police Department" in found
    assert "Report anonymously" in page and "will not record your name" in page


def test_an_anonymous_report_through_the_page_names_nobody_anywhere(client, city):
    """S5.2 and margin comment JC28: the row, its history, the trail, the pages."""
    client.force_login(city.officer)
    response = client.post(reverse("incidents:new"), _form(city, anonymous="on"), REMOTE_ADDR="203.0.113.9")

    incident = Incident.objects.get()
    assert response.status_code == 302 and response["Location"] == reverse("incidents:list")
    assert incident.anonymous and incident.reported_by is None
    assert [record.history_user_id for record in incident.history.all()] == [None]
    event = AuditEvent.objects.get(action="incident.report")
    assert event.actor is None and event.ip_address is None
    followed = client.get(response["Location"]).content.decode()
    assert incident.reference in followed and "kept no record that you sent it" in followed
    assert "You have no named report" in followed  # the message names it; the list does not

    client.force_login(city.designee)
    page = client.get(incident.get_absolute_url()).content.decode()
    assert WHAT in page and "Anonymous reporter" in page
    assert city.officer.full_name not in page and city.officer.email not in page
    # The officer may not open the anonymous report, even though they sent it.
    client.force_login(city.officer)
    assert client.get(incident.get_absolute_url()).status_code == 404


def test_a_named_report_leads_to_its_record(client, city):
    """S5.2"""
    client.force_login(city.officer)
    response = client.post(reverse("incidents:new"), _form(city, occurred_on=timezone.localdate().isoformat()))
    incident = Incident.objects.get()
    assert response.status_code == 302 and response["Location"] == incident.get_absolute_url()
    assert incident.reported_by == city.officer and incident.history.get().history_user == city.officer
    page = client.get(response["Location"]).content.decode()
    assert f"Your report {incident.reference} is documented" in page and WHAT in page
    # The reporter follows their report, but neither the person's accounts nor the case file.
    assert "Timeline" not in page and "Corrective action" not in page


@pytest.mark.parametrize(("changes", "message"), [
    ({"person": "self"}, "You cannot report yourself"),
    ({"occurred_on": "future"}, "cannot be in the future"),
    ({"description": "   "}, "Describe what happened."),
    ({"nature": None}, "Choose whether this is unauthorized access or abuse."),
])
def test_a_refused_report_says_why_and_saves_nothing(client, city, changes, message):
    """S5.2"""
    values = {"self": city.officer.pk, "future": (timezone.localdate() + timedelta(days=2)).isoformat()}
    changes = {key: values.get(value, value) for key, value in changes.items()}
    client.force_login(city.officer)
    response = client.post(reverse("incidents:new"), _form(city, **changes))
    assert response.status_code == 200
    assert message in response.content.decode() and "The report was not sent" in response.content.decode()
    assert not Incident.objects.exists()


def test_the_list_shows_the_designee_everything_with_a_status_filter(client, city):
    """S5.2"""
    open_one = _report(city)
    closed = _report(city, anonymous=True, person=city.head)
    Incident.objects.filter(pk=closed.pk).update(status=Incident.Status.CLOSED)
    client.force_login(city.designee)

    page = client.get(reverse("incidents:list")).content.decode()
    assert open_one.reference in page and closed.reference in page
    filtered = client.get(reverse("incidents:list"), {"status": "closed"}).content.decode()
    assert closed.reference in filtered and open_one.reference not in filtered
    assert client.get(reverse("incidents:list"), {"status": "bogus", "page": "x"}).status_code == 200


def test_the_list_shows_others_only_their_named_reports(client, city):
    """S5.2: an anonymous report is nobody's in the list; the person concerned sees nothing."""
    named = _report(city)
    anonymous = _report(city, anonymous=True)
    client.force_login(city.officer)
    page = client.get(reverse("incidents:list")).content.decode()
    assert named.reference in page and anonymous.reference not in page
    client.force_login(city.analyst)
    page = client.get(reverse("incidents:list")).content.decode()
    assert named.reference not in page and "You have no named report" in page
    assert client.get(named.get_absolute_url()).status_code == 404


def test_the_designee_suspends_from_the_record(client, city):
    """S5.2, margin comment JC28"""
    grant = _vms_grant(city)
    incident = _report(city)
    client.force_login(city.designee)
    page = client.get(incident.get_absolute_url()).content.decode()
    assert "Suspend Andy Analyst’s access" in page

    response = client.post(reverse("incidents:suspend", args=[incident.pk]), {"reason": "Good-faith complaint."})

    assert response.status_code == 302
    grant.refresh_from_db()
    assert grant.status == Grant.Status.SUSPENDED
    page = client.get(incident.get_absolute_url()).content.decode()
    assert "access is suspended pending review (1 account)" in page
    assert grant.account_name in page and "Dana Designee" in page
    assert "Suspend Andy Analyst’s access" not in page


def test_a_refused_suspension_shows_its_message(client, city):
    """S5.2: the anonymous reporter, known by the digest, is refused; the page says why."""
    grant = _vms_grant(city)
    incident = _report(city, by=city.designee, anonymous=True)
    client.force_login(city.designee)
    page = client.get(incident.get_absolute_url()).content.decode()
    assert "Suspend Andy Analyst" not in page and "Record the corrective action" not in page

    response = client.post(reverse("incidents:suspend", args=[incident.pk]), follow=True)

    assert "somebody else must decide" in response.content.decode()
    grant.refresh_from_db()
    assert grant.status == Grant.Status.ACTIVE


def test_closing_without_the_corrective_action_is_refused_with_a_message(client, city):
    """S5.2"""
    incident = _report(city)
    client.force_login(city.designee)
    response = client.post(reverse("incidents:close", args=[incident.pk]), {"corrective_action": ""}, follow=True)
    assert "Write the corrective action taken" in response.content.decode()
    incident.refresh_from_db()
    assert incident.status == Incident.Status.OPEN


def test_closing_with_reinstatement_through_the_page(client, city):
    """S5.2"""
    grant = _vms_grant(city)
    incident = incident_suspend(incident=_report(city), by=city.itsa)
    client.force_login(city.designee)
    response = client.post(reverse("incidents:close", args=[incident.pk]),
                           {"corrective_action": "Unfounded: the search was for a case.", "reinstate": "on"},
                           follow=True)
    page = response.content.decode()
    assert f"Incident {incident.reference} is closed" in page and "Unfounded: the search was for a case." in page
    grant.refresh_from_db()
    assert grant.status == Grant.Status.ACTIVE


def test_a_reinstatement_refused_by_separation_of_duties_is_shown_not_crashed(client, city):
    """S5.2 with S3.2"""
    grant = _vms_grant(city)
    incident = incident_suspend(incident=_report(city), by=city.itsa)
    Grant.objects.create(person=city.analyst, system=city.vms, department=city.police, role="administrator",
                         account_name="andy-admin", provisioned_at=timezone.now(), provisioned_by=city.itsa)
    client.force_login(city.designee)
    response = client.post(reverse("incidents:close", args=[incident.pk]),
                           {"corrective_action": "Unfounded.", "reinstate": "on"}, follow=True)
    assert response.status_code == 200 and "cannot be reinstated" in response.content.decode()
    incident.refresh_from_db()
    grant.refresh_from_db()
    assert incident.status == Incident.Status.OPEN and grant.status == Grant.Status.SUSPENDED


def test_decisions_ask_for_the_password_again_when_it_is_old(client, city, settings):
    """S5.2: a suspension is a decision that matters."""
    grant = _vms_grant(city)
    incident = _report(city)
    client.force_login(city.designee)
    session = client.session
    session[PASSWORD_AT] = time.time() - settings.PASSWORD_CONFIRM_SECONDS - 1
    session.save()
    response = client.post(reverse("incidents:suspend", args=[incident.pk]))
    assert response.status_code == 302 and reverse("security:confirm_password") in response["Location"]
    grant.refresh_from_db()
    assert grant.status == Grant.Status.ACTIVE


def test_the_timeline_names_each_decider_and_not_the_anonymous_reporter(client, city):
    """S5.2: every decision names its decider."""
    _vms_grant(city)
    incident = incident_suspend(incident=_report(city, anonymous=True), by=city.itsa)
    client.force_login(city.designee)
    client.post(reverse("incidents:close", args=[incident.pk]), {"corrective_action": "Warning."})
    page = client.get(incident.get_absolute_url()).content.decode()
    timeline = page.split('id="timeline-heading"')[1]
    assert "Reported anonymously" in timeline and "Anonymous reporter" in timeline
    assert "Ida ITSA" in timeline and "Dana Designee" in timeline and "Closed with the corrective action" in timeline
    assert "Olive Officer" not in page
