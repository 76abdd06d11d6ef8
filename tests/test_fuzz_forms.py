"""Every form of the portal, fed hostile input: a clear error or a safe echo, never a 500 (S3.10).

FORMS lists each form class with the page that takes it and who sends it. A form class defined in a
`forms` module of the portal's apps and missing from FORMS fails `test_every_form_is_fuzzed`: a new
form cannot ship unfuzzed. Each form is sent:
- `text`: a valid submission with every free-text field replaced by a hostile string;
- `file name`: a valid submission whose files carry the hostile string as their name;
- `beside the form`: a valid submission with the hostile string in what the view reads beside the
  form, such as the page to go to next;
- `every field`: the hostile string in every field: choices, dates, check boxes, e-mail addresses,
  file names and contents;
- `bad id`: a valid submission with every choice replaced by an id that cannot exist.

Whatever comes back must not be a server error, must not carry the raw markup, must not redirect
off the site, and a submission that is refused must leave the database exactly as it was and say why.
"""

import time
import hashlib
from datetime import date, timedelta
from collections.abc import Callable
from dataclasses import dataclass, field
from importlib import import_module
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from conftest import PASSWORD, build_city, signed_in_client
from django import forms
from django.apps import apps
from django.conf import settings
from django.contrib.messages import ERROR, get_messages
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from django_otp.plugins.otp_static.models import StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice
from test_permission_matrix import PDF, World

from accounts import forms as accounts_forms
from accounts.models import AuthorizedRequester, Department, Grant, SurveillanceSystem, User
from audits import forms as audits_forms
from audits.models import Validation, ValidationItem
from portal import forms as portal_forms
from portal.models import IntendedUse
from access_requests import forms as requests_forms
from access_requests.models import AccessRequest, DepartmentAccess, StatusChange, SupportingDocument
from security import forms as security_forms
from external import forms as connection_forms
from external.models import ExternalConnection
from external.services import external_connection_request
from agreements import forms as agreement_forms
from agreements.models import SharingAgreement
from agreements.services import agreement_decide, agreement_request
from incidents import forms as incident_forms
from retention import forms as retention_forms
from waivers import forms as waiver_forms
from kpis import forms as kpi_forms
from kpis.models import ImpactStatement, Kpi, KpiFigure
from kpis.services import figure_record, kpi_decide, kpi_propose
from incidents.services import incident_report
from incidents.models import Incident
from retention.models import RetentionExtension
from waivers.models import Waiver
from retention.services import retention_extension_decide, retention_extension_request
from waivers.services import waiver_decide, waiver_request
from conftest import make_directors, make_pdf
from django.core.files.base import ContentFile
from reports import forms as reports_forms
from reports.models import BoardHandover, PublishedReport
from security.models import OversightAppointment
from security.oversight import oversight_decide, oversight_propose
from security.services import PASSWORD_AT

HOSTILE = {
    "very-long": "A" * 100_000,
    "nul-byte": "before\x00after",
    "control-characters": "".join(map(chr, range(1, 32))) + "\x7f\x85",
    "script": "<script>alert(1)</script>",
    "html-attribute": '"><img src=x onerror=alert(1)>',
    "rtl-override": "\u202egnp.exe",
    "emoji": "\U0001f46e\U0001f3fd\u200d\u2640\ufe0f\U0001f4f9",
    "sql": "' OR 1=1 --",
    "template": "{{ 7*7 }}",
    "path": "../../etc/passwd",
    "url": "http://169.254.169.254/",
}
BAD_IDS = ["-1", "abc", "99999999999999999999"]
# What must never reach a page unescaped.
MARKUP = ["<script>alert(1)</script>", "<img src=x onerror=alert(1)>"]
ANSWERS = {200, 302, 400, 403, 404, 405}


@dataclass(frozen=True)
class Target:
    """Where a form is sent, by whom, and a valid submission for the fuzz to spoil."""

    url: str
    role: str
    data: dict = field(default_factory=dict)
    kwargs: Callable = lambda w: {}
    method: str = "post"
    # A search or an inline preview refuses nothing, so it need not show an error.
    quiet: bool = False
    # What the view reads beside the form (where to go next), with a valid value.
    extra: dict = field(default_factory=dict)


def _today(w):
    return timezone.localdate().isoformat()


