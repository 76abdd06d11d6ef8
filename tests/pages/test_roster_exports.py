"""Rosters out (issue "Bring a real city in", part 3): who holds which role on a system, and a
department's people and their access, as CSV, scoped as the pages are, each export in the audit trail."""

import csv
import io

from conftest import provisioned, signed_in_client
from django.urls import reverse

from accounts.models import Grant
from accounts.services import grant_open
from portal.models import AuditEvent


def _csv(response) -> list[list[str]]:
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    return list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode())))


def _client(user):
    client = signed_in_client()
    client.force_login(user)
    return client


def _streets_grant_on_the_vms(city):
    return grant_open(person=city.streets_worker, system=city.vms, department=city.streets, role="end_user",
                      account_name="wworker", permissible_uses=[city.crime_detection], by=city.itsa)


def test_itsa_and_oversight_get_every_live_account_on_a_system(city):
    police = provisioned(city).grant
    streets = _streets_grant_on_the_vms(city)
    ended = provisioned(city, person=city.analyst).grant
    Grant.objects.filter(pk=ended.pk).update(status=Grant.Status.REMOVED)
    for reader in (city.itsa, city.auditor):
        rows = _csv(_client(reader).get(reverse("accounts:system_roster_csv", args=[city.vms.pk])))
        assert rows[0][:6] == ["person", "e-mail", "employee department", "system", "role", "account name"]
        names = {row[5] for row in rows[1:]}
        assert names == {police.account_name, streets.account_name}
    events = AuditEvent.objects.filter(action="roster.export", target=str(city.vms))
    assert events.count() == 2 and set(events.values_list("actor", flat=True)) == {city.itsa.pk, city.auditor.pk}


def test_a_head_gets_only_their_departments_accounts(city):
    police = provisioned(city).grant
    _streets_grant_on_the_vms(city)
    rows = _csv(_client(city.head).get(reverse("accounts:system_roster_csv", args=[city.vms.pk])))
    assert [row[5] for row in rows[1:]] == [police.account_name]


def test_people_with_no_portal_role_cannot_export(city):
    response = _client(city.officer).get(reverse("accounts:system_roster_csv", args=[city.vms.pk]))
    assert response.status_code == 404
    assert AuditEvent.objects.filter(action="roster.export", outcome="denied", actor=city.officer).exists()
    assert _client(city.designee).get(reverse("accounts:department_people_csv",
                                              args=[city.police.pk])).status_code == 404


def test_a_departments_people_and_their_access(city):
    grant = provisioned(city).grant
    rows = _csv(_client(city.head).get(reverse("accounts:department_people_csv", args=[city.police.pk])))
    by_person = {}
    for row in rows[1:]:
        by_person.setdefault(row[1], []).append(row)
    assert by_person[city.officer.email][0][5] == grant.account_name
    assert by_person[city.analyst.email] == [[city.analyst.full_name, city.analyst.email, city.police.name,
                                              "", "", "", "", "", "", "", ""]]
    assert city.streets_worker.email not in by_person
    assert _client(city.head).get(reverse("accounts:department_people_csv",
                                          args=[city.streets.pk])).status_code == 404
    assert AuditEvent.objects.filter(action="roster.export", target=str(city.police), actor=city.head).exists()


def test_a_cell_a_spreadsheet_would_run_is_written_as_text(city):
    officer = city.officer
    officer.full_name = "=HYPERLINK(\"http://evil.example\")"
    officer.save()
    provisioned(city)
    rows = _csv(_client(city.itsa).get(reverse("accounts:system_roster_csv", args=[city.vms.pk])))
    assert rows[1][0].startswith("'=")


def test_the_pages_link_their_exports(city):
    grant = provisioned(city).grant
    page = _client(city.head).get(reverse("accounts:department", args=[city.police.pk])).content.decode()
    assert reverse("accounts:department_people_csv", args=[city.police.pk]) in page
    assert reverse("accounts:system_roster_csv", args=[city.vms.pk]) in page
    page = _client(city.auditor).get(reverse("accounts:grant", args=[grant.pk])).content.decode()
    assert reverse("accounts:system_roster_csv", args=[city.vms.pk]) in page
