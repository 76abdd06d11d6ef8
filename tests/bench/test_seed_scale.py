"""bench/seed_scale.py: the city it builds keeps the portal's rules, made by the portal's own functions."""

import re
from base64 import b32decode
from io import StringIO

import pytest
from django.contrib.contenttypes.models import ContentType
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection
from django.db.models import Exists, F, OuterRef
from django.utils import timezone
from django_otp.plugins.otp_totp.models import TOTPDevice
from guardian.shortcuts import get_users_with_perms

from access_requests.models import AccessRequest
from access_requests.services import written_fingerprint, written_request_text
from accounts.models import (
    DESIGNEE_GROUP,
    ITSA_GROUP,
    SAFETY_DIRECTOR_GROUP,
    AuthorizedRequester,
    Department,
    Grant,
    SurveillanceSystem,
    User,
)
from accounts.services import grant_status_reason
from accounts.sod import sod_violations
from pages.management.commands.seed_demo import DEMO_AUTHENTICATOR_KEY
from audits.models import Validation, ValidationItem
from audits.services import (
    ITEM_ORDER,
    departments_due,
    next_due_on,
    revocation_justification,
    sign_off_due_on,
    sign_off_statement,
)
from bench.seed_scale import SCALE_PASSWORD, Command
from portal.history import timeline
from portal.models import PermissibleUse
from services import require_postgres

TINY = ["--people", "60", "--departments", "3", "--systems", "4", "--years", "2", "--yes"]
CITY_WIDE = 5 + 2 + 1  # ITSA administrators, Mayor's designees, the Director of Public Safety


@pytest.fixture
def postgres(db):
    require_postgres()
    yield
    # --wipe empties tables inside the test's transaction; nothing cached may outlive its rollback.
    ContentType.objects.clear_cache()


def seed(*args) -> str:
    out = StringIO()
    call_command(Command(), *TINY, *args, stdout=out)
    return out.getvalue()


def run(command: str) -> str:
    out = StringIO()
    call_command(command, stdout=out)
    return out.getvalue()


@pytest.mark.postgres
def test_a_tiny_city_has_the_counts_it_was_asked_for(postgres):
    seed()
    assert User.objects.count() == 60 + CITY_WIDE
    assert Department.objects.count() == 3
    assert SurveillanceSystem.objects.count() == 4
    assert Grant.objects.count() == 60 * 3
    assert User.objects.filter(groups__name=ITSA_GROUP).count() == 5
    assert User.objects.filter(groups__name=DESIGNEE_GROUP).count() == 2
    assert User.objects.filter(groups__name=SAFETY_DIRECTOR_GROUP).count() == 1
    assert User.objects.filter(department__isnull=False).count() == 60


@pytest.mark.postgres
def test_each_department_has_a_head_and_two_requesters_who_hold_its_permission(postgres):
    seed()
    for department in Department.objects.select_related("head"):
        assert department.head is not None and department.head.department_id == department.pk
        requesters = [entry.person for entry in AuthorizedRequester.objects.current().filter(department=department)]
        assert len(requesters) == 2
        assert all(person.department_id == department.pk for person in requesters)
        holders = set(get_users_with_perms(department, only_with_perms_in=["act_for_department"],
                                           with_group_users=False))
        assert holders == {department.head, *requesters}
        assert department.head.roles.is_head


@pytest.mark.postgres
def test_every_grant_has_the_completed_request_that_made_it_and_every_ended_one_its_removal(postgres):
    seed()
    made = AccessRequest.objects.filter(grant=OuterRef("pk"), action=AccessRequest.Action.ADD,
                                        status=AccessRequest.Status.COMPLETED)
    assert not Grant.objects.filter(~Exists(made)).exists()
    for grant in Grant.objects.prefetch_related("requests", "permissible_uses"):
        addition = next(r for r in grant.requests.all() if r.action == AccessRequest.Action.ADD)
        assert addition.submitted_at <= addition.approved_at < addition.processed_at == grant.provisioned_at
        assert 1 <= len(grant.permissible_uses.all()) <= 2
        if grant.ended_at:
            assert grant.status == Grant.Status.REMOVED
            removal = next(r for r in grant.requests.all() if r.action == AccessRequest.Action.REMOVE)
            assert removal.processed_at == grant.ended_at
    assert Grant.objects.filter(ended_at__isnull=False).exists()


@pytest.mark.postgres
def test_the_grants_use_only_systems_and_uses_their_department_was_authorized_for(postgres):
    seed()
    for grant in Grant.objects.select_related("department").prefetch_related("permissible_uses"):
        access = grant.department.system_access.get(system=grant.system, status="granted")
        intended = set(access.intended_uses.values_list("pk", flat=True))
        assert {use.intended_use_id for use in grant.permissible_uses.all()} <= intended