def _module_forms():
    """Every form class defined in a `forms` module of the portal's own apps."""
    found = set()
    for config in apps.get_app_configs():
        if Path(config.path).parent != Path(settings.BASE_DIR):
            continue  # Django's and other packages' forms are theirs to test
        names = [f"{config.name}.forms"] + [f"{config.name}.{path.stem}"
                                              for path in sorted(Path(config.path).glob("*_forms.py"))]
        for name in names:
            try:
                module = import_module(name)
            except ModuleNotFoundError as missing:
                if missing.name != name:
                    raise
                continue
            found |= {value for value in vars(module).values() if isinstance(value, type)
                      and issubclass(value, forms.BaseForm) and value.__module__ == module.__name__}
    return found


def _forms():
    a, r, v, p, s = accounts_forms, requests_forms, audits_forms, portal_forms, security_forms
    people = {"q": "", "department": lambda w: w.city.police.pk}
    new_request = {"department": lambda w: w.city.police.pk, "person": lambda w: w.city.head.pk,
                   "system": lambda w: w.city.vms.pk, "action": "add", "role": "end_user",
                   "permissible_uses": lambda w: [w.city.crime_detection.pk], "justification": "Reviews footage.",
                   "condition_statement": "Case 26-001234, until the case closes."}
    log_search = {"action": "", "outcome": "", "actor": "", "target": "", "date_from": "", "date_to": ""}
    return {
        a.PeopleFilterForm: [Target("accounts:people", "head", people, method="get", quiet=True)],
        a.RequesterSearchForm: [Target("accounts:requesters", "itsa", {"q": ""}, method="get", quiet=True)],
        a.RequesterAddForm: [Target("accounts:requester_add", "itsa", {
            "department": lambda w: w.city.police.pk, "person": lambda w: w.city.analyst.pk, "start_date": _today,
            "end_date": ""})],
        a.RequesterEndForm: [Target("accounts:requester_end", "itsa", {"end_date": ""},
                                    kwargs=lambda w: {"pk": w.requester_entry.pk})],
        a.PersonCreationForm: [Target("admin:accounts_user_add", "superuser", {
            "email": "new.person@police.example", "full_name": "New Person", "title": "",
            "department": lambda w: w.city.police.pk, "usable_password": "false", "password1": "", "password2": ""})],
        a.PersonChangeForm: [Target("admin:accounts_user_change", "superuser", {
            "email": lambda w: w.city.officer.email, "full_name": "Olive Officer", "title": "",
            "department": lambda w: w.city.police.pk, "is_active": "on"},
            kwargs=lambda w: {"object_id": w.city.officer.pk})],
        r.AccessRequestForm: [Target("requests:new", "requester", new_request)],
        r.PreviewForm: [Target("requests:preview", "requester", {
            **new_request, "person": lambda w: w.city.officer.pk}, quiet=True)],
        r.ReasonForm: [
            Target("requests:decline", "head", {"reason": "Not needed."}, kwargs=lambda w: {"pk": w.awaiting.pk}),
            Target("requests:return", "itsa", {"reason": "Missing signature."},
                   kwargs=lambda w: {"pk": w.with_itsa.pk}),
        ],
        r.ProvisionForm: [Target("requests:provision", "itsa", {"account_name": "aanalyst"},
                                 kwargs=lambda w: {"pk": w.with_itsa.pk})],
        r.DocumentForm: [Target("requests:attach", "requester", {"document": lambda w: Upload("signed.pdf")},
                                kwargs=lambda w: {"pk": w.awaiting.pk})],
        r.StatusChangeForm: [Target("requests:status_change", "head", {"kind": "left", "effective_date": _today,
                                                                         "note": ""},
                                    kwargs=lambda w: {"person_pk": w.city.officer.pk})],
        r.DepartmentAccessForm: [Target("requests:department_access_new", "head", {
            "department": lambda w: w.city.police.pk, "system": lambda w: w.city.lpr.pk,
            "intended_uses": lambda w: [IntendedUse.objects.get(code="public-safety").pk],
            "business_need": "Find stolen city vehicles."})],
        v.ItemDecisionForm: [Target("audits:decide", "head", {"decision": "revoke", "reason": "Moved away.",
                                                               "new_role": ""},
                                    kwargs=lambda w: {"pk": w.validation.pk, "item_pk": w.item.pk})],
        v.KeepAllForm: [Target("audits:keep_all", "head", {"confirm": "on"},
                               kwargs=lambda w: {"pk": w.validation.pk})],
        v.SignOffForm: [Target("audits:sign_off", "head", {"password": PASSWORD},
                               kwargs=lambda w: {"pk": w.audit.pk})],
        v.UserAuditForm: [Target("audits:user_audit_new", "itsa", {"department": lambda w: w.city.police.pk,
                                                                   "system": lambda w: w.city.vms.pk})],
        p.AuditLogFilterForm: [
            Target("audit_log", "itsa", log_search, method="get", quiet=True),
            Target("audit_log_export", "itsa", log_search, method="get", quiet=True),
        ],
        s.SignInForm: [Target("login", "anonymous", {"username": lambda w: w.city.officer.email,
                                                     "password": PASSWORD}, extra={"next": "/"})],
        s.CodeForm: [Target("security:verify", "head before the second factor", {"code": "000000"},
                            extra={"next": "/"})],
        s.EnrolForm: [Target("security:setup", "officer", {"code": "000000"}, extra={"next": "/"})],
        s.PasswordForm: [Target("security:confirm_password", "officer", {"password": PASSWORD},
                                extra={"next": "/"})],
        s.SetPasswordForm: [Target("security:reset_password", "anonymous",
                                   {"new_password1": "a brand new long passphrase",
                                    "new_password2": "a brand new long passphrase"},
                                   kwargs=lambda w: _reset_link_kwargs(w.city.analyst))],
        s.ForgotPasswordForm: [Target("security:forgot_password", "anonymous", {"email": lambda w: w.city.officer.email})],
        **_rest_of_the_order_forms(),
    }


