"""Information sharing agreements and third parties' view-only access (S2.3, S3.7, T2): the services."""

from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from agreement_setup import add_person, approve, approved, ask
from django.conf import settings
from django.core import mail
from django.utils import timezone

from accounts.models import DESIGNEE_GROUP, Grant, SurveillanceSystem, User
from accounts.services import department_set_head, grant_set_status, role_group
from agreements.models import AgreementGrant, SharingAgreement
from agreements.selectors import agreement_of_grant, agreements_visible_to
from agreements.services import (
    agreement_decide, agreement_end, agreements_daily, may_add_third_party_person, may_decide_agreement,
    may_end_agreement, seed_demo_agreements,
)
from portal.errors import NotAllowed, RuleViolation
from portal.models import AuditEvent, OutgoingEmail

CITY_TZ = ZoneInfo(settings.TIME_ZONE)


def _recipients(name_start: str) -> list[list[str]]:
    return [sorted(message.to) for message in mail.outbox if message.subject.startswith(name_start)]


@pytest.fixture
def face_matcher(db):
    return SurveillanceSystem.objects.create(name="Face Matcher", code="faces", kind="biometric",
                                             uses_biometrics=True)


# --- Asking (the sponsoring department's head) ---------------------------------------------------------

def test_the_head_of_the_sponsoring_department_asks_and_the_designee_is_told(city, django_capture_on_commit_callbacks):
    """S3.7 T2: the register keeps the third party, its category, what is shared, the conditions, the
    biometric exclusion and the dates; the Mayor's designee is asked to record the decision."""
    with django_capture_on_commit_callbacks(execute=True):
        agreement = ask(city, systems=[city.vms, city.lpr])

    assert agreement.status == SharingAgreement.Status.PENDING
    assert agreement.requested_by == city.head and agreement.department == city.police
    assert agreement.category == "law_enforcement" and agreement.excludes_biometric
    assert set(agreement.systems.all()) == {city.vms, city.lpr}
    assert (agreement.ends_on - agreement.starts_on).days == 90
    assert _recipients("Information sharing agreement to decide") == [[city.designee.email]]
    assert AuditEvent.objects.filter(action="agreement.request", actor=city.head).exists()
    assert agreement.history.earliest().history_type == "+"
    assert agreement.history.earliest().history_user == city.head


@pytest.mark.parametrize("who", ["requester", "outsider", "itsa", "designee"])
def test_only_the_head_of_the_sponsoring_department_asks(city, who):
    """S3.7: a department sponsors the agreement through its head; nobody else asks for it."""
    with pytest.raises(NotAllowed):
        ask(city, by=getattr(city, who))

    assert not SharingAgreement.objects.exists()
    assert AuditEvent.objects.filter(action="agreement.request", outcome="denied").count() == 1


@pytest.mark.parametrize("field", ["third_party", "shared", "conditions"])
@pytest.mark.parametrize("blank", ["", "  \x00 "])
def test_the_texts_of_the_register_are_required(city, field, blank):
    """S3.7 T2"""
    with pytest.raises(RuleViolation) as refusal:
        ask(city, **{field: blank})

    assert refusal.value.field == field
    assert not SharingAgreement.objects.exists()


def test_an_agreement_names_at_least_one_system(city):
    """S3.7"""
    with pytest.raises(RuleViolation) as refusal:
        ask(city, systems=[])

    assert refusal.value.field == "systems"


def test_an_agreement_ends_after_it_starts(city):
    """S3.7: the end is at 00:00 on ends_on, so a one-day agreement ends the day after it starts."""
    today = timezone.localdate()
    with pytest.raises(RuleViolation) as refusal:
        ask(city, starts_on=today + timedelta(days=1), ends_on=today + timedelta(days=1))
    assert refusal.value.field == "ends_on"

    agreement = ask(city, starts_on=today + timedelta(days=1), ends_on=today + timedelta(days=2))
    assert (agreement.ends_on - agreement.starts_on).days == 1


def test_an_agreement_that_would_already_have_ended_is_refused(city):
    """S3.7"""
    today = timezone.localdate()
    with pytest.raises(RuleViolation) as refusal:
        ask(city, starts_on=today - timedelta(days=10), ends_on=today)
    assert refusal.value.field == "ends_on"

    assert ask(city, starts_on=today - timedelta(days=10), ends_on=today + timedelta(days=1)).pk


