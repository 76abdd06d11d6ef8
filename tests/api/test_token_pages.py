"""ITSA's API token page and the API's documentation page, through the real URLs (S3.10, S3.6b).

A token's secret is shown once, in the answer to the POST that made it; the portal keeps only its
hash. Only ITSA sees the page; everyone else, oversight included, gets no page and the attempt is
recorded.
"""

import time
from datetime import timedelta

import pytest
from conftest import messages_of
from django.conf import settings
from django.urls import reverse
from django.utils import timezone
from rest_framework.test import APIClient

from api.models import ApiToken, Scope
from api.services import token_create
from portal.models import AuditEvent
from security.services import PASSWORD_AT

LIST = reverse("api_tokens:list")
NEW = reverse("api_tokens:new")
DOCS = reverse("api_tokens:docs")


def _in(days):
    return (timezone.localdate() + timedelta(days=days)).isoformat()


def _form(**changes):
    return {"name": "LPR vendor sync", "scopes": [Scope.READ, Scope.REPORT_USE], "system": "",
            "expires_on": _in(90), **changes}


@pytest.fixture
def itsa(city, client):
    client.force_login(city.itsa)
    return client


def _made(response) -> tuple[ApiToken, str]:
    token = ApiToken.objects.get()
    secret = response.context["secret"]
    assert secret.startswith("sap_") and response.context["made"] == token
    return token, secret


def _bearer(secret):
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Bearer {secret}")
    return api


def test_itsa_makes_a_token_and_sees_its_secret_once(city, itsa):
    """S3.10: the secret is in the POST's answer only: not stored, not in a message, not on the next GET."""
    response = itsa.post(NEW, _form(system=city.lpr.pk))

    assert response.status_code == 200
    token, secret = _made(response)
    html = response.content.decode()
    assert "Copy it now: it is not shown again" in html and secret in html
    assert "no-store" in response["Cache-Control"]
    assert (token.name, token.scopes, token.system, token.created_by) == (
        "LPR vendor sync", ["read", "report_use"], city.lpr, city.itsa)
    assert token.key_hash != secret and secret not in token.key_hash and token.prefix in secret
    assert messages_of(response) == []
    assert AuditEvent.objects.filter(action="api_token.create", actor=city.itsa, target__contains="LPR vendor sync",
                                     detail__contains="system " + city.lpr.code).exists()
    assert secret not in str(list(AuditEvent.objects.values_list("target", "detail")))

    again = itsa.get(LIST)
    assert again.status_code == 200
    assert secret not in again.content.decode() and "Copy it now" not in again.content.decode()
    assert "LPR vendor sync" in again.content.decode()


def test_the_secret_works_against_the_api_until_it_is_revoked(city, itsa):
    """S3.10, S3.6b: the token reads the API as its maker; revoking it stops it at once."""
    token, secret = _made(itsa.post(NEW, _form()))
    assert _bearer(secret).get("/api/v1/systems/").status_code == 200

    response = itsa.post(reverse("api_tokens:revoke", kwargs={"pk": token.pk}))

    assert response.status_code == 302 and response["Location"] == token.get_absolute_url()
    assert messages_of(response, levels=False) == [
        "The token “LPR vendor sync” is revoked: calls with it are refused from now on."]
    token.refresh_from_db()
    assert token.revoked_by == city.itsa and token.state == "Revoked"
    assert _bearer(secret).get("/api/v1/systems/").status_code == 401
    assert AuditEvent.objects.filter(action="api_token.revoke", actor=city.itsa).exists()
    page = itsa.get(LIST).content.decode()
    assert "Revoked" in page and reverse("api_tokens:revoke", kwargs={"pk": token.pk}) not in page