def _reset_link_kwargs(person):
    from security.invitations import RESET, link_for

    uidb64, token = link_for(person, RESET).rstrip("/").split("/")[-2:]
    return {"uidb64": uidb64, "token": token}


def _in_days(days):
    return lambda w: (timezone.localdate() + timedelta(days=days)).isoformat()


def _rest_of_the_order_forms():
    """The forms of Sections 3.6, 3.7, 3.11 and 5 (external systems, agreements, retention, waivers,
    incidents), sent to the objects `_rest_of_the_order_world` adds to the world."""
    e, g, i, r, wv = connection_forms, agreement_forms, incident_forms, retention_forms, waiver_forms
    return {
        e.ExternalConnectionForm: [Target("external:new", "head", {
            "department": lambda w: w.city.police.pk, "name": "Stadium cameras", "owner": "Stadium Authority",
            "owner_contact": "", "systems": lambda w: [w.city.vms.pk],
            "permissible_uses": lambda w: [w.city.crime_detection.pk], "business_reasons": "Crowd safety.",
            "method": "secure_network", "connection_detail": "", "starts_on": _today, "ends_on": _in_days(30),
            "renews": ""})],
        # The one decision form of every ask-and-decide workflow, on each workflow's page.
        portal_forms.DecisionForm: [
            Target("requests:department_access_decide", "designee", {"decision": "grant", "reason": "Stolen vehicles."},
                   kwargs=lambda w: {"pk": w.streets_pending.pk}),
            Target("external:decide", "designee", {"decision": "approve", "reason": "Crime detection."},
                   kwargs=lambda w: {"pk": w.order.connection.pk}),
            Target("retention:decide", "safety_director", {"decision": "grant", "reason": "High crime."},
                   kwargs=lambda w: {"pk": w.order.extension.pk}),
            Target("waivers:decide", "operations_director", {"decision": "grant", "reason": "Safety."},
                   kwargs=lambda w: {"pk": w.order.waiver.pk}),
            Target("kpis:decide", "designee", {"decision": "approve", "reason": "A clear measure."},
                   kwargs=lambda w: {"pk": w.order.proposed_kpi.pk}),
            Target("security:oversight_decide", "designee", {"decision": "approve", "reason": "Audit plan."},
                   kwargs=lambda w: {"pk": w.order.proposed_oversight.pk}),
        ],
        reports_forms.HandToBoardForm: [Target("reports:hand_to_board", "designee", {
            "requested_on": _today, "request_reference": "Letter of 3 March", "note": ""},
            kwargs=lambda w: {"pk": w.order.police_report.pk})],
        accounts_forms.OversightProposeForm: [Target("security:oversight_new", "itsa", {
            "person": lambda w: w.order.oversight_candidate.pk, "body": "Office of the Internal Auditor",
            "purpose": "The yearly audit.", "ends_on": ""})],
        accounts_forms.OversightEndForm: [Target("security:oversight_end", "itsa", {"reason": "The audit is done."},
                                                 kwargs=lambda w: {"pk": w.order.active_oversight.pk})],
        **_kpi_forms(),
        **_adoption_forms(),
        **_api_forms(),
        g.AgreementFilterForm: [Target("agreements:list", "head", {"q": "", "status": "", "category": ""},
                                       method="get", quiet=True)],
        g.AgreementForm: [Target("agreements:new", "head", {
            "department": lambda w: w.city.police.pk, "third_party": "State Patrol", "category": "law_enforcement",
            "shared": "Video.", "conditions": "Investigations.", "excludes_biometric": "on",
            "systems": lambda w: [w.city.vms.pk], "starts_on": _today, "ends_on": _in_days(30)})],
        g.AgreementDecideForm: [Target("agreements:decide", "designee", {
            "decision": "approve", "reason": "Signed.", "mayor_approved_on": _today},
            kwargs=lambda w: {"pk": w.order.pending_agreement.pk})],
        g.AgreementEndForm: [Target("agreements:end", "designee", {"reason": "Task force dissolved."},
                                    kwargs=lambda w: {"pk": w.order.agreement.pk})],
        g.ThirdPartyPersonForm: [Target("agreements:add_person", "itsa", {
            "full_name": "Sam Sergeant", "email": "sergeant@sheriff.example", "system": lambda w: w.city.vms.pk,
            "permissible_uses": lambda w: [w.city.crime_detection.pk], "account_name": "sheriff-ssergeant"},
            kwargs=lambda w: {"pk": w.order.agreement.pk})],
        i.IncidentReportForm: [Target("incidents:new", "requester", {
            "nature": "abuse", "description": "Watched a neighbour's home.", "occurred_on": "",
            "person": lambda w: w.city.officer.pk, "system": lambda w: w.city.vms.pk, "anonymous": "on"}),
            # The person search, as htmx asks it and as the Find button sends the form.
            Target("incidents:new", "requester", {"person": lambda w: w.city.officer.pk}, method="get", quiet=True,
                   extra={"find": "person", "person_q": "ol"}),
            Target("incidents:new", "requester", {"nature": "abuse", "person": lambda w: w.city.officer.pk},
                   quiet=True, extra={"find": "person", "person_q": "ol"})],
        i.IncidentSuspendForm: [Target("incidents:suspend", "designee", {"reason": "Good-faith complaint."},
                                       kwargs=lambda w: {"pk": w.order.incident.pk})],
        i.IncidentCloseForm: [Target("incidents:close", "designee", {"corrective_action": "Written warning.",
                                                                     "reinstate": ""},
                                     kwargs=lambda w: {"pk": w.order.incident.pk})],
        r.RetentionExtensionForm: [Target("retention:new", "head", {
            "systems": lambda w: [w.city.vms.pk], "area": "", "condition": "b",
            "justification": "Recurring thefts.", "retention_days": "90", "starts_on": _today,
            "ends_on": _in_days(30), "review_on": _in_days(10)})],
        r.RetentionEndForm: [Target("retention:end", "safety_director", {"reason": "No longer needed."},
                                    kwargs=lambda w: {"pk": w.order.granted_extension.pk})],
        wv.WaiverDepartmentForm: [Target("waivers:new", "safety_director", {"department": lambda w: w.city.police.pk},
                                         method="get", quiet=True)],
        wv.WaiverRequestForm: [Target("waivers:new", "head", {
            "department": lambda w: w.city.police.pk,
            "intended_use": lambda w: w.city.crime_detection.intended_use_id,
            "permissible_use": lambda w: w.city.crime_detection.pk, "deviation": "Wider area.", "basis": "safety",
            "justification": "A credible threat.", "grants": lambda w: [w.grant.pk], "starts_on": _today,
            "days": "3"})],
        wv.WaiverMayorForm: [Target("waivers:mayor", "designee", {"decision": "approve", "decided_on": _today,
                                                                   "note": ""},
                                    kwargs=lambda w: {"pk": w.order.long_waiver.pk})],
        wv.WaiverRevokeForm: [Target("waivers:revoke", "safety_director", {"reason": "The threat has passed."},
                                     kwargs=lambda w: {"pk": w.order.granted_waiver.pk})],
    }


