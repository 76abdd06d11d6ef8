"""`manage.py import_city`: the row-by-row report, the progress bar, the totals and the exit code."""

import shutil
from io import StringIO
from pathlib import Path

import pytest
from django.conf import settings
from django.core.management import call_command, execute_from_command_line
from django.core.management.base import CommandError

from accounts.models import Department, Grant
from adoption.models import AdoptedGrant, ImportBatch
from portal.models import AuditEvent

SAMPLES = Path(settings.BASE_DIR) / "docs" / "samples" / "adoption"


@pytest.fixture
def files(tmp_path):
    target = tmp_path / "city"
    shutil.copytree(SAMPLES, target)
    return target


def run(*args):
    out, err = StringIO(), StringIO()
    call_command("import_city", *[str(arg) for arg in args], stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def test_a_dry_run_prints_every_row_and_writes_nothing(city, files):
    out, err = run(files, "--dry-run")

    assert "accounts.csv:2: create account iinspector on fire-vms" in out
    assert "departments.csv:3: create department transit" in out
    assert "12 create, 0 change, 0 unchanged, 0 refused" in out
    assert "Dry run: nothing was written." in out
    assert "[" + "#" * 30 + "] 12/12" in err
    assert not Department.objects.filter(code="fire").exists() and not ImportBatch.objects.exists()


def test_a_refused_row_is_printed_with_its_reason_and_the_command_fails(city, files):
    (files / "accounts.csv").write_text((files / "accounts.csv").read_text().replace("vadmin,administrator", "vadmin,root"))
    out = StringIO()
    with pytest.raises(CommandError, match="1 row\\(s\\) refused: nothing was imported"):
        call_command("import_city", str(files), "--by", city.itsa.email, stdout=out, stderr=StringIO())

    assert "accounts.csv:3: refused account vadmin on fire-vms: The role “root” does not exist" in out.getvalue()
    assert not Grant.objects.filter(account_name="iinspector").exists()


def test_the_exit_code_is_not_zero_when_a_row_is_refused(city, files, capsys):
    (files / "people.csv").write_text((files / "people.csv").read_text().replace(",transit,\n", ",tranzit,\n", 1))
    with pytest.raises(SystemExit) as exit:
        execute_from_command_line(["manage.py", "import_city", str(files), "--dry-run"])
    assert exit.value.code != 0
    assert "Unknown department “tranzit”" in capsys.readouterr().out


def test_a_real_run_imports_and_names_the_baseline_validations(city, files):
    out, _ = run(files, "--by", city.itsa.email)

    assert f"Imported as batch {ImportBatch.objects.get().pk}." in out
    assert "Baseline validation: Annual validation — Fire Department" in out
    assert AdoptedGrant.objects.count() == 3
    again, _ = run(files, "--by", city.itsa.email)
    assert "Nothing to import: every row is already in the portal." in again
    assert "0 create, 0 change, 12 unchanged, 0 refused" in again
    assert "accounts.csv:2: unchanged account iinspector on fire-vms" in again


def test_a_real_run_needs_an_itsa_importer(city, files):
    """S3.5b: only ITSA creates accounts; the refusal is on the audit trail."""
    with pytest.raises(CommandError, match="needs --by"):
        run(files)
    with pytest.raises(CommandError, match="not an ITSA administrator"):
        run(files, "--by", city.head.email)
    assert not ImportBatch.objects.exists()
    assert AuditEvent.objects.filter(action="adoption.import", outcome="denied", actor=city.head).exists()


def test_a_real_run_shows_both_progress_bars_to_the_end(city, files):
    _, err = run(files, "--by", city.itsa.email)
    assert "Checking [" + "#" * 30 + "] 12/12" in err
    assert "Importing [" + "#" * 30 + "] 12/12" in err
