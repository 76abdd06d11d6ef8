"""`python manage.py open_due_validations` (S3.4e): runs the daily task's function by hand, prints
what it opened, and opens nothing twice."""

from datetime import timedelta

from conftest import provisioned
from django.conf import settings
from django.core.management import call_command
from django.utils import timezone

from accounts.models import Grant
from audits.models import Validation, ValidationItem


def _run(capsys) -> str:
    call_command("open_due_validations")
    return capsys.readouterr().out


def _streets_grant(city):
    return Grant.objects.create(
        person=city.streets_worker, system=city.traffic, department=city.streets, role=Grant.Role.END_USER,
        account_name="worker-traffic", provisioned_at=timezone.now(), provisioned_by=city.itsa,
    )


def test_the_command_prints_each_validation_it_opens(city, capsys):
    """S3.4e"""
    provisioned(city)
    provisioned(city, person=city.analyst)
    _streets_grant(city)
    due = timezone.localdate() + timedelta(days=settings.VALIDATION_DUE_DAYS)

    out = _run(capsys)

    assert f"Opened: Police Department — 2 items, due {due:%Y-%m-%d}" in out
    assert "Opened: Streets Department — 1 item" in out and f"due {due:%Y-%m-%d}" in out
    assert "2 validations opened." in out
    assert Validation.objects.count() == 2 and ValidationItem.objects.count() == 3


def test_the_command_run_twice_opens_nothing_the_second_time(city, capsys):
    """S3.4e: safe to repeat."""
    provisioned(city)
    first = _run(capsys)

    second = _run(capsys)

    assert "1 validation opened." in first
    assert "Opened:" not in second and "0 validations opened." in second
    assert Validation.objects.count() == 1
    assert ValidationItem.objects.count() == 1


def test_the_command_with_nothing_due_opens_nothing(city, capsys):
    """S3.4e: no department has live grants."""
    assert "0 validations opened." in _run(capsys)
    assert not Validation.objects.exists()


def test_the_command_finishes_the_items_a_stopped_run_left_out(city, capsys):
    """S3.4e"""
    provisioned(city)
    provisioned(city, person=city.analyst)
    _run(capsys)
    ValidationItem.objects.filter(grant__person=city.analyst).delete()

    out = _run(capsys)

    assert "0 validations opened." in out
    validation = Validation.objects.get()
    assert validation.items.count() == 2
    assert validation.items.filter(grant__person=city.analyst).count() == 1