def _kpi_forms():
    """The forms of the KPI pages (Section 2.5), sent to the KPIs `_OrderWorld` makes."""
    k = kpi_forms
    impact = lambda w: {"department": w.city.police.pk, "system": w.city.vms.pk,  # noqa: E731
                        "use": w.order.approved_kpi.intended_use_id, "year": timezone.localdate().year - 1}
    return {
        k.KpiProposeForm: [Target("kpis:new", "head", {
            "use": lambda w: f"{w.city.police.pk}-{w.city.vms.pk}-{w.order.approved_kpi.intended_use_id}",
            "name": "Cases solved", "measure": "From the case files.", "unit": "cases", "direction": "higher",
            "target": "12"})],
        k.FigureForm: [Target("kpis:figure", "requester", {
            "year": lambda w: str(timezone.localdate().year - 1), "value": "38", "note": ""},
            kwargs=lambda w: {"pk": w.order.approved_kpi.pk})],
        k.RetireForm: [Target("kpis:retire", "head", {"reason": "Replaced."},
                              kwargs=lambda w: {"pk": w.order.approved_kpi.pk})],
        k.WithdrawForm: [Target("kpis:withdraw", "head", {"reason": "Not needed."},
                                kwargs=lambda w: {"pk": w.order.proposed_kpi.pk})],
        k.ImpactForm: [Target("kpis:impact", "head", {"verdict": "positive", "explanation": "Target met."},
                              kwargs=impact)],
    }


