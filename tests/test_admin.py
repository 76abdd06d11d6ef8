"""The admin for ITSA superusers keeps the portal's rules: guarded records are read-only there, and
a department's head changes through the same service as everywhere else."""

from datetime import date

import pytest
from conftest import PASSWORD, make_pdf, messages_of, provisioned, rest_of_the_order_records
from django.apps import apps
from django.contrib import admin
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from accounts.models import Department, Grant, User
from accounts.services import DEPARTMENT_PERM
from accounts.sod import sod_finding_record
from portal.audit import audit_anchors_publish
from portal.models import AuditEvent, PolicyVersion
from portal.policy import policy_change_add, policy_version_publish, policy_version_save
from access_requests.models import AccessRequest, RosterRun
from access_requests.services import status_change_report

GUARDED_APPS = ("portal", "accounts", "agreements", "access_requests", "external", "waivers", "incidents",
                "retention", "kpis", "security", "adoption", "api")


@pytest.fixture
def itsa_admin(city, client):
    User.objects.filter(pk=city.itsa.pk).update(is_staff=True, is_superuser=True)
    client.force_login(city.itsa)
    return client


def _url(model, view, *args):
    return reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_{view}", args=args)


def test_every_model_of_the_portal_is_in_the_admin():
    for app_label in GUARDED_APPS:
        for model in apps.get_app_config(app_label).get_models():
            if model.__name__.startswith("Historical"):
                continue
            assert admin.site.is_registered(model), model


# The records of Sections 3.11 and 5, each in its own app, are read-only there too.
ORDER_RECORDS = [apps.get_model(*label.split(".")) for label in
                 ("waivers.Waiver", "incidents.Incident", "retention.RetentionExtension")]


def test_the_records_of_waivers_incidents_and_retention_are_in_the_admin():
    for model in ORDER_RECORDS:
        assert admin.site.is_registered(model), model


@pytest.mark.parametrize("model", [
    model for app_label in GUARDED_APPS for model in apps.get_app_config(app_label).get_models()
    if not model.__name__.startswith("Historical")
], ids=lambda model: model.__name__)
def test_an_itsa_superuser_opens_every_changelist_and_change_page(city, itsa_admin, model):
    memo = SimpleUploadedFile("memo.pdf", make_pdf(), content_type="application/pdf")
    provisioned(city, person=city.officer, documents=[memo])
    status_change_report(person=User.objects.get(pk=city.analyst.pk), kind="on_leave", effective_date=date.today(),
                         note="", by=city.head)
    _published_policy_version(city)
    sod_finding_record(person=city.officer, system=city.vms, stage="filing", detail="Refused at filing.")
    rest_of_the_order_records(city, Grant.objects.get(person=city.officer))
    audit_anchors_publish(to=[], today=date.today())
    _kpi_and_security_records(city)
    _adoption_records(city)
    _api_records(city)
    RosterRun.objects.create(file_name="hr-roster.csv", sha256="0" * 64, counts={"joined": 1})
    assert itsa_admin.get(_url(model, "changelist")).status_code == 200
    assert itsa_admin.get(_url(model, "changelist"), {"q": "police"}).status_code == 200
    obj = model._default_manager.first()
    assert itsa_admin.get(_url(model, "change", obj.pk)).status_code == 200
    assert itsa_admin.get(_url(model, "history", obj.pk)).status_code == 200
    if hasattr(obj, "history"):
        version = obj.history.earliest("history_date")
        url = reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_simple_history",
                      args=[obj.pk, version.history_id])
        assert itsa_admin.get(url).status_code == 200


def _published_policy_version(city):
    version = policy_version_save(version=PolicyVersion(number="1.0", title="Surveillance policy", summary="First.",
                                                        effective_on=date.today()), by=city.designee)
    policy_change_add(version=version, section="2.6", description="Published on the website.", substantive=False,
                      by=city.designee)
    return policy_version_publish(version=version, by=city.designee)