@pytest.mark.parametrize("category", ["security_organization", "public_health", "emergency_response"])
def test_table_2_excludes_biometric_data_for_some_categories_whatever_the_request_says(city, category):
    """T2: for the categories whose row excludes biometric data, the agreement always excludes it."""
    agreement = ask(city, category=category, excludes_biometric=False)

    assert agreement.excludes_biometric is True


def test_law_enforcement_may_include_biometric_data_when_asked(city, face_matcher):
    """T2: Table 2 lets external law enforcement have biometric data."""
    agreement = ask(city, category="law_enforcement", excludes_biometric=False, systems=[city.vms, face_matcher])

    assert agreement.excludes_biometric is False
    assert face_matcher in agreement.systems.all()


@pytest.mark.parametrize(("category", "excludes"), [("security_organization", False), ("law_enforcement", True)])
def test_an_agreement_excluding_biometric_data_cannot_name_a_biometric_system(city, face_matcher, category, excludes):
    """T2 S3.12"""
    with pytest.raises(RuleViolation) as refusal:
        ask(city, category=category, excludes_biometric=excludes, systems=[city.vms, face_matcher])

    assert refusal.value.field == "systems"
    assert "Face Matcher" in refusal.value.message
    assert not SharingAgreement.objects.exists()


def test_table_2_shares_nothing_with_a_civil_case(city):
    """T2: third parties associated with a civil case get nothing but what a warrant or subpoena requires."""
    with pytest.raises(RuleViolation) as refusal:
        ask(city, category="civil_case")

    assert refusal.value.field == "category"
    assert "Table 2" in refusal.value.message
    assert not SharingAgreement.objects.exists()


def test_an_unknown_category_is_refused(city):
    """T2"""
    with pytest.raises(RuleViolation) as refusal:
        ask(city, category="private_security")

    assert refusal.value.field == "category"


def test_a_second_agreement_with_the_same_third_party_for_the_same_dates_is_refused(city):
    """S3.7: one agreement at a time with a third party, per department."""
    first = ask(city)
    with pytest.raises(RuleViolation) as refusal:
        ask(city, third_party="county sheriff's office")
    assert refusal.value.field == "third_party"

    later = ask(city, starts_on=first.ends_on, ends_on=first.ends_on + timedelta(days=30))
    assert later.pk != first.pk


# --- Deciding (the Mayor's designee records the Mayor's approval) --------------------------------------

def test_the_designee_records_the_mayors_approval_with_its_date(city, django_capture_on_commit_callbacks):
    """S3.7: the Mayor approves; the designee records it and names themselves as the decider."""
    agreement = ask(city)
    day = timezone.localdate() - timedelta(days=3)
    with django_capture_on_commit_callbacks(execute=True):
        agreement = approve(city, agreement, mayor_approved_on=day)

    assert agreement.status == SharingAgreement.Status.APPROVED
    assert agreement.decided_by == city.designee and agreement.decided_at is not None
    assert agreement.mayor_approved_on == day
    assert agreement.is_in_force()
    assert _recipients("Information sharing agreement approved") == [
        sorted([city.head.email, city.itsa.email, city.itsa2.email])]
    assert AuditEvent.objects.filter(action="agreement.approved", actor=city.designee).exists()


def test_approval_needs_the_date_of_the_mayors_approval_not_in_the_future(city):
    """S3.7"""
    agreement = ask(city)
    today = timezone.localdate()
    for day in (None, today + timedelta(days=1)):
        with pytest.raises(RuleViolation) as refusal:
            agreement_decide(agreement=agreement, approve=True, reason="Signed.", mayor_approved_on=day,
                             by=city.designee)
        assert refusal.value.field == "mayor_approved_on"
        agreement.refresh_from_db()
        assert agreement.status == SharingAgreement.Status.PENDING

    assert approve(city, agreement, mayor_approved_on=today).mayor_approved_on == today


@pytest.mark.parametrize("who", ["head", "requester", "itsa", "outsider"])
def test_only_the_designee_records_the_decision(city, who):
    """S3.7 S3.4b: the decision is the Mayor's, recorded by the designee."""
    agreement = ask(city)
    with pytest.raises(NotAllowed):
        approve(city, agreement, by=getattr(city, who))

    agreement.refresh_from_db()
    assert agreement.status == SharingAgreement.Status.PENDING and agreement.decided_by is None
    assert AuditEvent.objects.filter(action="agreement.decide", outcome="denied").count() == 1