def _adoption_forms():
    """ITSA's import page: the four files of the sample city."""
    from adoption.forms import UploadForm
    from adoption.services import FILES

    samples = Path(settings.BASE_DIR) / "docs" / "samples" / "adoption"
    # Made when sent: the Upload class is defined below.
    files = {name.removesuffix(".csv"): lambda w, name=name: Upload(name, (samples / name).read_bytes())
             for name in FILES}
    return {UploadForm: [Target("adoption:index", "itsa", files)]}


def _api_forms():
    """ITSA's API token page: a token for the plate readers."""
    from api.forms import ApiTokenForm

    return {ApiTokenForm: [Target("api_tokens:new", "itsa", {
        "name": "LPR vendor sync", "scopes": ["read", "report_use"], "system": lambda w: w.city.lpr.pk,
        "expires_on": lambda w: (timezone.localdate() + timedelta(days=90)).isoformat()})]}


class _OrderWorld:
    """One open record of each workflow for the forms above to act on."""

    def __init__(self, w):
        city, today = w.city, timezone.localdate()
        directors = make_directors()
        city.safety_director, city.operations_director = directors.safety, directors.operations
        self.connection = external_connection_request(
            department=city.police, name="Transit cameras", owner="Transit Authority", systems=[city.vms],
            permissible_uses=[city.crime_detection], business_reasons="Station safety.", method="secure_api",
            starts_on=today, ends_on=today + timedelta(days=60), by=city.head)
        agreement = dict(department=city.police, category="law_enforcement", shared="Video.",
                         conditions="Investigations.", excludes_biometric=True, systems=[city.vms], starts_on=today,
                         ends_on=today + timedelta(days=60), by=city.head)
        self.pending_agreement = agreement_request(third_party="State Patrol", **agreement)
        self.agreement = agreement_decide(agreement=agreement_request(third_party="County Sheriff", **agreement),
                                          approve=True, reason="Signed.", mayor_approved_on=today, by=city.designee)
        self.incident = incident_report(nature="abuse", description="Looked up a neighbour.", person=city.officer,
                                        system=city.vms, by=city.requester)
        extension = dict(systems=[city.vms], condition="a", justification="High crime.", starts_on=today,
                         ends_on=today + timedelta(days=60), review_on=today + timedelta(days=30), by=city.head)
        self.extension = retention_extension_request(**extension)
        self.granted_extension = retention_extension_decide(
            extension=retention_extension_request(**extension), grant=True, reason="High crime.",
            by=directors.safety)
        waiver = dict(department=city.police, intended_use=city.crime_detection.intended_use,
                      permissible_use=city.crime_detection, deviation="Wider area.", basis="safety",
                      justification="A credible threat.", grants=[w.grant], starts_on=today, by=city.head)
        self.waiver = waiver_request(days=3, **waiver)
        self.long_waiver = waiver_decide(waiver=waiver_request(days=45, **waiver), grant=True, reason="Safety.",
                                         by=directors.operations)
        # Another permissible use: a waiver for the same one would chain with those above (S5.1c).
        self.granted_waiver = waiver_decide(
            waiver=waiver_request(days=5, **{**waiver, "permissible_use": city.investigations}), grant=True,
            reason="Safety.", by=directors.safety)
        assert self.granted_waiver.status == "granted"
        kpi = dict(department=city.police, system=city.vms, intended_use=city.crime_detection.intended_use,
                   measure="From the case files.", unit="vehicles", direction="higher", target="40", by=city.head)
        self.proposed_kpi = kpi_propose(name="Proposed", **kpi)
        self.approved_kpi = kpi_decide(kpi=kpi_propose(name="Approved", **kpi), approve=True, reason="Clear.",
                                       by=city.designee)
        # Approved last year, with its figure for it, so that the head may state last year's impact.
        Kpi.objects.filter(pk=self.approved_kpi.pk).update(decided_at=timezone.now().replace(
            year=today.year - 1, month=6, day=1))
        self.approved_kpi.refresh_from_db()
        figure_record(kpi=self.approved_kpi, year=today.year - 1, value="41", by=city.head)
        # Oversight appointments: one to decide, one to end, and a person eligible for a new one.
        def auditor(local):
            return User.objects.create_user(f"{local}@audit.city.example", full_name=local.title())

        appointment = dict(body="Internal Auditor", purpose="Audit.", by=city.itsa)
        self.proposed_oversight = oversight_propose(person=auditor("olive"), **appointment)
        self.active_oversight = oversight_decide(appointment=oversight_propose(person=auditor("otto"), **appointment),
                                                 approve=True, reason="Plan.", by=city.designee)
        self.oversight_candidate = auditor("opal")
        # A submitted annual report for the designee to hand to the Board (written directly: rendering
        # one costs seconds).
        pdf = make_pdf()
        self.police_report = PublishedReport(
            kind=PublishedReport.Kind.DEPARTMENT_ANNUAL, department=city.police, period_start=date(2002, 1, 1),
            period_end=date(2002, 12, 31), title="Police annual report", published_by=city.head,
            published_at=timezone.now(), pdf_sha256=hashlib.sha256(pdf).hexdigest())
        self.police_report.pdf.save("report.pdf", ContentFile(pdf), save=False)
        self.police_report.save()


