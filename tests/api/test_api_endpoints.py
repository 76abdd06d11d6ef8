"""The API's endpoints doing their work through the real URLs: last use reported and seen on the
validation page, provisioning and returning with the page's checks, pages of lists, the limit of
calls, and the audit trail of every read of personal data and every change."""

import re
from datetime import timedelta

import pytest
from api_support import SessionJson, assert_problem, bearer, fresh_call_counts, token_for  # noqa: F401
from conftest import file_request, open_validation, provisioned, signed_in_client
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from rest_framework.test import APIClient

from access_requests.models import AccessRequest
from access_requests.services import access_request_approve, access_request_provision
from accounts.models import Grant, SodFinding, User
from api.models import Scope
from api.pagination import IdCursorPagination
from api.throttling import FailedTokenThrottle, PerTokenThrottle
from portal.models import AuditEvent


def uses_url(system):
    return reverse("api:system_uses", kwargs={"code": system.code})


def report(client, system, *uses):
    return client.post(uses_url(system), {"uses": [{"account_name": name, "last_used_at": when}
                                                   for name, when in uses]}, format="json")


def shown_date(day):
    return f"{day:%b} {day.day}, {day.year}"


# --- Last use, seen where the head validates (S3.4e, S3.4f) ----------------------------------------

def test_a_use_reported_through_the_api_shows_on_the_validation_page(city):
    """S3.4f: the head validating the police's users sees when each account was last used, as the
    system reported it through the API."""
    validation = open_validation(city)
    item = validation.items.get(grant__person=city.officer)
    _, secret = token_for(city, Scope.REPORT_USE)
    used_on = timezone.localdate() - timedelta(days=3)

    response = report(bearer(secret), city.vms, (item.grant.account_name.upper(), used_on.isoformat()))

    assert response.status_code == 200, response.content
    assert response.json() == {"updated": 1, "not_newer": 0, "unknown": []}
    client = signed_in_client()
    client.force_login(city.head)
    page = client.get(reverse("audits:validation", args=[validation.pk])).content.decode()
    row = re.search(rf'<tr id="item-{item.pk}">(.*?)</tr>', page, re.S).group(1)
    assert "Last used" in row and shown_date(used_on) in row
    other = re.search(rf'<tr id="item-{validation.items.exclude(pk=item.pk).get().pk}">(.*?)</tr>', page, re.S)
    assert "No use recorded" in other.group(1)


def test_a_last_use_never_moves_backwards(city, grant):
    """S3.4e: an older report than the one on record changes nothing, and says so."""
    _, secret = token_for(city, Scope.REPORT_USE)
    client = bearer(secret)
    recent, older = timezone.localdate() - timedelta(days=1), timezone.localdate() - timedelta(days=20)
    assert report(client, city.vms, (grant.account_name, recent.isoformat())).json()["updated"] == 1

    response = report(client, city.vms, (grant.account_name, older.isoformat()))

    assert response.json() == {"updated": 0, "not_newer": 1, "unknown": []}
    grant.refresh_from_db()
    assert timezone.localdate(grant.last_used_at) == recent


@pytest.mark.parametrize("when", ["tomorrow", "1969-12-31", "0001-01-01T00:00:00+14:00", "yesterday-ish"])
def test_a_use_in_the_future_or_not_a_date_is_a_400_problem_and_nothing_is_recorded(city, grant, when):
    """S3.4e: a report the portal cannot trust is refused whole, naming the line."""
    _, secret = token_for(city, Scope.REPORT_USE)
    day = (timezone.localdate() + timedelta(days=1)).isoformat() if when == "tomorrow" else when
    good = (grant.account_name, (timezone.localdate() - timedelta(days=2)).isoformat())

    response = report(bearer(secret), city.vms, good, (grant.account_name, day))

    body = assert_problem(response, 400)
    assert list(body["errors"]) == ["uses[1].last_used_at"] and "uses[1].last_used_at" in body["detail"]
    grant.refresh_from_db()
    assert grant.last_used_at is None


def test_an_unknown_account_is_listed_and_the_known_ones_recorded(city, grant):
    _, secret = token_for(city, Scope.REPORT_USE)
    day = (timezone.localdate() - timedelta(days=1)).isoformat()

    response = report(bearer(secret), city.vms, (grant.account_name, day), ("ghost", day))

    assert response.json() == {"updated": 1, "not_newer": 0, "unknown": [
        {"account_name": "ghost", "reason": "no live grant with this account name on the system"}]}


