"""The KPI pages (Section 2.5): the list, proposing, the KPI page with the forms for whoever may act,
deciding, withdrawing, retiring, recording figures, the impact statement, the to-decide panel and
the demo city."""

from datetime import date, datetime
from decimal import Decimal

from conftest import messages_of
from django.core.management import call_command
from django.urls import reverse
from django.utils import timezone

from kpis import services
from kpis.models import ImpactStatement, Kpi, KpiFigure
from kpis.selectors import report_gaps
from pages.selectors import to_decide
from portal.models import IntendedUse

Status = Kpi.Status
LAST_YEAR = timezone.localdate().year - 1


def _use():
    return IntendedUse.objects.get(code="public-safety")


def _propose(city, *, by=None, name="Stolen vehicles recovered"):
    return services.kpi_propose(department=city.police, system=city.vms, intended_use=_use(), name=name,
                                measure="From the case files.", unit="vehicles", direction="higher", target="40",
                                by=by or city.head)


def _approved(city, **kwargs):
    kpi = services.kpi_decide(kpi=_propose(city, **kwargs), approve=True, reason="Clear.", by=city.designee)
    Kpi.objects.filter(pk=kpi.pk).update(decided_at=timezone.make_aware(datetime(LAST_YEAR, 2, 1)))
    kpi.refresh_from_db()
    return kpi


def _impact_url(city, year=LAST_YEAR):
    return reverse("kpis:impact", args=[city.police.pk, city.vms.pk, _use().pk, year])


def _new_data(city, **changes):
    return {"use": f"{city.police.pk}-{city.vms.pk}-{_use().pk}", "name": "Cases solved",
            "measure": "From the case files.", "unit": "cases", "direction": "higher", "target": "12", **changes}


# --- The list and proposing (S2.5a) -------------------------------------------------------------

def test_the_list_groups_kpis_and_shows_the_latest_figure(client, city):
    """S2.5a: the department's KPIs by system and use, with status, target and latest figure."""
    kpi = _approved(city)
    services.figure_record(kpi=kpi, year=LAST_YEAR, value="41", by=city.head)
    _propose(city, name="Pending one")
    client.force_login(city.requester)
    body = client.get(reverse("kpis:list")).content.decode()
    assert "Citywide VMS: Public safety" in body or f"Citywide VMS: {_use().name}" in body
    assert "Stolen vehicles recovered" in body and "Pending one" in body
    assert f"{LAST_YEAR}: 41.00 vehicles" in body and "Met" in body
    assert "Propose a KPI" in body

    client.force_login(city.itsa)
    body = client.get(reverse("kpis:list") + "?status=nonsense").content.decode()
    assert "Stolen vehicles recovered" in body and "Propose a KPI" not in body


def test_the_form_offers_only_the_systems_and_uses_the_department_is_authorized_for(client, city):
    """S2.5a: the police are authorized for the VMS and public safety only."""
    client.force_login(city.head)
    response = client.get(reverse("kpis:new"))
    assert response.status_code == 200
    choices = [label for _, label in response.context["form"].fields["use"].choices]
    assert choices == ["Choose a system and intended use", f"Citywide VMS: {_use().name}"]


def test_proposing_lands_on_the_kpi(client, city):
    """S2.5a"""
    client.force_login(city.requester)
    response = client.post(reverse("kpis:new"), _new_data(city))
    kpi = Kpi.objects.get()
    assert response.status_code == 302 and response["Location"] == kpi.get_absolute_url()
    assert (kpi.status, kpi.requested_by, kpi.target) == (Status.PROPOSED, city.requester, Decimal("12.00"))


def test_a_refused_proposal_shows_why_on_the_form(client, city):
    """S2.5a, the way around: a use the form does not offer, and a target that is not a number."""
    client.force_login(city.head)
    response = client.post(reverse("kpis:new"), _new_data(city, use=f"{city.police.pk}-{city.lpr.pk}-{_use().pk}"))
    assert response.status_code == 200 and "usa-error-message" in response.content.decode()
    response = client.post(reverse("kpis:new"), _new_data(city, target="a lot"))
    assert response.status_code == 200 and "Enter the target as a number." in response.content.decode()
    assert not Kpi.objects.exists()


