"""External system connections (S3.6a, S3.6b, S3.6c): the head asks, the Mayor's designee decides."""

from datetime import date, timedelta

import pytest
from external_helpers import approved, ask

from accounts.models import DESIGNEE_GROUP, User
from accounts.services import department_set_head, role_group
from access_requests.models import DepartmentAccess
from external.models import ExternalConnection
from external.selectors import external_connections_visible_to
from external.services import (
    MAX_DAYS,
    external_connection_decide,
    external_connection_withdraw,
    may_decide,
    may_renew,
    may_withdraw,
    seed_demo_external,
)
from portal.errors import NotAllowed, RuleViolation
from portal.models import AuditEvent, OutgoingEmail

TODAY = date(2030, 3, 10)


def _refused(city, field, **kwargs):
    with pytest.raises(RuleViolation) as refusal:
        ask(city, today=TODAY, **kwargs)
    assert refusal.value.field == field, refusal.value.message
    assert not ExternalConnection.objects.exists()
    return refusal.value


def _mails_to(address):
    """The mails about external connections that went to the address (the city fixture sends others)."""
    return [mail for mail in OutgoingEmail.objects.filter(subject__icontains="external").order_by("pk")
            if address in mail.to]


# --- Asking -----------------------------------------------------------------------------------------

def test_the_head_asks_with_owner_method_uses_and_business_reasons(city):
    """S3.6a S3.6b S3.6c: the request names the owner, the secure method and the business reasons."""
    connection = ask(city, today=TODAY)

    assert connection.status == ExternalConnection.Status.PENDING
    assert connection.requested_by == city.head and connection.decided_by is None
    assert (connection.owner, connection.method) == ("Regional Transit Authority", "secure_api")
    assert list(connection.systems.all()) == [city.vms]
    assert list(connection.permissible_uses.all()) == [city.crime_detection]
    assert AuditEvent.objects.filter(action="external_connection.request", actor=city.head).count() == 1
    assert [mail.to for mail in OutgoingEmail.objects.filter(subject__startswith="External")] == [
        [city.designee.email]]
    assert connection.history.count() >= 1


@pytest.mark.parametrize("who", ["requester", "officer", "outsider", "designee", "itsa"])
def test_only_the_head_of_the_department_asks(city, who):
    """S3.6a: the department's head asks, for their own department."""
    with pytest.raises(NotAllowed):
        ask(city, by=getattr(city, who), today=TODAY)

    assert not ExternalConnection.objects.exists()
    assert AuditEvent.objects.filter(action="external_connection.request", outcome="denied").count() == 1


@pytest.mark.parametrize("method", ["", "vpn", "plain_http", "ftp", "SECURE_API"])
def test_a_method_other_than_the_two_secure_ones_is_refused(city, method):
    """S3.6b: only a secure web service or API, or a secure network connection."""
    _refused(city, "method", method=method)


@pytest.mark.parametrize("method", ["secure_api", "secure_network"])
def test_either_secure_method_is_accepted(city, method):
    """S3.6b"""
    assert ask(city, method=method, today=TODAY).method == method


@pytest.mark.parametrize("reasons", ["", "   ", "\x00"])
def test_business_reasons_are_required(city, reasons):
    """S3.6c: each request includes business reasons."""
    _refused(city, "business_reasons", business_reasons=reasons)


def test_at_least_one_permissible_use_is_required(city):
    """S3.6c: the reasons are tied to permissible uses."""
    _refused(city, "permissible_uses", uses=[])


def test_a_use_outside_the_departments_authorized_uses_is_refused(city):
    """S3.6c: police hold the VMS for public safety, not traffic management."""
    refusal = _refused(city, "permissible_uses", uses=[city.crime_detection, city.traffic_monitoring])
    assert "Traffic" in refusal.message


def test_a_use_must_be_authorized_on_every_system_named(city):
    """S3.6c: police hold the VMS and (after this) the traffic cameras, but traffic for traffic management only."""
    from access_requests.services import department_access_decide, department_access_request
    from portal.models import IntendedUse

    access = department_access_request(department=city.police, system=city.traffic, business_need="Signals.",
                                       intended_uses=[IntendedUse.objects.get(code="traffic-management")], by=city.head)
    department_access_decide(access=access, grant=True, reason="Traffic.", by=city.designee)

    _refused(city, "permissible_uses", systems=[city.vms, city.traffic], uses=[city.crime_detection])