def test_a_token_of_another_system_reports_nothing_for_this_one(city, grant):
    """A token bound to a system acts on that system only."""
    _, secret = token_for(city, Scope.REPORT_USE, system=city.lpr)

    response = report(bearer(secret), city.vms, (grant.account_name, str(timezone.localdate())))

    assert "lpr only" in assert_problem(response, 403)["detail"]
    grant.refresh_from_db()
    assert grant.last_used_at is None


# --- Provisioning and returning (S3.5b, S3.2a) ------------------------------------------------------

def _approved(city, **kwargs):
    request = file_request(city, **kwargs)
    return access_request_approve(request=request, by=city.head) if request.is_awaiting_head else request


def _provision(secret, request, **body):
    return bearer(secret).post(reverse("api:request_provision", kwargs={"pk": request.pk}), body, format="json")


def test_an_itsa_token_provisions_an_approved_request(city):
    """S3.5b: ITSA creates the account; through the API the token acts as the ITSA member who made it."""
    request = _approved(city, person=city.analyst)
    token, secret = token_for(city, Scope.PROVISION)

    response = _provision(secret, request, account_name="aanalyst")

    assert response.status_code == 200, response.content
    assert response.json()["status"] == AccessRequest.Status.COMPLETED
    request.refresh_from_db()
    assert request.processed_by == city.itsa and request.grant.account_name == "aanalyst"
    assert request.grant.person == city.analyst and request.grant.provisioned_by == city.itsa
    event = AuditEvent.objects.get(action="api.access_request.provision")
    assert event.actor == city.itsa and f"API token “{token.name}” (#{token.pk})" in event.detail


def test_an_added_access_needs_its_account_name(city):
    """S3.5b: the service asks for the account made on the system, as the page does (422 naming the field)."""
    request = _approved(city, person=city.analyst)
    _, secret = token_for(city, Scope.PROVISION)

    body = assert_problem(_provision(secret, request), 422)

    assert "account_name" in body["errors"]
    request.refresh_from_db()
    assert request.is_with_itsa


def test_a_token_whose_maker_holds_end_user_access_to_the_system_is_refused(city):
    """S3.2a, S3.2c: nobody administers a system they hold end-user access to. Ida holds access to
    the VMS, so her token cannot provision on it: a 403 problem, the refusal in the trail naming
    the token, and a prevented finding, as on the page."""
    city.itsa.department = city.police
    city.itsa.save()
    access_request_provision(request=file_request(city, person=city.itsa, by=city.head), by=city.itsa2,
                             account_name="iitsa")
    request = _approved(city, person=city.analyst)
    token, secret = token_for(city, Scope.PROVISION)

    body = assert_problem(_provision(secret, request, account_name="aanalyst"), 403)

    assert "You hold end-user access to Citywide VMS" in body["detail"]
    request.refresh_from_db()
    assert request.is_with_itsa and request.grant is None
    finding = SodFinding.objects.get(person=city.itsa)
    assert (finding.system, finding.stage) == (city.vms, SodFinding.Stage.PROVISIONING)
    assert AuditEvent.objects.filter(action="api.access_request.provision", outcome="denied",
                                     detail__contains=f"(#{token.pk})").exists()


def test_a_request_not_with_itsa_is_a_422_problem(city):
    """S3.4c, S3.5a: only what the head approved reaches ITSA's queue."""
    request = file_request(city, person=city.analyst, by=city.requester)
    assert request.is_awaiting_head
    _, secret = token_for(city, Scope.PROVISION)

    body = assert_problem(_provision(secret, request, account_name="aanalyst"), 422)

    assert "only approved requests can be provisioned" in body["detail"]
    assert AccessRequest.objects.get(pk=request.pk).status == request.status


def test_itsa_returns_a_request_with_a_reason(city):
    """S3.5b: ITSA sends an approved request back without touching any account."""
    request = _approved(city, person=city.analyst)
    token, secret = token_for(city, Scope.PROVISION)
    url = reverse("api:request_return", kwargs={"pk": request.pk})

    assert_problem(bearer(secret).post(url, {}, format="json"), 400)
    response = bearer(secret).post(url, {"reason": "The case number is missing."}, format="json")

    assert response.status_code == 200
    assert response.json()["status"] == AccessRequest.Status.RETURNED
    request.refresh_from_db()
    assert request.return_reason == "The case number is missing." and request.grant is None
    assert AuditEvent.objects.filter(action="api.access_request.return", detail__contains=f"(#{token.pk})").exists()