def test_people_who_propose_nothing_get_no_form(client, city):
    client.force_login(city.officer)
    assert client.get(reverse("kpis:new")).status_code == 404


# --- The KPI page and its actions ---------------------------------------------------------------

def test_the_designee_sees_the_decision_form_and_approves(client, city):
    """S2.5a: the Mayor's designee approves, with a reason."""
    kpi = _propose(city)
    client.force_login(city.designee)
    body = client.get(kpi.get_absolute_url()).content.decode()
    assert "Approve the KPI" in body and "Record a figure" not in body
    response = client.post(reverse("kpis:decide", args=[kpi.pk]), {"decision": "approve", "reason": "Clear."})
    assert response.status_code == 302
    assert Kpi.objects.get().status == Status.APPROVED
    assert ("success", "The KPI is approved. The person who proposed it has been told.") in messages_of(response)


def test_a_decision_without_a_reason_or_by_the_head_is_a_message(client, city):
    """S2.5a, the way around: the head cannot approve the department's own KPI."""
    kpi = _propose(city)
    client.force_login(city.designee)
    response = client.post(reverse("kpis:decide", args=[kpi.pk]), {"decision": "approve", "reason": ""})
    assert messages_of(response) == [("error", "Choose to approve or refuse, and write the reason for the decision.")]
    client.force_login(city.head)
    body = client.get(kpi.get_absolute_url()).content.decode()
    assert "Approve the KPI" not in body and "Withdraw the KPI" in body
    response = client.post(reverse("kpis:decide", args=[kpi.pk]), {"decision": "approve", "reason": "Mine."},
                           follow=True)
    assert response.status_code == 200
    assert "Only the Mayor&#x27;s designee approves or refuses a KPI" in response.content.decode()
    assert Kpi.objects.get().status == Status.PROPOSED


def test_withdrawing(client, city):
    kpi = _propose(city, by=city.requester)
    client.force_login(city.requester)
    response = client.post(reverse("kpis:withdraw", args=[kpi.pk]), {"reason": ""})
    assert ("success", "The KPI is withdrawn.") in messages_of(response)
    response = client.post(reverse("kpis:withdraw", args=[kpi.pk]), {"reason": ""})
    assert messages_of(response)[-1][0] == "info"


def test_retiring_and_a_refused_retirement(client, city):
    kpi = _approved(city)
    client.force_login(city.requester)
    response = client.post(reverse("kpis:retire", args=[kpi.pk]), {"reason": "Replaced."})
    assert messages_of(response) == [("error", "Only the department's head or the Mayor's designee can retire a KPI.")]
    client.force_login(city.head)
    response = client.post(reverse("kpis:retire", args=[kpi.pk]), {"reason": ""})
    assert messages_of(response)[-1] == ("error", "Write the reason for retiring the KPI.")
    response = client.post(reverse("kpis:retire", args=[kpi.pk]), {"reason": "Replaced."})
    assert Kpi.objects.get().status == Status.RETIRED and messages_of(response)[-1][0] == "success"


def test_recording_a_figure_and_the_refusals(client, city):
    """S2.5d: the figure form; a frozen year, a refused KPI and bad input are messages, not errors."""
    kpi = _approved(city)
    client.force_login(city.requester)
    assert "Record a figure" in client.get(kpi.get_absolute_url()).content.decode()
    url = reverse("kpis:figure", args=[kpi.pk])
    response = client.post(url, {"year": LAST_YEAR, "value": "41", "note": ""})
    assert messages_of(response) == [("success", f"The {LAST_YEAR} figure is recorded: 41.00 vehicles.")]
    body = client.get(kpi.get_absolute_url()).content.decode()
    assert "41.00 vehicles" in body and f"Impact in {LAST_YEAR}" in body

    response = client.post(url, {"year": "next", "value": "41"})
    assert messages_of(response)[-1] == ("error", "The figure was not recorded. Enter a whole number.")
    response = client.post(url, {"year": LAST_YEAR, "value": "NaN"})
    assert messages_of(response)[-1] == ("error", "Enter the figure as a number.")

    services.figures_freeze(department=city.police, year=LAST_YEAR, by=city.head)
    response = client.post(url, {"year": LAST_YEAR, "value": "50"})
    assert messages_of(response)[-1] == (
        "error", f"The annual report for {LAST_YEAR} was submitted; its figures no longer change.")
    assert KpiFigure.objects.get().value == Decimal("41.00")

    refused = services.kpi_decide(kpi=_propose(city, name="Refused"), approve=False, reason="No.", by=city.designee)
    response = client.post(reverse("kpis:figure", args=[refused.pk]), {"year": LAST_YEAR, "value": "5"})
    assert messages_of(response)[-1] == ("error", "This KPI is refused: figures are recorded only for approved KPIs "
                                                 "(Section 2.5).")