def test_the_designee_who_asked_cannot_decide_another_designee_does(city):
    """S3.7: every decision names its decider, and the decider is never the person who asked."""
    police = department_set_head(department=city.police, head=city.designee, by=city.itsa)
    agreement = ask(city, by=city.designee, department=police)
    assert not may_decide_agreement(agreement=agreement, user=city.designee)

    with pytest.raises(NotAllowed):
        approve(city, agreement, by=city.designee)
    agreement.refresh_from_db()
    assert agreement.status == SharingAgreement.Status.PENDING

    other = User.objects.create_user(email="designee2@city.example", full_name="Dev Designee")
    other.groups.add(role_group(DESIGNEE_GROUP))
    agreement = approve(city, agreement, by=other)
    assert agreement.decided_by == other and agreement.requested_by == city.designee


def test_the_designee_denies_with_a_reason(city, django_capture_on_commit_callbacks):
    """S3.7"""
    agreement = ask(city)
    with pytest.raises(RuleViolation) as refusal:
        agreement_decide(agreement=agreement, approve=False, reason=" ", by=city.designee)
    assert refusal.value.field == "reason"

    with django_capture_on_commit_callbacks(execute=True):
        agreement = agreement_decide(agreement=agreement, approve=False, reason="No investigation is named.",
                                     mayor_approved_on=timezone.localdate(), by=city.designee)
    assert agreement.status == SharingAgreement.Status.DENIED
    assert agreement.mayor_approved_on is None and agreement.decided_by == city.designee
    assert _recipients("Information sharing agreement denied") == [[city.head.email]]


def test_a_decided_agreement_is_not_decided_again_and_a_double_submit_changes_nothing(city):
    """S3.7"""
    agreement = approved(city)
    events, history = AuditEvent.objects.count(), agreement.history.count()
    again = approve(city, agreement)
    assert again.status == SharingAgreement.Status.APPROVED
    assert AuditEvent.objects.count() == events and agreement.history.count() == history

    with pytest.raises(RuleViolation):
        agreement_decide(agreement=agreement, approve=False, reason="Changed our mind.", by=city.designee)


def test_an_agreement_whose_end_date_has_passed_cannot_be_approved(city):
    """S3.7"""
    agreement = ask(city)
    with pytest.raises(RuleViolation):
        agreement_decide(agreement=agreement, approve=True, reason="Late.", mayor_approved_on=agreement.starts_on,
                         by=city.designee, today=agreement.ends_on)


# --- Third-party people: view-only grants by ITSA -----------------------------------------------------

def test_itsa_adds_a_third_party_person_with_a_view_only_grant_until_the_agreement_ends(
        city, django_capture_on_commit_callbacks):
    """S2.3 S3.7: the third party's person, with no department and no password, gets a view-only
    end-user grant that rests on the agreement and ends with it; the sponsoring head is told."""
    agreement = approved(city)
    with django_capture_on_commit_callbacks(execute=True):
        grant = add_person(city, agreement, email="  Deputy@Sheriff.example ")

    person = grant.person
    assert person.email == "deputy@sheriff.example" and person.organization == agreement.third_party
    assert person.is_third_party and person.department is None and not person.has_usable_password()
    assert grant.view_only and agreement_of_grant(grant) == agreement and grant.role == Grant.Role.END_USER
    assert grant.ends_on == agreement.ends_on and grant.department == city.police
    assert grant.provisioned_by == city.itsa and grant.status == Grant.Status.ACTIVE
    assert list(grant.permissible_uses.all()) == [city.crime_detection]
    assert _recipients("View-only access to Citywide VMS") == [sorted([city.head.email, person.email])]
    assert AuditEvent.objects.filter(action="agreement.person_add", actor=city.itsa).exists()


@pytest.mark.parametrize("who", ["head", "requester", "designee"])
def test_only_itsa_adds_a_third_party_person(city, who):
    """S3.5b S3.7"""
    agreement = approved(city)
    with pytest.raises(NotAllowed):
        add_person(city, agreement, by=getattr(city, who))

    assert not agreement.grants.exists()
    assert not User.objects.filter(email="deputy@sheriff.example").exists()


