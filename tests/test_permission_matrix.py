"""Every URL of the URLconf × every role × own and other department.

Each cell says what the role gets: "ok" (the page, or the change is made), "404" (the object or
page does not exist for them), "login" (anonymous: sent to sign in), "refused" (they see the object
but the service refuses the change: nothing in the database changes). A URL pattern missing from
CASES fails `test_every_url_of_the_urlconf_is_in_the_matrix`: a new view cannot ship unchecked.
"""

import hashlib
from datetime import date

import pytest
from conftest import PASSWORD, build_city, file_request, make_pdf, provisioned, signed_in_client
from matrix import check_cell, url_case
from django.core.files.base import ContentFile
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import URLPattern, URLResolver, get_resolver, reverse
from django.utils import timezone
from django_otp.plugins.otp_static.models import StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from accounts.models import AuthorizedRequester, Grant, User
from reports.models import BoardHandover, PublishedReport
from audits.models import AttestationCopy, Validation, ValidationItem
from audits.services import open_due_validations, user_audit_open, validation_keep_all
from portal.models import IntendedUse
from access_requests.models import AccessRequest, DepartmentAccess, StatusChange, SupportingDocument
from access_requests.services import access_request_approve, department_access_request, document_attach
from security.models import AccountLock, UserSession
from security.services import account_lock

ROLES = ["anonymous", "head", "requester", "officer", "outsider", "itsa", "designee", "auditor"]
PDF = make_pdf()

# Patterns that are not ours to check here: the admin has its own tests; Django's auth views are
# sign-in, sign-out and password pages every visitor may reach.
NOT_IN_MATRIX = {"admin", "login", "logout", "password_change", "password_change_done", "password_reset",
                 "password_reset_done", "password_reset_confirm", "password_reset_complete"}


class World:
    """The police department's objects (own department for head and requester) and one of
    the streets department (the outsider's own)."""

    def __init__(self, city):
        self.city = city
        done = provisioned(city)  # the officer's end-user grant on the VMS
        self.grant = done.grant
        self.awaiting = file_request(city, action="change", uses=[city.crime_detection, city.investigations])
        self.with_itsa = access_request_approve(request=file_request(city, person=city.analyst), by=city.head)
        self.document = document_attach(request=self.with_itsa, upload=SimpleUploadedFile("memo.pdf", PDF),
                                        by=city.requester)
        self.police_vms = city.police_vms
        self.streets_pending = department_access_request(
            department=city.streets, system=city.lpr, intended_uses=[IntendedUse.objects.get(code="public-safety")],
            business_need="Find stolen city vehicles.", by=city.outsider,
        )
        self.requester_entry = AuthorizedRequester.objects.get(department=city.police, person=city.requester)
        # The police department's annual validation, its one item (the officer's grant) not decided yet,
        # and a user audit of the police whose items are all kept, ready to be signed off.
        [self.validation] = open_due_validations()
        self.item = self.validation.items.get()
        self.audit = user_audit_open(by=city.itsa, department=city.police)
        validation_keep_all(validation=self.audit, by=city.head, confirmed=True)
        # A locked account for ITSA to release, and a second session of everyone to sign out of.
        self.lock = account_lock(username=city.streets_worker.email)
        for index, person in enumerate((city.head, city.requester, city.officer, city.outsider, city.itsa,
                                        city.designee, city.auditor)):
            UserSession.objects.create(user=person, session_key=f"elsewhere-{index}")
        self.public_report = _published_report(city, PublishedReport.Kind.CITY_BIANNUAL)
        # The police's annual report of 2001, submitted; last year's and last half-year's not yet.
        self.police_report = _published_report(city, PublishedReport.Kind.DEPARTMENT_ANNUAL, city.police)
        today = timezone.localdate()
        self.last_year = today.year - 1
        self.last_half = {"year": today.year, "half": 1} if today.month > 6 else {"year": today.year - 1, "half": 2}


