"""KPIs, their figures and the impact statements in the admin: seen with their history, never added,
changed or deleted there (every change goes through kpis.services)."""

from datetime import datetime

import pytest
from django.contrib import admin
from django.urls import reverse
from django.utils import timezone

from accounts.models import User
from kpis import services
from kpis.models import ImpactStatement, Kpi, KpiFigure
from portal.models import IntendedUse

LAST_YEAR = timezone.localdate().year - 1
MODELS = [Kpi, KpiFigure, ImpactStatement]


@pytest.fixture
def itsa_admin(city, client):
    User.objects.filter(pk=city.itsa.pk).update(is_staff=True, is_superuser=True)
    client.force_login(city.itsa)
    return client


def _url(model, view, *args):
    return reverse(f"admin:kpis_{model._meta.model_name}_{view}", args=args)


def _records(city):
    use = IntendedUse.objects.get(code="public-safety")
    kpi = services.kpi_propose(department=city.police, system=city.vms, intended_use=use, name="Recovered",
                               measure="Case files.", unit="vehicles", direction="higher", target="40", by=city.head)
    kpi = services.kpi_decide(kpi=kpi, approve=True, reason="Clear.", by=city.designee)
    Kpi.objects.filter(pk=kpi.pk).update(decided_at=timezone.make_aware(datetime(LAST_YEAR, 2, 1)))
    services.figure_record(kpi=kpi, year=LAST_YEAR, value="41", by=city.head)
    services.impact_state(department=city.police, system=city.vms, intended_use=use, year=LAST_YEAR,
                          verdict="positive", explanation="Met.", by=city.head)


def test_every_kpi_model_is_in_the_admin():
    for model in MODELS:
        assert admin.site.is_registered(model), model


@pytest.mark.parametrize("model", MODELS, ids=lambda model: model.__name__)
def test_an_itsa_superuser_sees_them_with_their_history_and_changes_nothing(city, itsa_admin, model):
    _records(city)
    assert itsa_admin.get(_url(model, "changelist")).status_code == 200
    assert itsa_admin.get(_url(model, "changelist"), {"q": "police"}).status_code == 200
    obj = model.objects.get()
    assert itsa_admin.get(_url(model, "change", obj.pk)).status_code == 200
    assert itsa_admin.get(_url(model, "history", obj.pk)).status_code == 200
    version = obj.history.earliest("history_date")
    assert itsa_admin.get(reverse(f"admin:kpis_{model._meta.model_name}_simple_history",
                                  args=[obj.pk, version.history_id])).status_code == 200
    assert itsa_admin.get(_url(model, "add")).status_code == 403
    assert itsa_admin.post(_url(model, "delete", obj.pk), {"post": "yes"}).status_code == 403
    assert model.objects.count() == 1