def test_every_system_needs_the_departments_access(city):
    """S3.6a: the connection reaches only systems the department may use."""
    _refused(city, "systems", systems=[city.vms, city.lpr])
    _refused(city, "systems", systems=[])


def test_denied_or_pending_department_access_does_not_count(city):
    """S3.6a"""
    DepartmentAccess.objects.filter(pk=city.police_vms.pk).update(status=DepartmentAccess.Status.WITHDRAWN)

    _refused(city, "systems")


@pytest.mark.parametrize(("field", "value"), [("name", ""), ("owner", " "), ("name", "x" * 151),
                                              ("owner", "x" * 151), ("owner_contact", "not an address"),
                                              ("connection_detail", "x" * 5001)])
def test_the_name_owner_and_contact_are_checked(city, field, value):
    """S3.6a: the request names the external system and its owner."""
    _refused(city, field, **{field: value})


def test_it_cannot_start_in_the_past(city):
    _refused(city, "starts_on", starts_on=TODAY - timedelta(days=1))
    assert ask(city, starts_on=TODAY, today=TODAY).starts_on == TODAY


def test_the_end_date_comes_after_the_start(city):
    _refused(city, "ends_on", ends_on=TODAY)
    assert ask(city, ends_on=TODAY + timedelta(days=1), today=TODAY).ends_on == TODAY + timedelta(days=1)


def test_a_connection_lasts_at_most_365_days(city):
    """S3.6a: approved connections have an end date; 365 days is the longest period."""
    _refused(city, "ends_on", ends_on=TODAY + timedelta(days=MAX_DAYS + 1))

    connection = ask(city, ends_on=TODAY + timedelta(days=MAX_DAYS), today=TODAY)

    assert (connection.ends_on - connection.starts_on).days == 365


def test_a_double_submission_makes_one_request(city):
    first = ask(city, today=TODAY)
    second = ask(city, today=TODAY)

    assert first.pk == second.pk
    assert ExternalConnection.objects.count() == 1


# --- Deciding ---------------------------------------------------------------------------------------

def test_the_designee_approves_and_is_named_as_the_decider(city):
    """S3.6a: the Mayor's designee approves; the decision names its decider, not the asker."""
    connection = external_connection_decide(connection=ask(city, today=TODAY), approve=True,
                                            reason="Tied to crime detection.", by=city.designee, today=TODAY)

    assert connection.status == ExternalConnection.Status.APPROVED
    assert connection.decided_by == city.designee and connection.decided_by != connection.requested_by
    assert connection.decided_at is not None and connection.decision_reason == "Tied to crime detection."
    assert AuditEvent.objects.filter(action="external_connection.approved", actor=city.designee).count() == 1
    assert [mail.subject for mail in _mails_to(city.head.email)] == [
        "External system connection approved: Transit station cameras"]


def test_the_designee_denies_with_a_reason(city):
    """S3.6a"""
    connection = external_connection_decide(connection=ask(city, today=TODAY), approve=False,
                                            reason="No business reason tied to Table 1.", by=city.designee,
                                            today=TODAY)

    assert connection.status == ExternalConnection.Status.DENIED
    assert connection.decided_by == city.designee


@pytest.mark.parametrize("who", ["head", "requester", "itsa", "outsider"])
def test_only_the_designee_decides(city, who):
    """S3.6a"""
    connection = ask(city, today=TODAY)
    person = getattr(city, who)
    assert not may_decide(connection=connection, user=person)

    with pytest.raises(NotAllowed):
        external_connection_decide(connection=connection, approve=True, reason="Fine.", by=person, today=TODAY)

    connection.refresh_from_db()
    assert connection.status == ExternalConnection.Status.PENDING and connection.decided_by is None
    assert AuditEvent.objects.filter(action="external_connection.decide", outcome="denied", actor=person).exists()