def test_itsa_never_adds_themselves(city):
    """S3.7: ITSA does not give itself access."""
    agreement = approved(city)
    with pytest.raises(NotAllowed):
        add_person(city, agreement, email=city.itsa.email.upper())

    assert not agreement.grants.exists()


def test_no_access_under_an_agreement_that_is_not_in_force(city):
    """S2.3 S3.7: never under a pending, denied or ended agreement, before it starts or from its end."""
    today = timezone.localdate()
    pending = ask(city)
    denied = agreement_decide(agreement=ask(city, third_party="Transit Police"), approve=False, reason="No.",
                              by=city.designee)
    ended = agreement_end(agreement=approved(city, third_party="Campus Police", category="security_organization"),
                          reason="The investigation closed.", by=city.designee)
    future = approved(city, third_party="State Patrol", starts_on=today + timedelta(days=1))
    running = approved(city, third_party="Metro Police", starts_on=today - timedelta(days=5))

    for agreement in (pending, denied, ended, future):
        assert not may_add_third_party_person(agreement=agreement, user=city.itsa)
        with pytest.raises(RuleViolation):
            add_person(city, agreement)
    with pytest.raises(RuleViolation):
        add_person(city, running, today=running.ends_on)
    assert not AgreementGrant.objects.exists()

    # From its first day it is in force.
    assert add_person(city, future, today=future.starts_on).is_live


def test_the_system_must_be_one_of_the_agreements(city):
    """S3.7"""
    agreement = approved(city)
    with pytest.raises(RuleViolation) as refusal:
        add_person(city, agreement, system=city.lpr)

    assert refusal.value.field == "system"
    assert not agreement.grants.exists()


@pytest.mark.parametrize("uses", ["traffic", "none"])
def test_a_third_partys_access_serves_public_safety_only(city, uses):
    """S3.7 S2.2: "as it relates to public safety": only the permissible uses of public safety."""
    agreement = approved(city)
    chosen = [city.crime_detection, city.traffic_monitoring] if uses == "traffic" else []
    with pytest.raises(RuleViolation) as refusal:
        add_person(city, agreement, uses=chosen)

    assert refusal.value.field == "permissible_uses"
    assert not User.objects.filter(email="deputy@sheriff.example").exists()


def test_the_same_person_of_the_same_third_party_is_reused(city):
    """S3.7: one person, one record, whatever the number of their grants."""
    agreement = approved(city, systems=[city.vms, city.lpr])
    first = add_person(city, agreement)
    second = add_person(city, agreement, email="DEPUTY@sheriff.example", system=city.lpr, account_name="dd2")

    assert first.person == second.person
    assert User.objects.filter(email__iexact="deputy@sheriff.example").count() == 1
    assert agreement.grants.filter(view_only=True).count() == 2


def test_a_city_employee_or_another_third_partys_person_is_not_added(city):
    """S2.3 S3.7: a city employee's access never rests on an agreement; a person belongs to one third party."""
    agreement = approved(city)
    other = approved(city, third_party="Campus Police", category="security_organization")
    add_person(city, other, email="cadet@campus.example")

    for email in (city.officer.email, "cadet@campus.example"):
        with pytest.raises(RuleViolation) as refusal:
            add_person(city, agreement, email=email)
        assert refusal.value.field == "email"
    assert not agreement.grants.exists()


def test_a_biometric_system_is_refused_when_the_agreement_excludes_biometric_data(city, face_matcher):
    """T2 S3.12: a system that became biometric after the agreement is refused all the same."""
    agreement = approved(city, systems=[city.vms])
    SurveillanceSystem.objects.filter(pk=city.vms.pk).update(uses_biometrics=True)

    with pytest.raises(RuleViolation) as refusal:
        add_person(city, agreement)
    assert refusal.value.field == "system"


# --- Ending ------------------------------------------------------------------------------------------