def test_another_departments_kpi_answers_404(client, city):
    kpi = _propose(city)
    client.force_login(city.outsider)
    assert client.get(kpi.get_absolute_url()).status_code == 404
    assert client.post(reverse("kpis:figure", args=[kpi.pk]), {"year": LAST_YEAR, "value": "1"}).status_code == 404


# --- The impact statement (S2.5d) ---------------------------------------------------------------

def test_the_impact_page_shows_figures_against_targets_and_takes_the_heads_statement(client, city):
    """S2.5d: the statement is based on the year's figures."""
    kpi = _approved(city)
    _approved(city, name="Response minutes")
    services.figure_record(kpi=kpi, year=LAST_YEAR, value="41", by=city.head)
    client.force_login(city.head)
    body = client.get(_impact_url(city)).content.decode()
    assert "41.00 vehicles" in body and "Not recorded" in body and "Met" in body

    response = client.post(_impact_url(city), {"verdict": "positive", "explanation": "Target met."})
    assert response.status_code == 200
    assert "Record the " + str(LAST_YEAR) + " figure of “Response minutes” first" in response.content.decode()
    assert not ImpactStatement.objects.exists()

    services.figure_record(kpi=Kpi.objects.get(name="Response minutes"), year=LAST_YEAR, value="50", by=city.head)
    response = client.post(_impact_url(city), {"verdict": "positive", "explanation": "Target met."})
    assert response.status_code == 302
    assert ImpactStatement.objects.get().verdict == "positive"
    assert report_gaps(department=city.police, year=LAST_YEAR) == []

    client.force_login(city.requester)
    body = client.get(_impact_url(city)).content.decode()
    assert "Positive impact" in body and "Record the statement" not in body
    response = client.post(_impact_url(city), {"verdict": "negative", "explanation": "No."})
    assert "Only the department&#x27;s head states" in response.content.decode()
    assert ImpactStatement.objects.get().verdict == "positive"


def test_the_impact_page_with_bad_input_is_not_an_error(client, city):
    _approved(city)
    client.force_login(city.head)
    response = client.post(_impact_url(city), {"verdict": "great", "explanation": ""})
    assert response.status_code == 200 and "usa-error-message" in response.content.decode()
    assert client.get(_impact_url(city, year=1)).status_code == 404


# --- The dashboard and the demo -----------------------------------------------------------------

def test_the_designee_has_the_kpis_to_decide_on_the_dashboard(city):
    _propose(city)
    _propose(city, name="Other", by=city.requester)
    rows = {row.label: row for row in to_decide(city.designee)}
    assert rows["KPIs to decide (2.5)"].count == 2
    assert rows["KPIs to decide (2.5)"].url == reverse("kpis:list") + "?status=proposed"
    assert "KPIs to decide (2.5)" not in {row.label for row in to_decide(city.head)}


def test_the_demo_city_has_an_approved_kpi_with_last_years_figure_and_statement(db):
    """S2.5a, S2.5d: the demo shows the workflow, and loading it twice adds nothing."""
    call_command("seed_demo")
    call_command("seed_demo")
    kpi = Kpi.objects.get()
    assert kpi.status == Status.APPROVED and kpi.decided_by != kpi.requested_by
    assert KpiFigure.objects.get().year == LAST_YEAR
    statement = ImpactStatement.objects.get()
    assert (statement.year, statement.verdict) == (LAST_YEAR, "positive")
    assert report_gaps(department=kpi.department, year=LAST_YEAR) == []
    assert date(LAST_YEAR, 1, 1) <= timezone.localtime(kpi.decided_at).date()