def test_a_designee_who_asked_never_decides_their_own_request(city):
    """S3.6a: every decision names its decider, and the decider is never the person who asked."""
    streets = department_set_head(department=city.streets, head=city.designee, by=city.itsa)
    from access_requests.services import department_access_decide, department_access_request
    from portal.models import IntendedUse

    other = User.objects.create_user(email="designee2@city.example", password="x", full_name="Dev Designee")
    other.groups.add(role_group(DESIGNEE_GROUP))
    access = department_access_request(department=streets, system=city.vms, business_need="Yards.",
                                       intended_uses=[IntendedUse.objects.get(code="public-safety")],
                                       by=city.designee)
    department_access_decide(access=access, grant=True, reason="Yards.", by=other)
    connection = ask(city, department=streets, by=city.designee, today=TODAY)
    assert not may_decide(connection=connection, user=city.designee)

    with pytest.raises(NotAllowed):
        external_connection_decide(connection=connection, approve=True, reason="Mine.", by=city.designee,
                                   today=TODAY)
    connection.refresh_from_db()
    assert connection.status == ExternalConnection.Status.PENDING

    decided = external_connection_decide(connection=connection, approve=True, reason="Yards.", by=other, today=TODAY)
    assert decided.decided_by == other


def test_the_reason_is_required(city):
    """S3.6a"""
    connection = ask(city, today=TODAY)

    with pytest.raises(RuleViolation) as refusal:
        external_connection_decide(connection=connection, approve=True, reason="  ", by=city.designee, today=TODAY)

    assert refusal.value.field == "reason"
    connection.refresh_from_db()
    assert connection.status == ExternalConnection.Status.PENDING


def test_deciding_twice_has_one_effect_and_a_decided_request_stays_decided(city):
    connection = approved(city, today=TODAY)
    events = AuditEvent.objects.count()

    again = external_connection_decide(connection=connection, approve=True, reason="Again.", by=city.designee,
                                       today=TODAY)
    assert again.decision_reason == "Tied to crime detection." and AuditEvent.objects.count() == events
    with pytest.raises(RuleViolation):
        external_connection_decide(connection=connection, approve=False, reason="Changed my mind.", by=city.designee,
                                   today=TODAY)
    connection.refresh_from_db()
    assert connection.status == ExternalConnection.Status.APPROVED


def test_approval_is_refused_once_the_end_date_has_come(city):
    connection = ask(city, today=TODAY, ends_on=TODAY + timedelta(days=5))

    with pytest.raises(RuleViolation):
        external_connection_decide(connection=connection, approve=True, reason="Late.", by=city.designee,
                                   today=TODAY + timedelta(days=5))
    assert external_connection_decide(connection=connection, approve=True, reason="In time.", by=city.designee,
                                      today=TODAY + timedelta(days=4)).status == ExternalConnection.Status.APPROVED


def test_approval_is_refused_when_department_access_was_withdrawn_since(city):
    """S3.6a: approve only what the department may still use."""
    connection = ask(city, today=TODAY)
    DepartmentAccess.objects.filter(pk=city.police_vms.pk).update(status=DepartmentAccess.Status.WITHDRAWN)

    with pytest.raises(RuleViolation):
        external_connection_decide(connection=connection, approve=True, reason="Fine.", by=city.designee,
                                   today=TODAY)
    connection.refresh_from_db()
    assert connection.status == ExternalConnection.Status.PENDING


# --- Withdrawing ------------------------------------------------------------------------------------

def test_the_asker_withdraws_a_pending_request(city):
    connection = ask(city, today=TODAY)
    assert may_withdraw(connection=connection, user=city.head)

    assert external_connection_withdraw(connection=connection, by=city.head).status == "withdrawn"
    assert external_connection_withdraw(connection=connection, by=city.head).status == "withdrawn"
    assert AuditEvent.objects.filter(action="external_connection.withdraw").count() == 1


@pytest.mark.parametrize("who", ["requester", "designee", "itsa", "outsider"])
def test_nobody_else_withdraws(city, who):
    connection = ask(city, today=TODAY)
    person = getattr(city, who)
    assert not may_withdraw(connection=connection, user=person)

    with pytest.raises(NotAllowed):
        external_connection_withdraw(connection=connection, by=person)
    connection.refresh_from_db()
    assert connection.status == ExternalConnection.Status.PENDING