def test_the_designee_ends_an_agreement_early_and_its_grants_are_removed_at_once(
        city, django_capture_on_commit_callbacks):
    """S3.7 S2.3: when the agreement ends, its third party's grants end the same moment, with
    history, an audit record and notice to the head, ITSA and the third party's people."""
    agreement = approved(city, systems=[city.vms, city.lpr])
    grants = [add_person(city, agreement), add_person(city, agreement, system=city.lpr, account_name="dd-lpr"),
              add_person(city, agreement, email="sergeant@sheriff.example", full_name="Sam Sergeant",
                         account_name="sheriff-ssergeant")]
    with django_capture_on_commit_callbacks(execute=True):
        ended = agreement_end(agreement=agreement, reason="The joint task force was dissolved.", by=city.designee)

    assert ended.status == SharingAgreement.Status.ENDED
    assert ended.ended_by == city.designee and ended.ended_at is not None
    assert ended.end_reason == "The joint task force was dissolved."
    for grant in grants:
        grant.refresh_from_db()
        assert grant.status == Grant.Status.REMOVED and grant.ended_at is not None
        assert grant.history.first().history_user == city.designee
    assert ended.history.first().history_change_reason == f"Ended by {city.designee}"
    assert AuditEvent.objects.filter(action="agreement.end", actor=city.designee).exists()
    assert _recipients("Information sharing agreement ended") == [[city.head.email]]
    [itsa_mail] = [m for m in mail.outbox if m.subject.startswith("Close the accounts")]
    assert sorted(itsa_mail.to) == sorted([city.itsa.email, city.itsa2.email])
    assert "sheriff-ddeputy" in itsa_mail.body and "dd-lpr" in itsa_mail.body
    assert _recipients("Your view-only access") == [["deputy@sheriff.example", "sergeant@sheriff.example"]]


@pytest.mark.parametrize("who", ["head", "requester", "itsa"])
def test_only_the_designee_ends_an_agreement(city, who):
    """S3.7"""
    agreement = approved(city)
    grant = add_person(city, agreement)
    with pytest.raises(NotAllowed):
        agreement_end(agreement=agreement, reason="Enough.", by=getattr(city, who))

    agreement.refresh_from_db()
    grant.refresh_from_db()
    assert agreement.status == SharingAgreement.Status.APPROVED and grant.status == Grant.Status.ACTIVE


def test_ending_needs_a_reason_and_an_approved_agreement(city):
    """S3.7"""
    agreement = approved(city)
    with pytest.raises(RuleViolation) as refusal:
        agreement_end(agreement=agreement, reason="", by=city.designee)
    assert refusal.value.field == "reason"

    with pytest.raises(RuleViolation):
        agreement_end(agreement=ask(city, third_party="Transit Police"), reason="Never mind.", by=city.designee)


def test_ending_twice_changes_nothing(city):
    """S3.7"""
    agreement = approved(city)
    agreement_end(agreement=agreement, reason="Closed.", by=city.designee)
    events, history = AuditEvent.objects.count(), agreement.history.count()

    again = agreement_end(agreement=agreement, reason="Closed.", by=city.designee)
    assert again.status == SharingAgreement.Status.ENDED
    assert AuditEvent.objects.count() == events and agreement.history.count() == history
    assert not may_end_agreement(agreement=again, user=city.designee)


# --- The daily run: 00:00, city time, on the end date ----------------------------------------------------

def _at(day, hour, minute):
    return datetime.combine(day, time(hour, minute), tzinfo=CITY_TZ)


def test_an_agreement_ends_at_midnight_city_time_on_its_end_date(city, monkeypatch,
                                                                  django_capture_on_commit_callbacks):
    """S3.7 S2.3: the grants are live at 23:59 the day before and removed from 00:00 on ends_on,
    in the city's time zone (at 23:59 in the city it is already ends_on in UTC)."""
    today = timezone.localdate()
    agreement = approved(city, ends_on=today + timedelta(days=2))
    grant = add_person(city, agreement)

    eve = _at(agreement.ends_on - timedelta(days=1), 23, 59)
    assert eve.astimezone(ZoneInfo("UTC")).date() == agreement.ends_on
    monkeypatch.setattr(timezone, "now", lambda: eve)
    assert agreements_daily() == 0
    grant.refresh_from_db()
    agreement.refresh_from_db()
    assert grant.status == Grant.Status.ACTIVE and agreement.is_in_force()

    monkeypatch.setattr(timezone, "now", lambda: _at(agreement.ends_on, 0, 0))
    with django_capture_on_commit_callbacks(execute=True):
        assert agreements_daily() == 1
    grant.refresh_from_db()
    agreement.refresh_from_db()
    assert agreement.status == SharingAgreement.Status.ENDED and agreement.ended_by is None
    assert agreement.ended_at == _at(agreement.ends_on, 0, 0)
    assert grant.status == Grant.Status.REMOVED and grant.ended_at == _at(agreement.ends_on, 0, 0)
    assert not agreement.is_in_force()
    assert AuditEvent.objects.filter(action="agreement.end", actor__isnull=True).count() == 1
    assert _recipients("Information sharing agreement ended") == [[city.head.email]]
    assert _recipients("Your view-only access") == [["deputy@sheriff.example"]]
    assert len([m for m in mail.outbox if m.subject.startswith("Close the accounts")]) == 1