FORMS = _forms()
# Bases that give their subclasses the design system's classes; they have no fields to fuzz.
BASES = {accounts_forms.PageForm, requests_forms.PortalForm, agreement_forms._AgreementPageForm}


def _kind(form_field) -> str:
    if form_field.disabled:
        return "disabled"
    if isinstance(form_field, forms.FileField):
        return "file"
    if isinstance(form_field, forms.BooleanField):
        return "boolean"
    if isinstance(form_field, (forms.MultipleChoiceField, forms.ModelMultipleChoiceField)):
        return "choices"
    if isinstance(form_field, (forms.ChoiceField, forms.ModelChoiceField)):
        return "choice"
    if isinstance(form_field, forms.CharField) and not isinstance(form_field, forms.EmailField):
        return "text"
    return "other"


@dataclass(frozen=True)
class Upload:
    """A file as a browser sends it. The test client's own encoding keeps only the base name of a
    file, so a hostile name would never reach the server: `_multipart` sends it as it is."""

    name: str
    content: bytes = PDF


BOUNDARY = "fuzz-boundary-7MA4YWxkTrZu0gW"


def _multipart(data: dict) -> bytes:
    """The body of a multipart/form-data POST."""
    parts = []
    for key, values in data.items():
        for value in values if isinstance(values, list) else [values]:
            if isinstance(value, Upload):
                # Browsers escape these three in a file name (HTML's multipart/form-data encoding).
                name = value.name.replace('"', "%22").replace("\r", "%0D").replace("\n", "%0A")
                head = (f'Content-Disposition: form-data; name="{key}"; filename="{name}"\r\n'
                        "Content-Type: application/pdf")
                body = value.content
            else:
                head, body = f'Content-Disposition: form-data; name="{key}"', str(value).encode()
            parts.append(f"--{BOUNDARY}\r\n{head}\r\n\r\n".encode() + body + b"\r\n")
    return b"".join(parts) + f"--{BOUNDARY}--\r\n".encode()