def test_people_outside_the_admin_staff_cannot_open_it(city, client):
    client.force_login(city.itsa)
    response = client.get(_url(Grant, "changelist"))
    assert response.status_code == 302
    assert response.url.startswith(reverse("admin:login"))


@pytest.mark.parametrize("model", [AccessRequest, Grant, AuditEvent], ids=lambda model: model.__name__)
def test_guarded_records_cannot_be_added(city, itsa_admin, model):
    """S3.5b"""
    assert itsa_admin.get(_url(model, "add")).status_code == 403
    before = model.objects.exclude(**({"action": "permission.denied"} if model is AuditEvent else {})).count()
    assert itsa_admin.post(_url(model, "add"), {}).status_code == 403
    # The refusal itself is on the audit trail (permission.denied); nothing else is added.
    assert model.objects.exclude(**({"action": "permission.denied"} if model is AuditEvent else {})).count() == before


def test_a_grant_cannot_be_changed_or_deleted_in_the_admin(city, itsa_admin):
    """S3.5b"""
    grant = provisioned(city, person=city.officer).grant
    response = itsa_admin.post(_url(Grant, "change", grant.pk), {
        "person": grant.person_id, "system": grant.system_id, "department": grant.department_id,
        "role": "administrator", "status": "active", "account_name": "root",
        "provisioned_at_0": "2025-01-01", "provisioned_at_1": "00:00:00", "provisioned_by": city.itsa.pk,
    })
    assert response.status_code == 403
    assert itsa_admin.post(_url(Grant, "delete", grant.pk), {"post": "yes"}).status_code == 403
    grant.refresh_from_db()
    assert (grant.role, grant.account_name) == ("end_user", "acct-%s-end_user" % city.officer.pk)


def test_an_access_request_cannot_be_changed_in_the_admin(city, itsa_admin):
    request = provisioned(city, person=city.officer)
    response = itsa_admin.post(_url(AccessRequest, "change", request.pk), {
        "status": "awaiting_head", "role": "administrator", "justification": "changed",
    })
    assert response.status_code == 403
    assert itsa_admin.post(_url(AccessRequest, "delete", request.pk), {"post": "yes"}).status_code == 403
    request.refresh_from_db()
    assert (request.status, request.role) == (AccessRequest.Status.COMPLETED, "end_user")


def test_an_audit_event_cannot_be_changed_or_deleted_in_the_admin(city, itsa_admin):
    event = AuditEvent.objects.first()
    response = itsa_admin.post(_url(AuditEvent, "change", event.pk), {"action": "nothing", "outcome": "success"})
    assert response.status_code == 403
    assert itsa_admin.post(_url(AuditEvent, "delete", event.pk), {"post": "yes"}).status_code == 403
    event.refresh_from_db()
    assert event.action != "nothing"


def test_a_grant_is_never_reverted_to_an_old_version_from_its_history(city, itsa_admin):
    request = provisioned(city, person=city.officer)
    provisioned(city, person=city.officer, action="remove")
    grant = Grant.objects.get(pk=request.grant.pk)
    first = grant.history.earliest("history_date")
    url = reverse("admin:accounts_grant_simple_history", args=[grant.pk, first.history_id])
    assert itsa_admin.get(url).status_code == 200
    assert itsa_admin.post(url, {"status": "active"}).status_code == 403
    grant.refresh_from_db()
    assert grant.status == Grant.Status.REMOVED


def test_a_department_head_is_never_set_by_reverting_to_an_old_version(city, itsa_admin):
    first = city.police.history.earliest("history_date")
    assert first.head_id is None
    url = reverse("admin:accounts_department_simple_history", args=[city.police.pk, first.history_id])
    response = itsa_admin.post(url, _department_form(city.police, None))
    assert response.status_code == 403
    city.police.refresh_from_db()
    assert city.police.head == city.head


def _department_form(department, head):
    return {"name": department.name, "code": department.code, "kind": department.kind,
            "head": head.pk if head else ""}