def test_the_list_shows_each_tokens_state_scopes_and_system(city, itsa):
    made = token_create(name="Roster export", scopes=[Scope.READ], expires_on=timezone.localdate() + timedelta(days=5),
                        by=city.itsa)[0]
    ApiToken.objects.filter(pk=made.pk).update(expires_on=timezone.localdate() - timedelta(days=1))
    token_create(name="Queue bot", scopes=[Scope.PROVISION], expires_on=timezone.localdate() + timedelta(days=5),
                 by=city.itsa2, system=city.vms)

    response = itsa.get(LIST)

    rows = {token.name: token.state for token in response.context["tokens"]}
    assert rows == {"Roster export": "Expired", "Queue bot": "Active"}
    html = response.content.decode()
    assert "Every system" in html and f"({city.vms.code})" in html and "Ike ITSA" in html
    assert '<span class="usa-tag margin-right-05">provision</span>' in html
    # Only the active token can be revoked.
    assert html.count("Revoke</button>") == 1


@pytest.mark.parametrize(("changes", "field", "message"), [
    ({"expires_on": _in(0)}, "expires_on", "The token must expire after today."),
    ({"expires_on": _in(settings.API_TOKEN_MAX_DAYS + 1)}, "expires_on", "A token lasts at most"),
    ({"expires_on": "next week"}, "expires_on", "Enter a valid date."),
    ({"scopes": []}, "scopes", "Choose what the token may do."),
    ({"scopes": ["admin"]}, "scopes", "Select a valid choice."),
    ({"name": "   "}, "name", "This field is required."),
    ({"system": "987654"}, "system", "Select a valid choice."),
])
def test_a_refused_token_shows_the_error_on_its_field(city, itsa, changes, field, message):
    """S3.10: the service's rules (expiry within API_TOKEN_MAX_DAYS, at least one scope) land on the field."""
    response = itsa.post(NEW, _form(**changes))

    assert response.status_code == 200
    assert any(message in error for error in response.context["form"].errors[field])
    assert response.context["secret"] == ""
    assert "usa-error-message" in response.content.decode()
    assert not ApiToken.objects.exists()


def test_a_name_in_use_is_refused_on_the_name_field(city, itsa):
    """S3.10: two live tokens never share a name, so the audit trail tells them apart."""
    itsa.post(NEW, _form())
    response = itsa.post(NEW, _form(name="lpr VENDOR sync"))

    assert "is in use" in " ".join(response.context["form"].errors["name"])
    assert ApiToken.objects.count() == 1


def test_making_and_revoking_ask_for_the_password_again_when_it_is_old(city, itsa):
    """S3.10: a token acts as its maker: making or revoking one needs the password entered lately."""
    token = token_create(name="Old", scopes=[Scope.READ], expires_on=timezone.localdate() + timedelta(days=5),
                         by=city.itsa)[0]
    session = itsa.session
    session[PASSWORD_AT] = time.time() - settings.PASSWORD_CONFIRM_SECONDS - 1
    session.save()

    for response in (itsa.post(NEW, _form()), itsa.post(reverse("api_tokens:revoke", kwargs={"pk": token.pk}))):
        assert response.status_code == 302 and response["Location"].startswith(reverse("security:confirm_password"))
    assert ApiToken.objects.count() == 1 and ApiToken.objects.get().revoked_at is None


@pytest.mark.parametrize("role", ["head", "requester", "officer", "designee", "auditor"])
def test_nobody_but_itsa_sees_or_uses_the_token_page(city, client, role):
    """S3.10: not even oversight: there is no page for them, and the attempt is recorded."""
    token = token_create(name="Sync", scopes=[Scope.READ], expires_on=timezone.localdate() + timedelta(days=5),
                         by=city.itsa)[0]
    person = getattr(city, role)
    client.force_login(person)

    assert client.get(LIST).status_code == 404
    assert client.post(NEW, _form(name="Mine")).status_code == 404
    assert client.post(reverse("api_tokens:revoke", kwargs={"pk": token.pk})).status_code == 404

    assert ApiToken.objects.count() == 1 and ApiToken.objects.get().revoked_at is None
    assert AuditEvent.objects.filter(action="api_token.view", actor=person, outcome="denied").count() == 3


def test_an_anonymous_visitor_is_sent_to_sign_in(city):
    from django.test import Client

    for response in (Client().get(LIST), Client().post(NEW, _form()), Client().get(DOCS)):
        assert response.status_code == 302 and reverse("login") in response["Location"]