def test_a_token_bound_to_another_system_cannot_provision_on_this_one(city):
    request = _approved(city, person=city.analyst)
    token, secret = token_for(city, Scope.PROVISION, system=city.lpr)

    assert "lpr only" in assert_problem(_provision(secret, request, account_name="aanalyst"), 403)["detail"]

    assert AccessRequest.objects.get(pk=request.pk).is_with_itsa
    assert AuditEvent.objects.filter(action="api.access_request.provision", outcome="denied",
                                     detail__contains=f"(#{token.pk})").exists()


def test_a_session_even_itsas_cannot_change_anything(city):
    """S3.5b: a change through the API comes from a token; ITSA's own session only reads."""
    request = _approved(city, person=city.analyst)
    session = SessionJson(city.itsa)

    body = assert_problem(session.post(reverse("api:request_provision", kwargs={"pk": request.pk}),
                                       {"account_name": "aanalyst"}), 403)

    assert "need a token" in body["detail"]
    assert AccessRequest.objects.get(pk=request.pk).is_with_itsa
    assert session.get(reverse("api:request-detail", kwargs={"pk": request.pk})).status_code == 200


def test_provisioning_needs_the_provision_scope(city):
    request = _approved(city, person=city.analyst)
    _, secret = token_for(city, Scope.READ, Scope.REPORT_USE)

    assert "provision" in assert_problem(_provision(secret, request, account_name="aanalyst"), 403)["detail"]
    assert AccessRequest.objects.get(pk=request.pk).is_with_itsa


# --- Pages of lists ---------------------------------------------------------------------------------

def _more_grants(city, count):
    """Grants written directly (the workflow has its own tests): one person each, on the VMS."""
    for index in range(count):
        person = User.objects.create_user(email=f"p{index}-{Grant.objects.count()}@police.example",
                                          full_name=f"Pat {index}", department=city.police)
        grant = Grant.objects.create(person=person, system=city.vms, department=city.police, role="end_user",
                                     account_name=f"pat-{person.pk}", provisioned_at=timezone.now(),
                                     provisioned_by=city.itsa2)
        grant.permissible_uses.set([city.crime_detection])


def _queries(client, url, **params):
    client.get(url, params)  # the token's first call of the minute also stamps it as used
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url, params)
    assert response.status_code == 200
    return len(queries), len(response.json()["results"])


@pytest.mark.parametrize("name", ["api:grant-list", "api:person-list", "api:request-list"])
def test_a_list_takes_as_many_queries_for_60_rows_as_for_5(city, name):
    provisioned(city)
    _more_grants(city, 4)
    _, secret = token_for(city, Scope.READ)
    client = bearer(secret)
    few, few_rows = _queries(client, reverse(name))
    _more_grants(city, 55)
    for index in range(3):  # and more requests, through the workflow
        provisioned(city, person=User.objects.create_user(email=f"new{index}@police.example", full_name=f"New {index}",
                                                          department=city.police))

    many, many_rows = _queries(client, reverse(name))

    assert many_rows > few_rows
    assert many == few


def test_the_cursor_walks_every_row_exactly_once(city):
    _more_grants(city, 43)
    _, secret = token_for(city, Scope.READ)
    client = bearer(secret)
    seen, url, pages = [], reverse("api:grant-list") + "?page_size=10", 0
    while url:
        page = client.get(url).json()
        assert len(page["results"]) <= 10
        seen += [row["id"] for row in page["results"]]
        url, pages = page["next"], pages + 1

    assert pages == 5
    assert seen == sorted(Grant.objects.values_list("pk", flat=True))


def test_a_page_size_over_the_most_is_clamped(city, monkeypatch):
    assert IdCursorPagination.max_page_size == 500
    monkeypatch.setattr(IdCursorPagination, "max_page_size", 4)
    _more_grants(city, 6)
    _, secret = token_for(city, Scope.READ)

    page = bearer(secret).get(reverse("api:grant-list"), {"page_size": 100000}).json()

    assert len(page["results"]) == 4 and page["next"]


# --- The limit of calls ------------------------------------------------------------------------------