def _published_report(city, kind, department=None):
    """A report as its publication leaves it: the PDF and its hash (written directly: rendering one
    for every cell of the matrix would cost minutes)."""
    public = kind == PublishedReport.Kind.CITY_BIANNUAL
    report = PublishedReport(
        kind=kind, department=department, period_start=date(2001, 1, 1),
        period_end=date(2001, 6, 30) if public else date(2001, 12, 31),
        title="Citywide report" if public else "Police annual report", is_public=public,
        published_by=city.designee if public else city.head, published_at=timezone.now(),
        pdf_sha256=hashlib.sha256(PDF).hexdigest(),
    )
    report.pdf.save("report.pdf", ContentFile(PDF), save=False)
    report.save()
    return report


def snapshot():
    return (
        sorted(AccessRequest.objects.values_list("pk", "status")),
        sorted(Grant.objects.values_list("pk", "status", "role")),
        sorted(DepartmentAccess.objects.values_list("pk", "status")),
        sorted(AuthorizedRequester.objects.values_list("pk", "end_date")),
        SupportingDocument.objects.count(),
        StatusChange.objects.count(),
        sorted(User.objects.values_list("pk", "employment_status")),
        sorted(Validation.objects.values_list("pk", "status")),
        sorted(ValidationItem.objects.values_list("pk", "decision")),
        sorted(AccountLock.objects.values_list("pk", "released_at")),
        sorted(StaticToken.objects.values_list("token", flat=True)),
        sorted(TOTPDevice.objects.values_list("pk", "key")),
        UserSession.objects.filter(session_key__startswith="elsewhere-").count(),
        sorted(PublishedReport.objects.values_list("pk", "pdf_sha256")),
        BoardHandover.objects.count(),
        sorted(AttestationCopy.objects.values_list("pk", "requested_at")),
    )


def _new_request_data(w):
    c = w.city
    return {"department": c.police.pk, "person": c.head.pk, "system": c.vms.pk, "action": "add",
            "role": "end_user", "permissible_uses": [c.crime_detection.pk], "justification": "Reviews footage.",
            "condition_statement": "Case 26-001234, until the case closes."}


def _department_access_data(w):
    return {"department": w.city.police.pk, "system": w.city.lpr.pk,
            "intended_uses": [IntendedUse.objects.get(code="public-safety").pk], "business_need": "Plates."}


def _requester_add_data(w):
    return {"department": w.city.police.pk, "person": w.city.analyst.pk, "start_date": timezone.localdate()}


ALL_LOGGED_IN = {role: "ok" for role in ROLES if role != "anonymous"}
PUBLIC = {role: "ok" for role in ROLES}
# The auditor (oversight) reads every department's records and changes none of them: each case that
# changes state and starts from POLICE says "auditor": "refused".
POLICE = {"head": "ok", "requester": "ok", "itsa": "ok", "officer": "404", "outsider": "404", "designee": "404",
          "auditor": "ok"}
ITSA_ONLY = {"itsa": "ok", "head": "404", "requester": "404", "officer": "404", "outsider": "404",
             "designee": "404", "auditor": "404"}
POLICE_VALIDATION = {**POLICE, "designee": "ok"}
WITH_AUTHENTICATOR = {"head": "ok", "outsider": "ok", "itsa": "ok", "designee": "ok", "auditor": "ok",
                      "requester": "refused", "officer": "refused"}
ALL_REFUSED = {role: "refused" for role in ROLES if role != "anonymous"}
POLICE_REPORT = {"head": "ok", "itsa": "ok", "designee": "ok", "requester": "404", "officer": "404",
                 "outsider": "404", "auditor": "ok"}
CITY_REPORT = {"itsa": "ok", "designee": "ok", "head": "404", "requester": "404", "officer": "404", "outsider": "404",
               "auditor": "ok"}
HEAD_DECIDES = {**POLICE_VALIDATION, "requester": "refused", "itsa": "refused", "designee": "refused",
                "auditor": "refused"}

