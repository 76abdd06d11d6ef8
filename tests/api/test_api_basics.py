"""The API's sign-in, scopes, problem details and a first read, through the real URLs."""

from datetime import timedelta

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from api.models import Scope
from api.services import token_create, token_revoke
from portal.models import AuditEvent


def token_for(city, *scopes, system=None, by=None):
    return token_create(name=f"script {len(scopes)} {system or ''}", scopes=list(scopes) or [Scope.READ],
                        expires_on=timezone.localdate() + timedelta(days=30), by=by or city.itsa, system=system)


def bearer(secret):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {secret}")
    return client


def test_a_call_without_a_token_is_a_401_problem(city):
    response = APIClient().get("/api/v1/grants/")
    assert response.status_code == 401
    assert response["Content-Type"] == "application/problem+json"
    assert response.json()["status"] == 401 and response["WWW-Authenticate"].startswith("Bearer")


def test_a_read_token_lists_the_roster_of_a_system(city):
    from conftest import provisioned

    grant = provisioned(city, person=city.officer).grant
    _, secret = token_for(city, Scope.READ)
    response = bearer(secret).get("/api/v1/grants/", {"system": city.vms.code})
    assert response.status_code == 200, response.content
    rows = response.json()["results"]
    assert [row["account_name"] for row in rows] == [grant.account_name]
    assert AuditEvent.objects.filter(action="api.grant.list", actor=city.itsa, detail__contains="API token").exists()


def test_a_revoked_token_is_refused(city):
    token, secret = token_for(city, Scope.READ)
    token_revoke(token=token, by=city.itsa)
    assert bearer(secret).get("/api/v1/systems/").status_code == 401


@pytest.mark.parametrize("bad", ["role=superuser", "status=nope"])
def test_a_bad_filter_is_a_400_problem_naming_the_field(city, bad):
    _, secret = token_for(city, Scope.READ)
    name, value = bad.split("=")
    response = bearer(secret).get("/api/v1/grants/", {name: value})
    assert response.status_code == 400
    assert name in response.json()["errors"]


def test_a_write_needs_its_scope(city):
    _, secret = token_for(city, Scope.READ)
    response = bearer(secret).post(f"/api/v1/systems/{city.vms.code}/uses/",
                                   {"uses": [{"account_name": "x", "last_used_at": "2026-01-01"}]}, format="json")
    assert response.status_code == 403
    assert "report_use" in response.json()["detail"]


def test_the_schema_is_served_to_a_caller(city):
    _, secret = token_for(city, Scope.READ)
    response = bearer(secret).get("/api/v1/schema/")
    assert response.status_code == 200
    assert response.json()["openapi"] == "3.1.0"
    assert APIClient().get("/api/v1/schema/").status_code == 401


def test_a_body_over_the_limit_is_a_413_problem_before_it_is_read(city, settings):
    settings.REQUEST_MAX_BYTES = 1000
    _, secret = token_for(city, Scope.REPORT_USE)
    response = bearer(secret).post(f"/api/v1/systems/{city.vms.code}/uses/",
                                   {"uses": [{"account_name": "x" * 100, "last_used_at": "2026-01-01"}] * 20},
                                   format="json")
    assert response.status_code == 413
    assert response["Content-Type"] == "application/problem+json"
    assert response.json()["status"] == 413


def test_a_system_token_reads_only_the_departments_and_validations_of_its_system(city):
    """S3.10: a token bound to a system reads that system's records only."""
    from conftest import provisioned

    from audits.services import user_audit_open

    provisioned(city, person=city.officer)
    validation = user_audit_open(by=city.itsa, department=city.police)
    _, on_vms = token_for(city, Scope.READ, system=city.vms)
    _, on_lpr = token_for(city, Scope.READ, system=city.lpr)

    assert [row["code"] for row in bearer(on_vms).get("/api/v1/departments/").json()["results"]] == [city.police.code]
    assert [row["id"] for row in bearer(on_vms).get("/api/v1/validations/").json()["results"]] == [validation.pk]
    assert bearer(on_lpr).get("/api/v1/departments/").json()["results"] == []
    assert bearer(on_lpr).get("/api/v1/validations/").json()["results"] == []