def _submission(form_class, target, world, mode: str, value: str) -> dict:
    """The valid submission of the target, spoiled as the mode says."""
    data = {key: (v(world) if callable(v) else v) for key, v in {**target.data, **target.extra}.items()}
    if mode in ("beside the form", "every field"):
        data.update(dict.fromkeys(target.extra, value))
    for name, form_field in form_class.base_fields.items():
        kind = _kind(form_field)
        if kind == "disabled":
            continue
        if (mode, kind) in (("text", "text"), ("every field", "text"), ("every field", "other"),
                            ("every field", "boolean"), ("every field", "choice"), ("bad id", "choice")):
            data[name] = value
        elif (mode, kind) in (("every field", "choices"), ("bad id", "choices")):
            data[name] = [value]
        elif (mode, kind) == ("file name", "file"):
            data[name] = Upload(value)
        elif (mode, kind) == ("every field", "file"):
            data[name] = Upload(value, value.encode())
    return data


def _modes(form_class, target) -> list[str]:
    """The modes that spoil something in this form: `text` needs a free-text field, and so on."""
    kinds = {_kind(f) for f in form_class.base_fields.values()}
    return [mode for mode, applies in (
        ("text", "text" in kinds),
        ("file name", "file" in kinds),
        ("beside the form", bool(target.extra)),
        ("every field", True),
    ) if applies]


def _cases():
    for form_class, targets in FORMS.items():
        kinds = {_kind(f) for f in form_class.base_fields.values()}
        for target in targets:
            name = f"{form_class.__name__} to {target.url}"
            for mode in _modes(form_class, target):
                for label, value in HOSTILE.items():
                    yield pytest.param(form_class, target, mode, value, id=f"{name} [{mode}: {label}]")
            if kinds & {"choice", "choices"}:
                for value in BAD_IDS:
                    yield pytest.param(form_class, target, "bad id", value, id=f"{name} [bad id: {value}]")


def snapshot():
    """What a form could write, with every value (an audit event of a refusal is meant to be written)."""
    def rows(model, exclude=()):
        return [{k: v for k, v in row.items() if k not in exclude} for row in model.objects.order_by("pk").values()]

    return {
        "people": rows(User, exclude=("last_login", "password")),
        "groups": rows(User.groups.through),
        "departments": rows(Department),
        "systems": rows(SurveillanceSystem),
        "requesters": rows(AuthorizedRequester),
        "grants": rows(Grant),
        "grant uses": rows(Grant.permissible_uses.through),
        "department access": rows(DepartmentAccess),
        "department access uses": rows(DepartmentAccess.intended_uses.through),
        "requests": rows(AccessRequest),
        "request uses": rows(AccessRequest.permissible_uses.through),
        "documents": rows(SupportingDocument),
        "status changes": rows(StatusChange),
        "validations": rows(Validation),
        "items": rows(ValidationItem),
        "external connections": rows(ExternalConnection),
        "agreements": rows(SharingAgreement),
        "incidents": rows(Incident),
        "incident grants": rows(Incident.suspended_grants.through),
        "retention extensions": rows(RetentionExtension),
        "waivers": rows(Waiver),
        "waiver grants": rows(Waiver.grants.through),
        "kpis": rows(Kpi),
        "kpi figures": rows(KpiFigure),
        "impact statements": rows(ImpactStatement),
        "oversight appointments": rows(OversightAppointment),
        "board handovers": rows(BoardHandover),
        "import uploads": rows(apps.get_model("adoption", "Upload")),
        "api tokens": rows(apps.get_model("api", "ApiToken")),
        "authenticators": sorted(TOTPDevice.objects.values_list("pk", "key", "confirmed")),
        "recovery codes": sorted(StaticToken.objects.values_list("token", flat=True)),
    }


def build_world():
    """One world for the whole file (conftest.module_world): each submission runs in a savepoint of
    it and meets the same state. Building it for each of the several hundred submissions would take
    minutes."""
    w = World(build_city())
    w.order = _OrderWorld(w)
    w.superuser = User.objects.create_superuser(email="root@city.example", password=PASSWORD, full_name="Root Admin")
    return w


