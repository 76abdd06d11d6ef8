"""ITSA orders a user audit of a department, or of one system in it, at any time and without notice (S3.5d)."""

import pytest
from conftest import provisioned
from django.core import mail
from django.urls import reverse
from django.utils import timezone

from accounts.models import Grant
from audits.models import Validation
from portal.models import AuditEvent


def _order(client, **data):
    return client.post(reverse("audits:user_audit_new"), data)


def test_itsa_sees_the_form(city, client):
    client.force_login(city.itsa)

    response = client.get(reverse("audits:user_audit_new"))

    assert response.status_code == 200
    page = response.content.decode()
    assert "Police Department" in page and "Every system" in page


def test_itsa_opens_a_user_audit_of_a_department_and_nobody_is_told(
    city, client, django_capture_on_commit_callbacks
):
    """S3.5d: without notice."""
    provisioned(city)
    provisioned(city, person=city.analyst, system=city.vms)
    client.force_login(city.itsa)
    mail.outbox.clear()

    with django_capture_on_commit_callbacks(execute=True):
        response = _order(client, department=city.police.pk)

    audit = Validation.objects.get(kind=Validation.Kind.USER_AUDIT)
    assert response.status_code == 302 and response.url == audit.get_absolute_url()
    assert (audit.department, audit.system, audit.opened_by) == (city.police, None, city.itsa)
    assert audit.items.count() == 2
    assert mail.outbox == []


def test_a_user_audit_of_one_system_reviews_only_that_systems_grants(city, client):
    provisioned(city)
    Grant.objects.create(person=city.analyst, system=city.lpr, department=city.police, role="end_user",
                         account_name="aanalyst", provisioned_at=timezone.now(), provisioned_by=city.itsa)
    client.force_login(city.itsa)

    _order(client, department=city.police.pk, system=city.lpr.pk)

    audit = Validation.objects.get(kind=Validation.Kind.USER_AUDIT)
    assert audit.system == city.lpr
    assert [item.grant.person for item in audit.items.all()] == [city.analyst]


def test_the_order_needs_a_department(city, client):
    client.force_login(city.itsa)

    response = _order(client, department="")

    assert response.status_code == 200
    assert "The user audit was not opened" in response.content.decode()
    assert not Validation.objects.exists()


@pytest.mark.parametrize("who", ["head", "requester", "officer", "outsider", "designee"])
def test_nobody_but_itsa_orders_a_user_audit(city, client, who):
    """S3.5d"""
    provisioned(city)
    client.force_login(getattr(city, who))

    assert client.get(reverse("audits:user_audit_new")).status_code == 404
    assert _order(client, department=city.police.pk).status_code == 404
    assert not Validation.objects.exists()
    assert AuditEvent.objects.filter(actor=getattr(city, who), action="user_audit.new", outcome="denied").exists()


def test_a_double_submitted_order_opens_one_user_audit(city, client):
    provisioned(city)
    client.force_login(city.itsa)

    first = _order(client, department=city.police.pk)
    second = _order(client, department=city.police.pk)

    audit = Validation.objects.get(kind=Validation.Kind.USER_AUDIT)
    assert first.url == second.url == audit.get_absolute_url()
    assert audit.items.count() == 1
    assert AuditEvent.objects.filter(action="user_audit.open", outcome="success").count() == 1


def test_itsa_orders_an_audit_of_one_system_across_departments_from_the_form(city, client):
    """S3.5d"""
    from conftest import provisioned
    from django.urls import reverse

    from audits.models import Validation

    provisioned(city)
    client.force_login(city.itsa)
    response = client.post(reverse("audits:user_audit_new"), {"department": "", "system": city.vms.pk})
    assert response.status_code == 302 and response.url == reverse("audits:list")
    assert list(Validation.objects.filter(kind="user_audit", system=city.vms).values_list("department", flat=True)) \
        == [city.police.pk]


def test_the_form_asks_for_a_department_or_a_system(city, client):
    from django.urls import reverse

    from audits.models import Validation

    client.force_login(city.itsa)
    response = client.post(reverse("audits:user_audit_new"), {"department": "", "system": ""})
    assert response.status_code == 200
    assert "Choose a department, a system, or both." in response.content.decode()
    assert not Validation.objects.exists()