def test_a_token_over_its_limit_gets_a_429_problem_and_another_token_does_not(city, monkeypatch):
    monkeypatch.setattr(PerTokenThrottle, "THROTTLE_RATES", {"api": "3/minute"})
    _, busy = token_for(city, Scope.READ)
    _, calm = token_for(city, Scope.READ)
    url = reverse("api:system-list")
    for _ in range(3):
        assert bearer(busy).get(url).status_code == 200

    response = bearer(busy).get(url)

    body = assert_problem(response, 429)
    assert int(response["Retry-After"]) > 0 and body["title"] == "Too many calls"
    assert bearer(calm).get(url).status_code == 200


def test_a_person_over_the_limit_is_counted_by_person(city, monkeypatch):
    monkeypatch.setattr(PerTokenThrottle, "THROTTLE_RATES", {"api": "2/minute"})
    head, requester = SessionJson(city.head), SessionJson(city.requester)
    url = reverse("api:system-list")
    assert [head.get(url).status_code for _ in range(3)] == [200, 200, 429]
    assert requester.get(url).status_code == 200


def _wrong_tokens_limited_to(monkeypatch, rate):
    monkeypatch.setattr(FailedTokenThrottle, "THROTTLE_RATES", {"api_token_failures": rate})


def test_wrong_tokens_from_one_address_are_answered_429_and_then_even_a_right_one_waits(city, monkeypatch):
    """S3.10: guessing tokens is slowed to a few a minute an address; past the limit no token is even
    looked up, so a right guess cannot be told from a wrong one."""
    _wrong_tokens_limited_to(monkeypatch, "3/minute")
    _, secret = token_for(city, Scope.READ)
    url = reverse("api:system-list")
    guesser = lambda guess: bearer(guess).get(url, REMOTE_ADDR="203.0.113.7")  # noqa: E731

    assert [guesser(f"sap_wrong{n}").status_code for n in range(3)] == [401, 401, 401]
    response = guesser(secret)

    body = assert_problem(response, 429)
    assert int(response["Retry-After"]) > 0 and "wrong token" in body["detail"]
    # Another address is not held up, and a right token was never counted as a failure.
    assert bearer(secret).get(url, REMOTE_ADDR="198.51.100.9").status_code == 200
    assert bearer("sap_wrong").get(url, REMOTE_ADDR="198.51.100.9").status_code == 401


def test_a_malformed_authorization_header_counts_as_a_wrong_token(city, monkeypatch):
    _wrong_tokens_limited_to(monkeypatch, "2/minute")
    url = reverse("api:system-list")
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION="Bearer two words")

    assert [client.get(url, REMOTE_ADDR="203.0.113.8").status_code for _ in range(3)] == [401, 401, 429]


def test_a_forwarded_for_header_from_an_untrusted_client_does_not_reset_the_count(city, monkeypatch, settings):
    """The address is the one the audit trail uses: X-Forwarded-For counts only as a trusted proxy wrote it."""
    settings.PORTAL_TRUSTED_PROXIES = []
    _wrong_tokens_limited_to(monkeypatch, "2/minute")
    url = reverse("api:system-list")
    codes = [bearer("sap_wrong").get(url, REMOTE_ADDR="203.0.113.9", HTTP_X_FORWARDED_FOR=f"10.0.0.{n}").status_code
             for n in range(3)]
    assert codes == [401, 401, 429]


# --- The audit trail ---------------------------------------------------------------------------------

def _api_events():
    return list(AuditEvent.objects.filter(action__startswith="api.").order_by("seq"))


@pytest.mark.parametrize(("name", "kwargs"), [
    ("api:person-list", None), ("api:person-detail", "officer"), ("api:grant-list", None),
    ("api:grant-detail", "grant"), ("api:request-list", None), ("api:request-detail", "request"),
])
def test_a_read_of_personal_data_is_in_the_trail_naming_the_token_or_the_session(city, grant, name, kwargs):
    pk = {"officer": city.officer.pk, "grant": grant.pk, "request": AccessRequest.objects.first().pk,
          None: None}[kwargs]
    url = reverse(name, kwargs={"pk": pk} if pk else None)
    token, secret = token_for(city, Scope.READ, name="Roster sync")

    assert bearer(secret).get(url).status_code == 200
    assert SessionJson(city.head).get(url).status_code == 200

    by_token, by_session = _api_events()
    assert by_token.actor == city.itsa and by_token.detail.startswith(f"API token “Roster sync” (#{token.pk})")
    assert by_session.actor == city.head and by_session.detail.startswith("API, signed-in session")
    assert by_token.action == by_session.action and by_token.action.startswith("api.")


