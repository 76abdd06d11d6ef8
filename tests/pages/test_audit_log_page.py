"""The audit log page and its CSV export (S3.10): ITSA searches and exports the log, nobody else
sees it, every export is itself on the log; and a refusal (403) is a security event."""

import csv
import io
import json
from datetime import datetime
from unittest import mock
from zoneinfo import ZoneInfo

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from portal.audit import audit_record
from portal.models import AuditEvent

UTC = ZoneInfo("UTC")


def _at(moment: datetime, **kwargs) -> AuditEvent:
    """An entry written at a given moment (the chain takes its time from the clock)."""
    with mock.patch("django.utils.timezone.now", return_value=moment):
        return audit_record(**kwargs)


def _seqs(response) -> list[int]:
    return [entry.seq for entry in response.context["page_obj"]]


def _csv(response) -> list[list[str]]:
    assert response.streaming
    return list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode())))


@pytest.fixture
def itsa(city, client):
    client.force_login(city.itsa)
    return client


# --- Who sees it ----------------------------------------------------------------------------------

def test_itsa_sees_the_newest_entries_first_with_who_what_when_where_and_outcome(city, itsa):
    """S3.10"""
    entry = audit_record(actor=city.head, action="access_request.approve", target="AR-1", detail="by the head")

    response = itsa.get(reverse("audit_log"))

    assert response.status_code == 200
    seqs = _seqs(response)
    assert entry.seq in seqs and seqs == sorted(seqs, reverse=True)
    page = response.content.decode()
    for text in (str(entry.seq), "Approved an access request", "AR-1", "by the head", city.head.email, "Success"):
        assert text in page
    assert "access_request.approve" not in page.split("<tbody>")[1]  # the code is for the CSV
    assert 'title="' in page and " UTC" in page
    assert page.count("<h1") == 1


@pytest.mark.parametrize("role", ["head", "requester", "officer", "outsider", "designee"])
def test_the_log_does_not_exist_for_anyone_but_itsa_and_the_attempt_is_logged(city, client, role):
    """S3.10"""
    person = getattr(city, role)
    client.force_login(person)

    assert client.get(reverse("audit_log")).status_code == 404
    assert client.get(reverse("audit_log_export")).status_code == 404
    assert AuditEvent.objects.filter(actor=person, action="audit_log.view", outcome="denied").count() == 2
    assert not AuditEvent.objects.filter(action="audit_log.export").exists()


def test_an_anonymous_visitor_is_sent_to_sign_in(city, client):
    for name in ("audit_log", "audit_log_export"):
        response = client.get(reverse(name))
        assert response.status_code == 302 and reverse("login") in response["Location"]


def test_itsa_finds_the_log_in_the_navigation_and_others_do_not(city, itsa, client):
    assert f'href="{reverse("audit_log")}"' in itsa.get(reverse("home")).content.decode()
    client.force_login(city.head)
    assert f'href="{reverse("audit_log")}"' not in client.get(reverse("home")).content.decode()


def test_the_page_states_how_long_entries_are_kept(city, itsa, settings):
    """S3.10"""
    settings.AUDIT_RETENTION_DAYS = 730

    assert "kept at least 730 days" in itsa.get(reverse("audit_log")).content.decode()


def test_the_log_cannot_be_changed_from_the_page(city, itsa):
    """S3.10: reading only."""
    assert itsa.post(reverse("audit_log")).status_code == 405
    assert itsa.post(reverse("audit_log_export")).status_code == 405


# --- Search ---------------------------------------------------------------------------------------

def test_the_search_by_action_offers_the_actions_present_and_finds_them(city, itsa):
    """S3.10"""
    audit_record(actor=city.itsa, action="test.rare", target="once")

    response = itsa.get(reverse("audit_log"), {"action": "test.rare"})

    choices = [value for value, _ in response.context["form"].fields["action"].choices]
    assert "test.rare" in choices and "department.set_head" in choices
    assert [e.action for e in response.context["page_obj"]] == ["test.rare"]


def test_an_action_not_in_the_log_is_a_form_error(city, itsa):
    response = itsa.get(reverse("audit_log"), {"action": "made.up"})

    assert response.status_code == 200
    assert response.context["form"].errors["action"]
    assert not response.context["page_obj"].object_list


