"""Validations in the admin for ITSA superusers: shown, never added, changed or deleted there; every
change goes through audits.services from the portal's pages."""

import pytest
from conftest import provisioned
from django.urls import reverse

from accounts.models import User
from audits.models import ReminderSent, Validation, ValidationItem
from audits.services import open_due_validations, send_reminders

MODELS = [Validation, ValidationItem, ReminderSent]


@pytest.fixture
def itsa_admin(city, client):
    User.objects.filter(pk=city.itsa.pk).update(is_staff=True, is_superuser=True)
    client.force_login(city.itsa)
    return client


@pytest.fixture
def validation(city):
    provisioned(city)
    [validation] = open_due_validations()
    Validation.objects.filter(pk=validation.pk).update(due_date=validation.period)
    send_reminders(today=validation.period)
    return validation


def _url(model, view, *args):
    return reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_{view}", args=args)


@pytest.mark.parametrize("model", MODELS, ids=lambda model: model.__name__)
def test_an_itsa_superuser_opens_the_list_and_the_record(itsa_admin, validation, model):
    obj = model.objects.first()
    assert itsa_admin.get(_url(model, "changelist")).status_code == 200
    assert itsa_admin.get(_url(model, "changelist"), {"q": "police"}).status_code == 200
    assert itsa_admin.get(_url(model, "change", obj.pk)).status_code == 200


@pytest.mark.parametrize("model", MODELS, ids=lambda model: model.__name__)
def test_nothing_is_added_changed_or_deleted_in_the_admin(itsa_admin, validation, model):
    """S3.4f: a signed validation cannot be altered behind the head's back."""
    obj = model.objects.first()
    before = list(model.objects.values())
    assert itsa_admin.post(_url(model, "add"), {}).status_code == 403
    assert itsa_admin.post(_url(model, "change", obj.pk), {"status": "complete", "decision": "keep"}).status_code == 403
    assert itsa_admin.post(_url(model, "delete", obj.pk), {"post": "yes"}).status_code == 403
    assert list(model.objects.values()) == before