@pytest.mark.postgres
def test_nobody_holds_both_an_end_user_and_a_staff_grant_on_one_system(postgres):
    """S3.2a S3.2b: the city is built without a person on both sides of one system."""
    seed()
    assert sod_violations() == []
    assert Grant.objects.filter(role__in=Grant.STAFF_ROLES).count() < Grant.objects.count()


@pytest.mark.postgres
def test_requests_carry_unique_references_in_the_order_they_were_filed(postgres):
    seed()
    rows = list(AccessRequest.objects.order_by("submitted_at").values_list("reference", "submitted_at"))
    assert all(re.fullmatch(r"AR-\d{4}-\d{5}", reference) for reference, _ in rows)
    by_year = {}
    for reference, _ in rows:
        year, number = reference.split("-")[1:]
        by_year.setdefault(year, []).append(int(number))
    assert all(numbers == list(range(1, len(numbers) + 1)) for numbers in by_year.values())
    statuses = set(AccessRequest.objects.values_list("status", flat=True))
    assert AccessRequest.Status.COMPLETED in statuses and len(statuses) > 1


@pytest.mark.postgres
def test_grants_requests_and_validations_have_their_history(postgres):
    seed()
    for model in (Grant, AccessRequest, Validation, ValidationItem, User):
        created = model.history.filter(history_type="+").values("id").distinct().count()
        assert created == model.objects.count()
    ended = Grant.objects.filter(ended_at__isnull=False).first()
    entries = timeline(ended)
    assert [entry.what.split(" ")[0] for entry in entries][-1] == "Created"
    assert any(change.field == "status" for entry in entries for change in entry.changes)
    completed = AccessRequest.objects.filter(status=AccessRequest.Status.COMPLETED).first()
    assert len(timeline(completed)) >= 2


@pytest.mark.postgres
def test_past_validations_are_signed_off_by_the_head_with_every_item_decided(postgres):
    seed()
    for department in Department.objects.all():
        completed = Validation.objects.filter(department=department, status=Validation.Status.COMPLETE)
        assert completed.exists()
        for validation in completed:
            assert validation.signed_off_by_id == department.head_id
            assert not validation.items.filter(decision=ValidationItem.Decision.PENDING).exists()
    assert Validation.objects.filter(status__in=Validation.OPEN_STATUSES).count() <= Department.objects.count()


@pytest.mark.postgres
def test_only_the_printed_logins_can_sign_in_and_they_have_the_demo_authenticator(postgres):
    out = seed()
    known = [user for user in User.objects.all() if user.check_password(SCALE_PASSWORD)]
    heads = set(Department.objects.values_list("head", flat=True))
    assert {user.pk for user in known} == heads | set(User.objects.filter(
        email__in=["itsa1@scale.example", "designee1@scale.example", "director1@scale.example"]).values_list(
        "pk", flat=True))
    assert User.objects.get(email="director1@scale.example").roles.is_safety_director
    assert not any(user.has_usable_password() for user in User.objects.exclude(pk__in=[u.pk for u in known]))
    for user in known:
        device = TOTPDevice.objects.get(user=user, confirmed=True)
        assert device.bin_key == b32decode(DEMO_AUTHENTICATOR_KEY)
    assert SCALE_PASSWORD in out and "itsa1@scale.example" in out and DEMO_AUTHENTICATOR_KEY in out
    assert "director1@scale.example" in out


@pytest.mark.postgres
def test_the_city_passes_the_separation_of_duties_scan_and_the_audit_chain_check(postgres):
    seed()
    assert "No separation-of-duties violation" in run("sod_scan")
    assert "chain intact" in run("verify_audit_log")


@pytest.mark.postgres
def test_each_annual_validation_opens_on_the_day_the_last_ones_completion_makes_it_due(postgres):
    """S3.4: the validations are where the nightly opening would have put them, and none is left due."""
    seed()
    today = timezone.localdate()
    for department in Department.objects.all():
        validations = list(Validation.objects.filter(department=department).order_by("period"))
        for before, after in zip(validations, validations[1:]):
            completed = timezone.localtime(before.completed_at).date()
            assert after.period == next_due_on(last_completed=completed, today=today)
        assert all(v.due_date == sign_off_due_on(opened_on=v.period) for v in validations)
    assert departments_due(today=today) == []


@pytest.mark.postgres
def test_validations_keep_the_items_order_statement_and_removals_the_portal_writes(postgres):
    seed()
    order = [f"grant__{field}" for field in ITEM_ORDER]
    for validation in Validation.objects.select_related("department", "signed_off_by"):
        items = validation.items.all()
        assert list(items.order_by("pk")) == list(items.order_by(*order))
        if validation.signed_off_by:
            kept = items.filter(decision=ValidationItem.Decision.KEEP).count()
            assert validation.sign_off_statement == sign_off_statement(
                validation=validation, by=validation.signed_off_by, kept=kept, signed_at=validation.signed_off_at)
    revoked = ValidationItem.objects.filter(decision=ValidationItem.Decision.REVOKE).select_related(
        "validation__department", "follow_up")
    assert revoked.exists()
    for item in revoked:
        assert item.follow_up.justification == revocation_justification(validation=item.validation,
                                                                        reason=item.reason)