def _client(world, role: str) -> Client:
    """A client signed in as the role; a server error comes back as a 500 response, not an exception."""
    if role == "head before the second factor":
        # Signed in with the password; the authenticator exists but has not been passed yet.
        TOTPDevice.objects.get_or_create(user=world.city.head, confirmed=True, defaults={"name": "App"})
        client = Client()
        client.force_login(world.city.head)
    elif role == "anonymous":
        client = signed_in_client()
    else:
        client = signed_in_client()
        client.force_login(world.superuser if role == "superuser" else getattr(world.city, role))
        # Approvals, provisioning and sign-offs ask for the password again: it was just entered.
        session = client.session
        session[PASSWORD_AT] = time.time()
        session.save()
    client.raise_request_exception = False
    return client


def _send(client, target, url, data):
    if target.method == "get":
        return client.get(url, data)
    return client.post(url, _multipart(data), content_type=f"multipart/form-data; boundary={BOUNDARY}")


def _html(response) -> str:
    if not response.get("Content-Type", "").startswith("text/html") or response.streaming:
        return ""
    return response.content.decode()


def _assert_safe_page(response, where: str) -> None:
    assert response.status_code in ANSWERS, f"{where} answered {response.status_code}"
    html = _html(response)
    for markup in MARKUP:
        assert markup not in html, f"{where} echoes {markup!r} unescaped"
    if response.status_code in (301, 302, 303, 307, 308):
        location = urlsplit(response["Location"])
        assert location.netloc in ("", "testserver"), f"{where} redirects off the site: {response['Location']}"


@pytest.mark.parametrize(("form_class", "target", "mode", "value"), list(_cases()))
def test_hostile_input_gets_a_clear_error_or_a_safe_echo(form_class, target, mode, value, world, db):
    """S3.10"""
    client = _client(world, target.role)
    url = reverse(target.url, kwargs=target.kwargs(world))
    data = _submission(form_class, target, world, mode, value)
    before = snapshot()

    response = _send(client, target, url, data)

    after = snapshot()
    _assert_safe_page(response, f"{target.method.upper()} {url}")
    refused_by_message = any(m.level == ERROR for m in get_messages(response.wsgi_request))
    error_on_page = any(mark in _html(response) for mark in ("usa-error-message", "usa-alert--error", "errornote"))
    if target.method == "get" or response.status_code >= 400 or refused_by_message or error_on_page:
        assert after == before, "a refused submission (or any GET) must leave the database as it was"
    elif target.method == "post" and response.status_code == 200 and not target.quiet and after == before:
        pytest.fail("a refused submission must say what is wrong")
    if after != before:
        assert "\\x00" not in repr(after), "a NUL byte was stored"
        # What was stored is shown safely on the page the submission leads to.
        if response.status_code == 302:
            _assert_safe_page(client.get(response["Location"]), f"GET {response['Location']}")
        # A stored file comes back under a name that cannot break the response's headers.
        for document in SupportingDocument.objects.exclude(pk__in=[row["id"] for row in before["documents"]]):
            download = client.get(document.get_absolute_url())
            assert download.status_code == 200, f"the download of {document.original_name!r} failed"
            assert not {"\r", "\n", "\x00"} & set(download["Content-Disposition"])


# The lists, whose search box and pages are read from the query string (some without a form class).
SEARCH_PAGES = ["requests:list", "requests:queue", "requests:department_access_list", "audits:list",
                "accounts:people", "accounts:requesters", "audit_log", "external:list", "agreements:list",
                "waivers:list", "incidents:list", "retention:list", "kpis:list"]


@pytest.mark.parametrize("value", HOSTILE.values(), ids=HOSTILE.keys())
@pytest.mark.parametrize("page", SEARCH_PAGES)
def test_search_and_paging_parameters_never_break_a_list(page, value, world, db):
    """S3.10: the lists read `q`, `status` and page numbers straight from the query string."""
    client = _client(world, "itsa")
    response = client.get(reverse(page), {"q": value, "status": value, "page": value, "departments_page": value})
    _assert_safe_page(response, f"GET {page}")


def test_every_form_is_fuzzed():
    """A form class with no row in FORMS fails here, so it cannot ship without the fuzz pass."""
    missing = sorted(cls.__qualname__ for cls in _module_forms() - set(FORMS) - BASES)
    assert not missing, f"forms with no row in FORMS: {missing}"
    assert all(not base.base_fields for base in BASES), "a base listed in BASES has fields: fuzz it in FORMS"