CASES = [
    url_case("home", "get", lambda w: {}, ALL_LOGGED_IN),
    url_case("healthz", "get", lambda w: {}, {**ALL_LOGGED_IN, "anonymous": "ok"}),
    url_case("favicon", "get", lambda w: {}, {**ALL_LOGGED_IN, "anonymous": "ok"}),
    url_case("requests:list", "get", lambda w: {}, ALL_LOGGED_IN),
    url_case("requests:new", "get", lambda w: {}, ALL_LOGGED_IN),
    url_case("requests:new", "post", lambda w: {}, {
        "head": "ok", "requester": "ok", "officer": "refused", "outsider": "refused", "itsa": "refused",
        "designee": "refused", "auditor": "refused"}, data=_new_request_data),
    url_case("requests:preview", "post", lambda w: {}, ALL_LOGGED_IN,
             data=lambda w: {**_new_request_data(w), "person": w.city.officer.pk}),
    url_case("requests:queue", "get", lambda w: {}, ITSA_ONLY),
    url_case("requests:detail", "get", lambda w: {"pk": w.with_itsa.pk}, POLICE),
    url_case("requests:detail", "get", lambda w: {"pk": w.awaiting.pk}, POLICE),
    url_case("requests:written", "get", lambda w: {"pk": w.with_itsa.pk}, POLICE),
    url_case("requests:written_pdf", "get", lambda w: {"pk": w.with_itsa.pk}, POLICE),
    url_case("requests:approve", "post", lambda w: {"pk": w.awaiting.pk},
             {**POLICE, "requester": "refused", "itsa": "refused", "auditor": "refused"}),
    url_case("requests:decline", "post", lambda w: {"pk": w.awaiting.pk},
             {**POLICE, "requester": "refused", "itsa": "refused", "auditor": "refused"},
             data=lambda w: {"reason": "Not needed."}),
    url_case("requests:withdraw", "post", lambda w: {"pk": w.awaiting.pk},
             {**POLICE, "itsa": "refused", "auditor": "refused"}),
    url_case("requests:provision", "post", lambda w: {"pk": w.with_itsa.pk},
             {**POLICE, "head": "refused", "requester": "refused", "auditor": "refused"},
             data=lambda w: {"account_name": "aanalyst"}),
    url_case("requests:return", "post", lambda w: {"pk": w.with_itsa.pk},
             {**POLICE, "head": "refused", "requester": "refused", "auditor": "refused"},
             data=lambda w: {"reason": "Missing signature."}),
    url_case("requests:attach", "post", lambda w: {"pk": w.awaiting.pk},
             {**POLICE, "itsa": "refused", "auditor": "refused"},
             data=lambda w: {"document": SimpleUploadedFile("signed.pdf", PDF)}),
    url_case("requests:document", "get", lambda w: {"pk": w.with_itsa.pk, "document_pk": w.document.pk}, POLICE),
    url_case("requests:status_change", "get", lambda w: {"person_pk": w.city.officer.pk}, POLICE),
    url_case("requests:status_change", "post", lambda w: {"person_pk": w.city.officer.pk},
             {**POLICE, "requester": "refused", "itsa": "refused", "auditor": "refused"},
             data=lambda w: {"kind": "left", "effective_date": timezone.localdate(), "note": ""}),
    url_case("requests:department_access_list", "get", lambda w: {}, ALL_LOGGED_IN),
    url_case("requests:department_access_new", "get", lambda w: {},
             {"head": "ok", "outsider": "ok", "requester": "404", "officer": "404", "itsa": "404", "designee": "404",
              "auditor": "404"}),
    url_case("requests:department_access_new", "post", lambda w: {},
             {"head": "ok", "outsider": "refused", "requester": "404", "officer": "404", "itsa": "404",
              "designee": "404", "auditor": "404"}, data=_department_access_data),
    url_case("requests:department_access", "get", lambda w: {"pk": w.police_vms.pk}, {**POLICE, "designee": "ok"}),
    url_case("requests:department_access", "get", lambda w: {"pk": w.streets_pending.pk},
             {"outsider": "ok", "designee": "ok", "auditor": "ok", "head": "404", "requester": "404", "officer": "404",
              "itsa": "404"}),
    url_case("requests:department_access_decide", "post", lambda w: {"pk": w.streets_pending.pk},
             {"designee": "ok", "outsider": "refused", "auditor": "refused", "head": "404", "requester": "404",
              "officer": "404", "itsa": "404"}, data=lambda w: {"decision": "grant", "reason": "Stolen vehicles."}),
    url_case("requests:department_access_revoke", "post", lambda w: {"pk": w.police_vms.pk},
             {**POLICE, "designee": "ok", "head": "refused", "requester": "refused", "itsa": "refused",
              "auditor": "refused"}, data=lambda w: {"reason": "No longer tied to service delivery."}),
    url_case("accounts:people", "get", lambda w: {}, ALL_LOGGED_IN),
    url_case("accounts:person", "get", lambda w: {"pk": w.city.officer.pk}, POLICE),
    url_case("accounts:grant", "get", lambda w: {"pk": w.grant.pk}, POLICE),
    url_case("accounts:department", "get", lambda w: {"pk": w.city.police.pk}, POLICE),
    # Rosters out: as the pages are scoped; the streets head gets the VMS roster of their own department.
    url_case("accounts:department_people_csv", "get", lambda w: {"pk": w.city.police.pk}, POLICE),
    url_case("accounts:system_roster_csv", "get", lambda w: {"pk": w.city.vms.pk}, {**POLICE, "outsider": "ok"}),
    url_case("accounts:requesters", "get", lambda w: {}, ITSA_ONLY),
    url_case("accounts:requester_add", "post", lambda w: {},
             {"itsa": "ok", "head": "refused", "requester": "refused", "officer": "refused", "outsider": "refused",
              "designee": "refused", "auditor": "refused"}, data=_requester_add_data),
    url_case("accounts:requester_end", "post", lambda w: {"pk": w.requester_entry.pk},
             {**POLICE, "head": "refused", "requester": "refused", "auditor": "refused"}, data=lambda w: {}),
    url_case("audits:list", "get", lambda w: {}, {**ALL_LOGGED_IN, "officer": "404"}),
    url_case("audits:user_audit_new", "get", lambda w: {}, ITSA_ONLY),
    url_case("audits:user_audit_new", "post", lambda w: {}, ITSA_ONLY,
             data=lambda w: {"department": w.city.police.pk, "system": w.city.vms.pk}),
    url_case("audits:validation", "get", lambda w: {"pk": w.validation.pk}, POLICE_VALIDATION),
    url_case("audits:validation", "get", lambda w: {"pk": w.audit.pk}, POLICE_VALIDATION),
    url_case("audits:attestation", "get", lambda w: {"pk": w.audit.pk}, POLICE_VALIDATION),
    # Whoever sees a validation may ask a worker for its attestation (a copy of the decisions so far).
    url_case("audits:attestation_status", "get", lambda w: {"pk": w.audit.pk}, POLICE_VALIDATION),
    url_case("audits:attestation_status", "post", lambda w: {"pk": w.audit.pk}, POLICE_VALIDATION,
             data=lambda w: {}),
    url_case("audits:decide", "post", lambda w: {"pk": w.validation.pk, "item_pk": w.item.pk}, HEAD_DECIDES,
             data=lambda w: {"decision": "keep"}),
    url_case("audits:keep_all", "post", lambda w: {"pk": w.validation.pk}, HEAD_DECIDES,
             data=lambda w: {"confirm": "on"}),
    url_case("audits:sign_off", "post", lambda w: {"pk": w.audit.pk}, HEAD_DECIDES,
             data=lambda w: {"password": PASSWORD}),
    # The audit log (S3.10): ITSA and oversight search and export it; for everyone else it does not exist.
    url_case("audit_log", "get", lambda w: {}, {**ITSA_ONLY, "auditor": "ok"}),
    url_case("audit_log_export", "get", lambda w: {}, {**ITSA_ONLY, "auditor": "ok"}),
    # Sign-in security (S3.10). A verified session is sent on from the code page; wrong codes and
    # passwords change nothing; the roles that must keep a second factor cannot turn it off.
    url_case("security:verify", "get", lambda w: {}, ALL_LOGGED_IN),
    url_case("security:verify", "post", lambda w: {}, ALL_REFUSED, data=lambda w: {"code": "000000"}),
    url_case("security:overview", "get", lambda w: {}, ALL_LOGGED_IN),
    url_case("security:setup", "get", lambda w: {}, ALL_LOGGED_IN),
    url_case("security:setup", "post", lambda w: {}, ALL_REFUSED, data=lambda w: {"code": "000000"}),
    url_case("security:recovery_codes", "post", lambda w: {}, WITH_AUTHENTICATOR),
    url_case("security:remove", "post", lambda w: {}, ALL_REFUSED),
    url_case("security:end_other_sessions", "post", lambda w: {}, ALL_LOGGED_IN),
    url_case("security:confirm_password", "get", lambda w: {}, ALL_LOGGED_IN),
    url_case("security:confirm_password", "post", lambda w: {}, ALL_REFUSED, data=lambda w: {"password": "wrong"}),
    url_case("security:locked", "get", lambda w: {}, ITSA_ONLY),
    url_case("security:release", "post", lambda w: {"pk": w.lock.pk}, ITSA_ONLY),
    # The public transparency page (S2.4, S2.6): every visitor, signed in or not.
    url_case("transparency:index", "get", lambda w: {}, PUBLIC),
    # Reports (S2.5b, S2.5c): the head writes the department's; ITSA, oversight and the designee read every one;
    # only the head submits it and only the designee publishes the citywide report.
    url_case("reports:list", "get", lambda w: {}, ALL_LOGGED_IN),
    url_case("reports:department", "get", lambda w: {"department_pk": w.city.police.pk, "year": w.last_year},
             POLICE_REPORT),
    url_case("reports:department_publish", "post", lambda w: {"department_pk": w.city.police.pk, "year": w.last_year},
             {**POLICE_REPORT, "itsa": "refused", "designee": "refused", "auditor": "refused"}),
    url_case("reports:city", "get", lambda w: w.last_half, CITY_REPORT),
    url_case("reports:city_publish", "post", lambda w: w.last_half,
             {**CITY_REPORT, "itsa": "refused", "auditor": "refused"}),
    url_case("reports:detail", "get", lambda w: {"pk": w.police_report.pk}, POLICE_REPORT),
    url_case("reports:detail", "get", lambda w: {"pk": w.public_report.pk}, ALL_LOGGED_IN),
    url_case("reports:pdf", "get", lambda w: {"pk": w.police_report.pk}, POLICE_REPORT),
    # S2.5d: only the Mayor's designee hands a report to the Board of Aldermen; its other readers are refused.
    url_case("reports:hand_to_board", "post", lambda w: {"pk": w.police_report.pk},
             {**POLICE_REPORT, "head": "refused", "itsa": "refused", "auditor": "refused"},
             data=lambda w: {"requested_on": "2001-03-01", "request_reference": "Letter of 1 March 2001"}),
    url_case("reports:hand_to_board", "post", lambda w: {"pk": w.public_report.pk},
             {**ALL_REFUSED, "designee": "ok"},
             data=lambda w: {"requested_on": "2001-03-01", "request_reference": "Letter of 1 March 2001"}),
    url_case("transparency:report", "get", lambda w: {"pk": w.public_report.pk}, PUBLIC),
    url_case("transparency:report_pdf", "get", lambda w: {"pk": w.public_report.pk}, PUBLIC),
    url_case("transparency:open_data_csv", "get", lambda w: {}, PUBLIC),
    url_case("transparency:open_data_json", "get", lambda w: {}, PUBLIC),
    url_case("transparency:audit_anchors_csv", "get", lambda w: {}, PUBLIC),
]