@pytest.mark.postgres
def test_a_heads_filing_is_its_approval_and_every_request_keeps_the_written_text_it_was_filed_with(postgres):
    """S3.4c: what the head files goes straight to ITSA; the head declines only what others filed."""
    seed()
    by_head = AccessRequest.objects.filter(requested_by=F("department__head"))
    assert by_head.exists()
    assert not by_head.filter(status__in=[AccessRequest.Status.AWAITING_HEAD, AccessRequest.Status.DECLINED]).exists()
    for request in by_head:
        assert (request.approved_by_id, request.approved_at) == (request.requested_by_id, request.submitted_at)
        assert request.history.earliest("history_date").status == AccessRequest.Status.WITH_ITSA
    requests = AccessRequest.objects.select_related("department", "person", "system", "requested_by", "grant")
    for request in requests:
        if request.action == AccessRequest.Action.ADD:
            request.grant = None  # filed before ITSA made the grant
        uses = list(request.permissible_uses.select_related("intended_use").order_by("intended_use__position",
                                                                                    "position"))
        assert request.written_text == written_request_text(request, uses)
        assert request.written_sha256 == written_fingerprint(request.written_text)


@pytest.mark.postgres
def test_a_grants_history_names_the_itsa_administrator_who_suspended_or_removed_it(postgres):
    seed("--people", "150")  # enough grants for a few suspensions
    changes = Grant.history.filter(history_type="~").select_related("history_user")
    assert {Grant.Status.SUSPENDED, Grant.Status.REMOVED} <= set(changes.values_list("status", flat=True))
    for change in changes:
        request = AccessRequest.objects.get(
            grant_id=change.id, status=AccessRequest.Status.COMPLETED,
            action={Grant.Status.SUSPENDED: AccessRequest.Action.SUSPEND,
                    Grant.Status.REMOVED: AccessRequest.Action.REMOVE}[change.status])
        assert (change.history_user, change.history_date) == (request.processed_by, request.processed_at)
        assert change.history_change_reason == grant_status_reason(status=change.status, by=request.processed_by)


@pytest.mark.postgres
def test_it_refuses_a_production_portal_unless_forced(postgres, settings):
    settings.PRODUCTION = True
    with pytest.raises(CommandError, match="production"):
        seed()
    assert not User.objects.exists()
    seed("--force")
    assert User.objects.count() == 60 + CITY_WIDE


@pytest.mark.postgres
def test_it_refuses_a_database_that_already_holds_people(postgres):
    seed()
    with pytest.raises(CommandError, match="--wipe"):
        seed()
    assert User.objects.count() == 60 + CITY_WIDE


@pytest.mark.postgres
def test_wipe_rebuilds_the_same_city_from_the_same_seed(postgres):
    seed()
    uses = PermissibleUse.objects.count()

    def city():
        return (sorted(User.objects.values_list("email", flat=True)),
                sorted(Grant.objects.values_list("person__email", "system__code", "role", "status")))

    first = city()
    out = seed("--wipe")
    assert "Emptying" in out
    assert city() == first
    assert "chain intact" in run("verify_audit_log")  # the emptied trail starts again, signed
    assert PermissibleUse.objects.count() == uses
    assert User.objects.filter(groups__name=ITSA_GROUP).count() == 5
    seed("--wipe", "--seed", "7")
    assert city() != first


@pytest.mark.postgres
def test_it_asks_before_writing_unless_told_yes(postgres, monkeypatch):
    monkeypatch.setattr("builtins.input", lambda prompt: "no")
    with pytest.raises(CommandError, match="Nothing done"):
        call_command(Command(), *[a for a in TINY if a != "--yes"], stdout=StringIO())
    assert not User.objects.exists()


@pytest.mark.postgres
def test_it_refuses_sizes_that_cannot_hold_a_department(postgres):
    with pytest.raises(CommandError, match="at least"):
        call_command(Command(), "--people", "5", "--departments", "3", "--yes", stdout=StringIO())


def test_it_refuses_a_database_other_than_postgresql(db, monkeypatch):
    # On PostgreSQL the connection is made to say it is SQLite, so the refusal is proven on both.
    if connection.vendor == "postgresql":
        monkeypatch.setattr(connection, "vendor", "sqlite")
    with pytest.raises(CommandError, match="PostgreSQL only"):
        seed()
    assert not User.objects.exists()