def test_the_search_by_outcome_person_and_target(city, itsa):
    """S3.10"""
    denied = audit_record(actor=city.outsider, action="access_request.approve", target="AR-OUT-7", outcome="denied")
    audit_record(actor=city.head, action="access_request.approve", target="AR-OUT-8")

    assert _seqs(itsa.get(reverse("audit_log"), {"outcome": "denied", "actor": "STREETS.example"})) == [denied.seq]
    assert _seqs(itsa.get(reverse("audit_log"), {"actor": "Oscar", "target": "AR-OUT"})) == [denied.seq]
    assert _seqs(itsa.get(reverse("audit_log"), {"target": "ar-out-7"})) == [denied.seq]
    assert len(_seqs(itsa.get(reverse("audit_log"), {"target": "AR-OUT"}))) == 2


def test_dates_are_local_days_turned_into_utc_ranges(city, itsa, settings):
    """S3.10: 23:30 in Chicago on March 9 is already March 10 in UTC (and that night the clocks changed)."""
    settings.TIME_ZONE = "America/Chicago"
    late = _at(datetime(2025, 3, 10, 4, 30, tzinfo=UTC), actor=None, action="test.dated", target="late on the 9th")
    early = _at(datetime(2025, 3, 10, 5, 30, tzinfo=UTC), actor=None, action="test.dated", target="early on the 10th")
    _at(datetime(2025, 3, 11, 5, 0, tzinfo=UTC), actor=None, action="test.dated", target="on the 11th")

    def found(**dates):
        return _seqs(itsa.get(reverse("audit_log"), {"action": "test.dated", **dates}))

    assert found(date_from="2025-03-09", date_to="2025-03-09") == [late.seq]
    assert found(date_from="2025-03-10", date_to="2025-03-10") == [early.seq]
    assert found(date_to="2025-03-10") == [early.seq, late.seq]
    assert len(found(date_from="2025-03-10")) == 2


def test_a_date_range_that_ends_before_it_starts_is_refused_with_a_message(city, itsa):
    response = itsa.get(reverse("audit_log"), {"date_from": "2025-03-10", "date_to": "2025-03-01"})

    page = response.content.decode()
    assert "Enter a date on or after the From date." in page
    assert 'id="id_date_to_error"' in page and 'aria-invalid="true"' in page
    assert reverse("audit_log_export") not in page


def test_the_log_is_paginated_and_the_search_is_kept_across_pages(city, itsa, settings):
    """S3.10"""
    settings.PAGE_SIZE = 5
    written = [audit_record(actor=None, action="test.paged", target=f"n{n}").seq for n in range(12)]

    first = itsa.get(reverse("audit_log"), {"action": "test.paged"})
    third = itsa.get(reverse("audit_log"), {"action": "test.paged", "page": 3})

    assert _seqs(first) == written[::-1][:5]
    assert _seqs(third) == written[::-1][10:]
    assert "action=test.paged&amp;page=2" in first.content.decode()


def test_the_number_of_queries_does_not_grow_with_the_rows(city, itsa, settings):
    """S3.10"""
    settings.PAGE_SIZE = 25
    for n in range(3):
        audit_record(actor=city.officer, action="test.count", target=f"n{n}")
    with CaptureQueriesContext(connection) as few:
        assert len(itsa.get(reverse("audit_log"), {"action": "test.count"}).context["page_obj"]) == 3
    for n in range(30):
        audit_record(actor=[city.head, city.requester, city.analyst][n % 3], action="test.count", target=f"m{n}")
    with CaptureQueriesContext(connection) as many:
        assert len(itsa.get(reverse("audit_log"), {"action": "test.count"}).context["page_obj"]) == 25

    assert len(many.captured_queries) == len(few.captured_queries)


def test_a_refused_look_names_the_record_the_reader_may_see(city, itsa):
    """S3.10: an attempt to open a record one may not see names it on the log, not "person 12"."""
    audit_record(actor=city.outsider, action="person.view", target=f"person {city.officer.pk}", outcome="denied")
    audit_record(actor=city.outsider, action="access request.view", target="access request 987654", outcome="denied")

    page = itsa.get(reverse("audit_log")).content.decode()

    assert f"{city.officer} (person {city.officer.pk})" in page
    assert "Viewed a person" in page
    # An older spelling reads the same; a record that is gone keeps its number.
    assert "Viewed an access request" in page and "access request 987654" in page


def test_the_action_search_offers_labels_and_keeps_the_codes(city, itsa):
    audit_record(actor=city.itsa, action="department.set_head", target="Police")
    choices = dict(itsa.get(reverse("audit_log")).context["form"].fields["action"].choices)
    assert choices["department.set_head"] == "Named a department's head"