class _AnyObject:
    """Stands in for the world to learn which URL arguments a case takes."""

    pk = 1

    def __getattr__(self, name):
        return self


def _takes_ids(case) -> bool:
    return bool(case["kwargs"](_AnyObject()))


CELLS = [
    pytest.param(case, role, id=f"{case['method'].upper()} {case['name']} #{index} as {role}")
    for index, case in enumerate(CASES)
    for role in ROLES
]


def _login(client, city, role):
    if role != "anonymous":
        client.force_login(getattr(city, role))


# One world for the module (conftest.module_world): each test runs in a savepoint of it.
def build_world():
    return World(build_city())


@pytest.mark.parametrize(("case", "role"), CELLS)
def test_each_role_gets_exactly_what_the_matrix_says(case, role, city, settings, world):
    client = signed_in_client()
    _login(client, city, role)
    check_cell(client, case, role, world, snapshot, post_changes_state=case["name"] != "requests:preview")


FORM_PAGES = {c["name"] for c in CASES if c["method"] == "get"}


@pytest.mark.parametrize("case", [c for c in CASES if c["method"] == "post" and c["name"] not in FORM_PAGES],
                         ids=lambda c: c["name"])
def test_state_changing_urls_answer_get_with_405(case, city, world):
    client = signed_in_client()
    _login(client, city, "itsa" if case["expect"].get("itsa") == "ok" else "head")
    response = client.get(reverse(case["name"], kwargs=case["kwargs"](world)))
    assert response.status_code == 405