def test_an_approved_connection_cannot_be_withdrawn(city):
    connection = approved(city, today=TODAY)
    assert not may_withdraw(connection=connection, user=city.head)

    with pytest.raises(RuleViolation):
        external_connection_withdraw(connection=connection, by=city.head)


# --- Renewals ---------------------------------------------------------------------------------------

def test_a_renewal_starts_on_the_end_date_and_approving_it_leaves_the_old_one_running(city):
    """S3.6a: approved connections come up for renewal."""
    old = approved(city, today=TODAY)
    assert may_renew(connection=old, user=city.head)

    renewal = ask(city, renews=old, starts_on=old.ends_on, ends_on=old.ends_on + timedelta(days=MAX_DAYS),
                  today=TODAY + timedelta(days=70))
    assert not may_renew(connection=old, user=city.head)
    external_connection_decide(connection=renewal, approve=True, reason="Still needed.", by=city.designee,
                               today=TODAY + timedelta(days=70))

    old.refresh_from_db()
    assert old.status == ExternalConnection.Status.APPROVED
    assert list(old.renewals.all()) == [renewal]


def test_a_renewal_must_start_on_the_end_date(city):
    old = approved(city, today=TODAY)

    for starts_on in (old.ends_on - timedelta(days=1), old.ends_on + timedelta(days=1)):
        with pytest.raises(RuleViolation) as refusal:
            ask(city, renews=old, starts_on=starts_on, today=TODAY)
        assert refusal.value.field == "starts_on"


def test_only_an_approved_connection_of_the_same_department_is_renewed(city):
    pending = ask(city, today=TODAY)
    with pytest.raises(RuleViolation) as refusal:
        ask(city, renews=pending, starts_on=pending.ends_on, today=TODAY, name="Other")
    assert refusal.value.field == "renews"

    streets = ask(city, department=city.streets, by=city.outsider, systems=[city.traffic],
                  uses=[city.traffic_monitoring], today=TODAY)
    streets = external_connection_decide(connection=streets, approve=True, reason="Signals.", by=city.designee,
                                         today=TODAY)
    with pytest.raises(RuleViolation) as refusal:
        ask(city, renews=streets, starts_on=streets.ends_on, today=TODAY)
    assert refusal.value.field == "renews"


def test_a_connection_is_renewed_once(city):
    old = approved(city, today=TODAY)
    ask(city, renews=old, starts_on=old.ends_on, today=TODAY)

    with pytest.raises(RuleViolation) as refusal:
        ask(city, renews=old, starts_on=old.ends_on, today=TODAY, owner="Transit")
    assert refusal.value.field == "renews"


# --- Who sees what ----------------------------------------------------------------------------------

def test_the_department_itsa_and_designees_see_connections_others_do_not(city, directors):
    police = ask(city, today=TODAY)
    streets = ask(city, department=city.streets, by=city.outsider, systems=[city.traffic],
                  uses=[city.traffic_monitoring], today=TODAY)

    def seen(user):
        return set(external_connections_visible_to(user))

    assert seen(city.head) == seen(city.requester) == {police}
    assert seen(city.outsider) == {streets}
    assert seen(city.itsa) == seen(city.designee) == {police, streets}
    assert seen(city.officer) == seen(directors.safety) == seen(directors.operations) == set()


# --- The demo ---------------------------------------------------------------------------------------

def test_the_demo_connection_is_approved_over_a_secure_api_and_made_once(city):
    first = seed_demo_external(department=city.police, systems=[city.vms], permissible_uses=[city.crime_detection],
                               designee=city.designee)
    second = seed_demo_external(department=city.police, systems=[city.vms], permissible_uses=[city.crime_detection],
                                designee=city.designee)

    assert first.pk == second.pk and ExternalConnection.objects.count() == 1
    assert first.status == "approved" and first.method == "secure_api"
    assert first.requested_by == city.head and first.decided_by == city.designee