def _action_codes_in_the_source() -> set[str]:
    """Every action the portal's code writes with a literal code."""
    import re
    from pathlib import Path

    from django.conf import settings

    root = Path(settings.BASE_DIR)
    codes = set()
    for path in root.glob("*/**/*.py"):
        if any(part in {".venv", "node_modules", "tests", "migrations", "bench"} for part in path.parts):
            continue
        codes |= set(re.findall(r'\baction="([a-z_]+(?:\.[a-z_]+)+|[a-z_]+)"', path.read_text()))
    return codes - {"store_true", "append", "add", "change"}  # argparse and admin words, not audit actions


def test_every_action_the_portal_writes_reads_as_words():
    """S3.10: a new action without a label fails here, so the log never shows a bare code."""
    from portal.audit_labels import action_label

    codes = _action_codes_in_the_source()
    assert len(codes) > 100
    bare = sorted(code for code in codes if action_label(code) == code)
    assert not bare, f"actions with no label: {bare}"


# --- Export ---------------------------------------------------------------------------------------

def test_the_export_streams_the_current_search_oldest_first(city, itsa):
    """S3.10"""
    first = audit_record(actor=city.head, action="test.export", target="first", detail="line one\nline two")
    second = audit_record(actor=None, action="test.export", target="second", outcome="refused")
    audit_record(actor=None, action="test.other", target="not this one")

    response = itsa.get(reverse("audit_log_export"), {"action": "test.export"})

    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    assert response["Content-Disposition"].startswith('attachment; filename="audit-log-')
    header, *rows = _csv(response)
    assert header[:2] == ["seq", "time (UTC)"] and "detail" in header and "hash" in header
    assert [row[0] for row in rows] == [str(first.seq), str(second.seq)]
    assert rows[0][header.index("person e-mail")] == city.head.email
    assert rows[0][header.index("detail")] == "line one\nline two"
    assert rows[1][header.index("outcome")] == "refused" and rows[1][header.index("person e-mail")] == ""
    assert rows[0][header.index("hash")] == first.hash
    assert rows[0][1] == first.at.astimezone(UTC).isoformat()


def test_each_export_is_on_the_log_with_its_search(city, itsa):
    """S3.10"""
    itsa.get(reverse("audit_log_export"), {"outcome": "denied", "date_from": "2025-01-01"})

    export = AuditEvent.objects.get(action="audit_log.export")
    assert export.actor == city.itsa and export.outcome == "success"
    assert json.loads(export.detail) == {"outcome": "denied", "date_from": "2025-01-01"}


def test_export_cells_that_a_spreadsheet_would_run_as_formulas_are_quoted(city, itsa):
    """S3.10: CSV injection."""
    hostile = ["=HYPERLINK(\"http://evil.example\")", "+1+1", "-2+3", "@SUM(A1)", "\tindented", "\rreturned"]
    for text in hostile:
        audit_record(actor=None, action="test.hostile", target=text[:200], detail=text)
    audit_record(actor=None, action="test.hostile", target="plain", detail="a - b = c")

    header, *rows = _csv(itsa.get(reverse("audit_log_export"), {"action": "test.hostile"}))

    targets = [row[header.index("target")] for row in rows]
    details = [row[header.index("detail")] for row in rows]
    assert targets == ["'" + text for text in hostile] + ["plain"]
    assert details == ["'" + text for text in hostile] + ["a - b = c"]


def test_an_export_with_a_wrong_search_goes_back_to_the_page_and_exports_nothing(city, itsa):
    response = itsa.get(reverse("audit_log_export"), {"date_from": "not a date"})

    assert response.status_code == 302 and response["Location"].startswith(reverse("audit_log"))
    assert not AuditEvent.objects.filter(action="audit_log.export").exists()


def test_the_page_links_to_the_export_of_the_same_search(city, itsa):
    page = itsa.get(reverse("audit_log"), {"outcome": "denied"}).content.decode()

    assert f'href="{reverse("audit_log_export")}?outcome=denied' in page


# --- Permission denied ----------------------------------------------------------------------------

def test_a_permission_denied_is_a_security_event_on_the_log(city, client):
    """S3.10 S5.2: a 403 anywhere (here: the admin refusing a non-staff change) is recorded."""
    from accounts.models import User

    User.objects.filter(pk=city.itsa.pk).update(is_staff=True, is_superuser=True)
    client.force_login(city.itsa)
    url = reverse("admin:portal_auditevent_add")

    response = client.get(url)

    assert response.status_code == 403
    assert "Not allowed" in response.content.decode()
    event = AuditEvent.objects.get(action="permission.denied")
    assert (event.actor, event.outcome, event.target) == (city.itsa, "denied", url)
    assert event.detail.startswith("GET")
