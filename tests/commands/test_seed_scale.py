import re
from base64 import b32decode
from io import StringIO

import pytest
from django.contrib.contenttypes.models import ContentType
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection
from django.db.models import Exists, OuterRef
from django_otp.plugins.otp_totp.models import TOTPDevice
from guardian.shortcuts import get_users_with_perms

from access_requests.models import AccessRequest
from accounts.models import DESIGNEE_GROUP, ITSA_GROUP, AuthorizedRequester, Department, Grant, SurveillanceSystem, User
from accounts.sod import sod_violations
from audits.management.commands.seed_demo import DEMO_AUTHENTICATOR_KEY
from audits.management.commands.seed_scale import SCALE_PASSWORD
from audits.models import Validation, ValidationItem
from portal.history import timeline
from portal.models import PermissibleUse
from services import require_postgres

TINY = ["--people", "60", "--departments", "3", "--systems", "4", "--years", "2", "--yes"]
CITY_WIDE = 5 + 2  # ITSA administrators and Mayor's designees


@pytest.fixture
def postgres(db):
    require_postgres()
    yield
    # --wipe empties tables inside the test's transaction; nothing cached may outlive its rollback.
    ContentType.objects.clear_cache()


def seed(*args) -> str:
    out = StringIO()
    call_command("seed_scale", *TINY, *args, stdout=out)
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
        assert addition.submitted_at < addition.approved_at < addition.processed_at == grant.provisioned_at
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
    assert {user.pk for user in known} == heads | {
        User.objects.get(email="itsa1@scale.example").pk, User.objects.get(email="designee1@scale.example").pk}
    assert not any(user.has_usable_password() for user in User.objects.exclude(pk__in=[u.pk for u in known]))
    for user in known:
        device = TOTPDevice.objects.get(user=user, confirmed=True)
        assert device.bin_key == b32decode(DEMO_AUTHENTICATOR_KEY)
    assert SCALE_PASSWORD in out and "itsa1@scale.example" in out and DEMO_AUTHENTICATOR_KEY in out


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
    assert PermissibleUse.objects.count() == uses
    assert User.objects.filter(groups__name=ITSA_GROUP).count() == 5
    seed("--wipe", "--seed", "7")
    assert city() != first


@pytest.mark.postgres
def test_it_asks_before_writing_unless_told_yes(postgres, monkeypatch):
    monkeypatch.setattr("builtins.input", lambda prompt: "no")
    with pytest.raises(CommandError, match="Nothing done"):
        call_command("seed_scale", *[a for a in TINY if a != "--yes"], stdout=StringIO())
    assert not User.objects.exists()


@pytest.mark.postgres
def test_it_refuses_sizes_that_cannot_hold_a_department(postgres):
    with pytest.raises(CommandError, match="at least"):
        call_command("seed_scale", "--people", "5", "--departments", "3", "--yes", stdout=StringIO())


def test_it_refuses_a_database_other_than_postgresql(db, monkeypatch):
    # On PostgreSQL the connection is made to say it is SQLite, so the refusal is proven on both.
    if connection.vendor == "postgresql":
        monkeypatch.setattr(connection, "vendor", "sqlite")
    with pytest.raises(CommandError, match="PostgreSQL only"):
        seed()
    assert not User.objects.exists()