@pytest.mark.parametrize("name", ["api:system-list", "api:system-detail", "api:department-list",
                                  "api:department-detail", "api:validation-list", "api:validation-detail"])
def test_a_read_of_no_personal_data_is_not_in_the_trail(city, name):
    validation = open_validation(city)
    kwargs = {"api:system-detail": {"code": city.vms.code}, "api:department-detail": {"code": city.police.code},
              "api:validation-detail": {"pk": validation.pk}}.get(name)
    _, secret = token_for(city, Scope.READ)

    assert bearer(secret).get(reverse(name, kwargs=kwargs)).status_code == 200

    assert _api_events() == []


def test_every_change_is_in_the_trail_naming_the_token(city, grant):
    token, secret = token_for(city, Scope.REPORT_USE, Scope.PROVISION, name="Vendor sync")
    report(bearer(secret), city.vms, (grant.account_name, str(timezone.localdate())))
    _provision(secret, _approved(city, person=city.analyst), account_name="aanalyst")
    returned = _approved(city, person=city.requester, by=city.head)
    bearer(secret).post(reverse("api:request_return", kwargs={"pk": returned.pk}), {"reason": "No case."},
                        format="json")

    events = _api_events()

    assert [event.action for event in events] == ["api.grant_use.report", "api.access_request.provision",
                                                  "api.access_request.return"]
    assert all(f"API token “Vendor sync” (#{token.pk})" in event.detail and event.outcome == "success"
               for event in events)


# --- Input the database or the decoder cannot take is the caller's mistake, not a 500 -------------

@pytest.mark.parametrize("text", ["0001-01-01T00:00:00+14:00", "1969-12-31T23:59:59+00:00", "0001-01-01"])
def test_a_last_use_before_1970_is_refused_by_the_service(text):
    """S3.4e: a use in year 1 east of UTC was kept, and every later read of the grant failed."""
    from accounts.last_use import parse_used_at

    with pytest.raises(ValueError, match="before 1970"):
        parse_used_at(text)
    assert parse_used_at("1970-01-02").year == 1970


@pytest.mark.parametrize("url", ["/api/v1/systems/v%00ms/", "/api/v1/departments/po%00lice/",
                                 "/api/v1/systems/v%00ms/uses/"])
def test_a_nul_in_a_code_of_the_url_is_a_404_problem(city, url):
    _, secret = token_for(city, Scope.READ, Scope.REPORT_USE)
    client = bearer(secret)
    response = client.post(url, {"uses": []}, format="json") if url.endswith("uses/") else client.get(url)
    assert_problem(response, 404)


@pytest.mark.parametrize(("name", "param"), [("api:grant-list", "system"), ("api:grant-list", "department"),
                                             ("api:person-list", "department"), ("api:request-list", "reference")])
def test_a_nul_in_a_filter_is_a_400_problem_naming_it(city, name, param):
    _, secret = token_for(city, Scope.READ)
    body = assert_problem(bearer(secret).get(reverse(name), {param: "po\x00lice"}), 400)
    assert list(body["errors"]) == [param]


@pytest.mark.parametrize("cursor", ["cD1hYmM=", "cD0xJTAw", "cD0xMjM0NTY3ODkwMTIzNDU2Nzg5MA==", "zzz"])
def test_a_cursor_the_list_did_not_give_is_a_404_problem(city, grant, cursor):
    """A cursor is the caller's to change: one whose position is no row's id was a 500."""
    _, secret = token_for(city, Scope.READ)
    body = assert_problem(bearer(secret).get(reverse("api:grant-list"), {"cursor": cursor}), 404)
    assert "cursor" in body["detail"]


def test_an_unknown_api_url_is_a_404_problem_with_a_hint(city):
    _, secret = token_for(city, Scope.READ)
    body = assert_problem(bearer(secret).get("/api/v1/grants"), 404)
    assert "did you mean /api/v1/grants/" in body["detail"]
    # Any method, signed in or not, without a CSRF token: the answer is still the API's own.
    stranger = APIClient(enforce_csrf_checks=True)
    assert "/api/v1/schema/" in assert_problem(stranger.post("/api/v1/nothing/here/", {}, format="json"),
                                               404)["detail"]