def test_the_daily_run_is_idempotent(city):
    """S3.7: the task runs every hour; a second run changes nothing and tells nobody again."""
    agreement = approved(city)
    grant = add_person(city, agreement)
    assert agreements_daily(today=agreement.ends_on) == 1
    counts = (AuditEvent.objects.count(), OutgoingEmail.objects.count(), agreement.history.count(),
              grant.history.count())

    assert agreements_daily(today=agreement.ends_on) == 0
    assert agreements_daily(today=agreement.ends_on + timedelta(days=1)) == 0
    assert (AuditEvent.objects.count(), OutgoingEmail.objects.count(), agreement.history.count(),
            grant.history.count()) == counts


def test_the_daily_run_leaves_agreements_before_their_end_and_undecided_ones(city):
    """S3.7"""
    running = approved(city)
    pending = ask(city, third_party="Transit Police")

    assert agreements_daily(today=running.ends_on - timedelta(days=1)) == 0
    assert agreements_daily(today=pending.ends_on) == 1  # the approved one only
    pending.refresh_from_db()
    assert pending.status == SharingAgreement.Status.PENDING


def test_the_daily_run_removes_a_grant_that_outlived_its_agreement(city):
    """S2.3: a third party's grant never stays live without an agreement in force."""
    agreement = approved(city)
    grant = add_person(city, agreement)
    SharingAgreement.objects.filter(pk=agreement.pk).update(status=SharingAgreement.Status.DENIED)

    agreements_daily()
    grant.refresh_from_db()
    assert grant.status == Grant.Status.REMOVED
    assert AuditEvent.objects.filter(action="agreement.grant_remove").count() == 1


def test_a_removed_grant_stays_removed(city):
    """S3.7: ending an agreement whose grant ITSA already removed is quiet about it."""
    agreement = approved(city)
    grant = add_person(city, agreement)
    grant_set_status(grant=grant, status=Grant.Status.REMOVED, by=city.itsa)
    history = grant.history.count()

    agreement_end(agreement=agreement, reason="Closed.", by=city.designee)
    grant.refresh_from_db()
    assert grant.status == Grant.Status.REMOVED and grant.history.count() == history
    assert grant.history.first().history_change_reason == f"removed by {city.itsa}"


# --- Who sees the register ------------------------------------------------------------------------------

def test_the_register_is_seen_by_the_sponsoring_department_itsa_and_the_designee(city, directors):
    """S3.7: deny by default."""
    police = approved(city)
    streets = ask(city, department=city.streets, by=city.outsider, third_party="Transit Police")
    person = add_person(city, police).person

    assert set(agreements_visible_to(city.head)) == {police}
    assert set(agreements_visible_to(city.requester)) == {police}
    assert set(agreements_visible_to(city.outsider)) == {streets}
    assert set(agreements_visible_to(city.itsa)) == {police, streets}
    assert set(agreements_visible_to(city.designee)) == {police, streets}
    for nobody in (city.officer, city.streets_worker, directors.safety, directors.operations, person):
        assert not agreements_visible_to(nobody).exists()


def test_the_demo_agreement(city):
    """S3.7: the demonstration data has an approved agreement with a person holding a view-only grant."""
    agreement = seed_demo_agreements(department=city.police, system=city.vms, designee=city.designee, itsa=city.itsa)

    assert agreement.status == SharingAgreement.Status.APPROVED and agreement.is_in_force()
    [grant] = agreement.grants.all()
    assert grant.view_only and grant.person.is_third_party and grant.is_live
    assert seed_demo_agreements(department=city.police, system=city.vms, designee=city.designee,
                                itsa=city.itsa) == agreement
    assert SharingAgreement.objects.count() == 1