def test_changing_a_head_in_the_admin_goes_through_the_service(city, itsa_admin):
    recorded = AuditEvent.objects.filter(action="department.set_head", target=str(city.police))
    before = recorded.count()
    response = itsa_admin.post(_url(Department, "change", city.police.pk), _department_form(city.police, city.officer))
    assert response.status_code == 302
    city.police.refresh_from_db()
    assert city.police.head == city.officer
    assert User.objects.get(pk=city.officer.pk).has_perm(DEPARTMENT_PERM, city.police)
    assert recorded.count() == before + 1


def test_the_former_head_loses_the_department_unless_they_are_on_the_requester_list(city, itsa_admin):
    itsa_admin.post(_url(Department, "change", city.streets.pk), _department_form(city.streets, city.streets_worker))
    assert User.objects.get(pk=city.streets_worker.pk).has_perm(DEPARTMENT_PERM, city.streets)
    # Oscar is still an authorized requester of Streets: he keeps acting for it.
    assert User.objects.get(pk=city.outsider.pk).has_perm(DEPARTMENT_PERM, city.streets)


def test_a_head_the_service_refuses_is_not_saved_and_the_reason_is_shown(city, itsa_admin):
    User.objects.filter(pk=city.officer.pk).update(is_active=False)
    form = {**_department_form(city.police, city.officer), "name": "Renamed Police"}
    response = itsa_admin.post(_url(Department, "change", city.police.pk), form)
    assert response.status_code == 302
    assert response.url == _url(Department, "change", city.police.pk)
    city.police.refresh_from_db()
    assert (city.police.name, city.police.head) == ("Police Department", city.head)
    assert not User.objects.get(pk=city.officer.pk).has_perm(DEPARTMENT_PERM, city.police)
    assert any("deactivated" in message for message in messages_of(response, levels=False))


def test_a_superuser_outside_itsa_cannot_change_a_head(city, client):
    User.objects.filter(pk=city.designee.pk).update(is_staff=True, is_superuser=True)
    client.force_login(city.designee)
    response = client.post(_url(Department, "change", city.police.pk), _department_form(city.police, city.officer))
    city.police.refresh_from_db()
    assert city.police.head == city.head
    assert any("Only ITSA administrators" in message for message in messages_of(response, levels=False))


def test_a_new_department_is_created_without_a_head_which_is_then_set_through_the_service(city, itsa_admin):
    response = itsa_admin.post(_url(Department, "add"), {"name": "Parks Board", "code": "parks", "kind": "board",
                                                         "head": city.analyst.pk})
    assert response.status_code == 302
    parks = Department.objects.get(code="parks")
    assert parks.head is None
    itsa_admin.post(_url(Department, "change", parks.pk), _department_form(parks, city.analyst))
    parks.refresh_from_db()
    assert parks.head == city.analyst
    assert User.objects.get(pk=city.analyst.pk).has_perm(DEPARTMENT_PERM, parks)


def test_a_refused_head_change_is_on_the_audit_trail(city, itsa_admin):
    User.objects.filter(pk=city.designee.pk).update(is_staff=True, is_superuser=True)
    itsa_admin.force_login(city.designee)
    itsa_admin.post(_url(Department, "change", city.police.pk), _department_form(city.police, city.officer))
    assert AuditEvent.objects.filter(actor=city.designee, action="department.set_head", outcome="denied").exists()


def test_a_department_cannot_be_deleted(city, itsa_admin):
    assert itsa_admin.post(_url(Department, "delete", city.streets.pk), {"post": "yes"}).status_code == 403
    assert Department.objects.filter(pk=city.streets.pk).exists()


