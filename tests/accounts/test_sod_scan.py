import pytest
from conftest import provisioned
from django.core.management import CommandError, call_command
from django.utils import timezone

from accounts.models import Grant


def test_it_reports_no_violation_on_a_clean_city(city, capsys):
    """S3.2a S3.2b"""
    provisioned(city)
    call_command("sod_scan")
    assert "No separation-of-duties violation" in capsys.readouterr().out


def test_it_lists_an_end_user_who_was_made_administrator_by_a_direct_edit_and_exits_non_zero(city, capsys):
    """S3.2a S3.2b: imported data or a direct database edit is found and reported."""
    request = provisioned(city)
    Grant.objects.create(person=city.officer, system=city.vms, department=city.police, role="administrator",
                         account_name="imported-admin", provisioned_at=timezone.now(), provisioned_by=city.itsa)
    with pytest.raises(CommandError) as failure:
        call_command("sod_scan")
    assert failure.value.returncode == 1
    out = capsys.readouterr().out
    assert city.officer.email in out and "Citywide VMS" in out
    assert "imported-admin" in out and request.grant.account_name in out