@pytest.mark.parametrize("case", [c for c in CASES if _takes_ids(c) and c["method"] == "get"],
                         ids=lambda c: c["name"])
def test_unknown_ids_answer_404(case, city, world):
    client = signed_in_client()
    _login(client, city, "itsa" if case["expect"].get("itsa") == "ok" else "head")
    kwargs = {key: 987654 for key in case["kwargs"](world)}
    assert client.get(reverse(case["name"], kwargs=kwargs)).status_code == 404


def test_state_changes_need_a_csrf_token(city, world):
    client = signed_in_client(enforce_csrf_checks=True)
    _login(client, city, "head")
    before = snapshot()
    response = client.post(reverse("requests:approve", kwargs={"pk": world.awaiting.pk}))
    assert response.status_code == 403
    assert snapshot() == before


def _names(patterns, namespace=""):
    for entry in patterns:
        if isinstance(entry, URLResolver):
            if entry.namespace == "admin":
                yield "admin"
                continue
            inner = f"{namespace}{entry.namespace}:" if entry.namespace else namespace
            yield from _names(entry.url_patterns, inner)
        elif isinstance(entry, URLPattern):
            yield f"{namespace}{entry.name}" if entry.name else f"{namespace}<unnamed {entry.pattern}>"


def _cases_of_the_other_matrices():
    """The workflows of Sections 3.6, 3.7, 3.11 and 5 have their own matrices, with their own
    roles and objects: tests/**/test_matrix_*.py, each with a CASES list of the same shape."""
    import importlib.util
    from pathlib import Path

    names = set()
    for path in sorted(Path(__file__).parent.glob("**/test_matrix_*.py")):
        spec = importlib.util.spec_from_file_location(f"_matrix_{path.stem}", path)
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        names |= {case["name"] for case in module.CASES}
    return names


def test_every_url_of_the_urlconf_is_in_the_matrix():
    covered = {case["name"] for case in CASES} | _cases_of_the_other_matrices() | NOT_IN_MATRIX
    missing = sorted(set(_names(get_resolver().url_patterns)) - covered)
    assert not missing, f"views with no row in the permission matrix: {missing}"