def test_a_person_added_in_the_admin_signs_in_with_their_e_mail_address(city, itsa_admin, client):
    response = itsa_admin.post(_url(User, "add"), {
        "email": "New.Person@Police.example", "full_name": "Nia New", "department": city.police.pk,
        "usable_password": "true", "password1": PASSWORD, "password2": PASSWORD,
    })
    assert response.status_code == 302
    person = User.objects.get(full_name="Nia New")
    assert person.email == "new.person@police.example"
    itsa_admin.logout()
    response = client.post(reverse("login"), {"username": "New.Person@police.example", "password": PASSWORD})
    assert response.status_code == 302 and response["Location"] == reverse("home")


def test_an_e_mail_address_differing_only_in_case_is_refused(city, itsa_admin):
    response = itsa_admin.post(_url(User, "add"), {
        "email": city.officer.email.upper(), "full_name": "Copy", "usable_password": "false",
    })
    assert response.status_code == 200
    assert response.context["adminform"].form.errors["email"]
    assert User.objects.filter(email__iexact=city.officer.email).count() == 1


def test_employment_status_is_read_only_in_the_admin(city, itsa_admin):
    """S3.5c: a status change is reported by the head, which also queues the person's grants."""
    officer = city.officer
    response = itsa_admin.post(_url(User, "change", officer.pk), {
        "email": officer.email, "full_name": "Olive Officer-Renamed", "title": "", "department": city.police.pk,
        "employment_status": "left", "is_active": "on", "date_joined_0": "2025-01-01", "date_joined_1": "00:00:00",
    })
    assert response.status_code == 302
    officer.refresh_from_db()
    assert officer.full_name == "Olive Officer-Renamed"
    assert officer.employment_status == User.EmploymentStatus.ACTIVE


def test_the_requester_list_admin_points_to_the_requesters_page(city, itsa_admin):
    from accounts.models import AuthorizedRequester

    response = itsa_admin.get(_url(AuthorizedRequester, "changelist"))
    assert reverse("accounts:requesters") in response.content.decode()
    assert itsa_admin.get(_url(AuthorizedRequester, "add")).status_code == 403


def _adoption_records(city):
    """An import batch and the grant it brought in."""
    from adoption.models import AdoptedGrant, ImportBatch, Upload, UploadFile

    batch = ImportBatch.objects.create(imported_by=city.itsa, files={"accounts.csv": "0" * 64}, counts={})
    AdoptedGrant.objects.create(grant=Grant.objects.get(person=city.officer), batch=batch)
    upload = Upload.objects.create(uploaded_by=city.itsa, status=Upload.Status.IMPORTED, batch=batch)
    UploadFile.objects.create(upload=upload, name="accounts.csv", content=b"system_code\n")


def _api_records(city):
    """An API token, made as the token page makes it."""
    from datetime import timedelta

    from api.services import token_create

    token_create(name="Police roster sync", scopes=["read"], expires_on=date.today() + timedelta(days=30),
                 by=city.itsa)


def _kpi_and_security_records(city):
    """A KPI with this year's figure and impact statement, an oversight appointment, a lock."""
    from kpis.models import Kpi
    from kpis.services import figure_record, impact_state, kpi_decide, kpi_propose
    from portal.models import IntendedUse
    from security.oversight import oversight_propose
    from security.services import account_lock

    use = IntendedUse.objects.get(code="public-safety")
    kpi = kpi_decide(kpi=kpi_propose(department=city.police, system=city.vms, intended_use=use, name="Cases closed",
                                     measure="Case files.", unit="cases", direction="higher", target="10",
                                     by=city.head), approve=True, reason="Clear.", by=city.designee)
    year = date.today().year
    figure_record(kpi=Kpi.objects.get(pk=kpi.pk), year=year, value="12", by=city.head)
    impact_state(department=city.police, system=city.vms, intended_use=use, year=year, verdict="positive",
                 explanation="Above target.", by=city.head)
    oversight_propose(person=User.objects.create_user("ivy@audit.city.example", full_name="Ivy Inspector"),
                      body="Internal Auditor", purpose="Audit.", by=city.itsa)
    account_lock(username=city.streets_worker.email)