def test_an_unknown_token_answers_404(city, itsa):
    assert itsa.post(reverse("api_tokens:revoke", kwargs={"pk": 987654})).status_code == 404


def test_revoking_a_revoked_token_changes_nothing(city, itsa):
    token, _ = _made(itsa.post(NEW, _form()))
    url = reverse("api_tokens:revoke", kwargs={"pk": token.pk})
    itsa.post(url)
    revoked_at = ApiToken.objects.get().revoked_at
    assert itsa.post(url).status_code == 302
    assert ApiToken.objects.get().revoked_at == revoked_at
    assert AuditEvent.objects.filter(action="api_token.revoke").count() == 1


def test_the_token_pages_answer_get_and_post_only_as_meant(city, itsa):
    token, _ = _made(itsa.post(NEW, _form()))
    assert itsa.get(NEW).status_code == 405
    assert itsa.get(reverse("api_tokens:revoke", kwargs={"pk": token.pk})).status_code == 405
    assert itsa.post(DOCS).status_code == 405


# --- The documentation ----------------------------------------------------------------------------

@pytest.mark.parametrize("role", ["officer", "itsa", "auditor"])
def test_every_signed_in_person_reads_the_documentation(city, client, role):
    """S3.6b: how systems call the API, from the API's own schema."""
    client.force_login(getattr(city, role))

    response = client.get(DOCS)

    assert response.status_code == 200
    html = response.content.decode()
    assert reverse("api:schema") in html and "curl -H" in html
    assert (reverse("api_tokens:list") in html) == (role == "itsa")
    operations = {op["id"]: op for _, ops in response.context["reference"]["groups"] for op in ops}
    assert len(operations) >= 15
    uses = operations["systems_uses_create"]
    assert (uses["method"], uses["path"], uses["scope"]) == ("POST", "/api/v1/systems/{code}/uses/", Scope.REPORT_USE)
    assert [f["name"] for f in uses["request_fields"]] == ["uses", "uses[].account_name", "uses[].last_used_at"]
    assert [f["name"] for f in uses["response_fields"]] == ["updated", "not_newer", "unknown"]
    assert operations["requests_provision_create"]["scope"] == Scope.PROVISION
    assert operations["requests_return_create"]["scope"] == Scope.PROVISION
    grants = operations["grants_list"]
    assert grants["scope"] == Scope.READ and grants["paginated"]
    assert {"system", "role", "status", "cursor"} <= {p["name"] for p in grants["query_parameters"]}
    assert "account_name" in {f["name"] for f in grants["response_fields"]}
    assert "one of active, removed, suspended" in html


def test_every_operation_of_the_schema_is_on_the_page(city, client):
    """The page is the schema's: an operation added to the API appears without touching the page."""
    from drf_spectacular.generators import SchemaGenerator

    client.force_login(city.officer)
    html = client.get(DOCS).content.decode()
    schema = SchemaGenerator().get_schema(request=None, public=True)
    for path, operations in schema["paths"].items():
        for method, operation in operations.items():
            assert f'id="{operation["operationId"]}"' in html
            assert f"{method.upper()} {path}" in html


def test_the_admin_shows_tokens_but_never_makes_or_changes_one(city, itsa):
    """S3.10: a token comes only from the service, which shows its secret once; its hash stays hidden."""
    from django.contrib.auth import get_user_model

    get_user_model().objects.filter(pk=city.itsa.pk).update(is_staff=True, is_superuser=True)
    token, _ = _made(itsa.post(NEW, _form()))

    assert itsa.get(reverse("admin:api_apitoken_add")).status_code == 403
    page = itsa.get(reverse("admin:api_apitoken_change", args=[token.pk]))
    assert page.status_code == 200 and token.key_hash not in page.content.decode()
    assert itsa.post(reverse("admin:api_apitoken_delete", args=[token.pk]), {"post": "yes"}).status_code == 403
    assert ApiToken.objects.filter(pk=token.pk).exists()
