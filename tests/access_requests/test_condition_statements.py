"""T1c: a request naming a use whose Table 1 conditions are tied to a case, a direction, a property or
an order states how they are met, and the written request, its PDF, the request page, the grant page and
the validation page show the statement."""

import pytest
from django.urls import reverse

from access_requests.models import AccessRequest, WrittenRequest
from access_requests.services import access_request_queue_for_itsa, access_request_submit
from portal.errors import RuleViolation
from portal.models import IntendedUse
from portal.table1 import CONDITION_STATEMENTS, TABLE_1
from conftest import file_request, open_validation, pdf_text, provisioned

CASE = "Case 26-007731, burglary ring, active until the case closes."
TARGETING = "Specific individuals and groups may only be targeted in conjunction with an active criminal investigation"


def _file(city, *, statement="", uses=None, action="add", **kwargs):
    return access_request_submit(
        department=city.police, person=kwargs.pop("person", city.officer), system=city.vms, action=action,
        role=kwargs.pop("role", "end_user"), permissible_uses=uses if uses is not None else [city.investigations],
        justification="Works the burglary cases.", by=city.requester, condition_statement=statement, **kwargs,
    )


def test_the_uses_whose_conditions_need_a_statement_are_decided_once_in_table_1():
    """T1c: public safety, vacant properties, public health and registered individuals ask for a statement;
    the rows whose conditions only bound the use (traffic, right-of-way, public lands, buildings) do not."""
    assert set(CONDITION_STATEMENTS) == {"public-safety", "vacant-properties", "public-health", "registered-individuals"}
    rows = {row["code"]: row for row in TABLE_1}
    assert all(rows[code]["conditions"] for code in CONDITION_STATEMENTS)
    assert "case number" in CONDITION_STATEMENTS["public-safety"]
    assert "Director" in CONDITION_STATEMENTS["public-health"]


@pytest.mark.django_db
def test_each_intended_use_carries_its_prompt():
    """T1c: the registry's rows answer what to state, from the one decision in Table 1."""
    prompts = {use.code: use.statement_prompt for use in IntendedUse.objects.all()}
    assert {code for code, prompt in prompts.items() if prompt} == set(CONDITION_STATEMENTS)


def test_the_way_around_a_request_for_criminal_investigations_without_a_case_is_refused(city):
    """T1c, the way around: before, a request naming "Criminal investigations" with no case at all was
    filed. Now filing refuses it on the statement's field, quoting the condition and asking for the case."""
    with pytest.raises(RuleViolation) as refused:
        _file(city, statement="   ")

    assert refused.value.field == "condition_statement"
    assert TARGETING in refused.value.message
    assert "case number" in refused.value.message
    assert not AccessRequest.objects.exists()


def test_a_change_naming_a_conditioned_use_needs_the_statement_too(city):
    """T1c: a change that names public safety's uses states the case as an addition does."""
    provisioned(city)
    with pytest.raises(RuleViolation) as refused:
        _file(city, action="change", uses=[city.crime_detection, city.investigations])
    assert refused.value.field == "condition_statement"

    changed = _file(city, action="change", uses=[city.crime_detection, city.investigations], statement=CASE)
    assert changed.condition_statement == CASE


def test_a_request_with_the_statement_is_filed_and_keeps_it(city):
    """T1c: with the case and its end stated, the request is filed and records the statement."""
    request = _file(city, statement=f"  {CASE}  ")

    assert request.condition_statement == CASE
    assert AccessRequest.objects.get(pk=request.pk).condition_statement == CASE


def test_a_use_without_such_a_condition_needs_no_statement(city):
    """T1c: traffic management's condition only bounds the use; nothing to state."""
    request = access_request_submit(
        department=city.streets, person=city.streets_worker, system=city.traffic, action="add", role="end_user",
        permissible_uses=[city.traffic_monitoring], justification="Signal timing.", by=city.outsider,
    )
    assert request.condition_statement == ""


@pytest.mark.parametrize("action", ["remove", "suspend"])
def test_taking_access_away_needs_no_statement(city, action):
    """T1c: removal and suspension meet no condition, so they state none, even for public safety's uses."""
    provisioned(city)

    request = file_request(city, action=action, uses=[], condition_statement="")

    assert request.action == action
    assert request.condition_statement == ""


def test_the_written_request_and_its_pdf_state_how_the_condition_is_met(city):
    """T1c S3.4d: the written text and the PDF kept at filing carry the statement."""
    request = _file(city, statement=CASE)

    assert "How the conditions are met (Table 1):\n" + CASE in request.written_text
    pdf = pdf_text(bytes(WrittenRequest.objects.get(request=request).pdf))
    assert "How the conditions are met" in pdf
    assert CASE in pdf


def test_a_request_without_a_statement_writes_no_statement_block(city):
    """T1c: an unconditioned request is written as before."""
    request = access_request_submit(
        department=city.streets, person=city.streets_worker, system=city.traffic, action="add", role="end_user",
        permissible_uses=[city.traffic_monitoring], justification="Signal timing.", by=city.outsider,
    )
    assert "How the conditions are met" not in request.written_text


def test_a_change_queued_from_a_validation_keeps_the_grants_statement(city):
    """T1c: a role change decided in a validation keeps the uses, so it keeps their statement."""
    grant = provisioned(city, condition_statement=CASE).grant

    queued = access_request_queue_for_itsa(grant=grant, action="change", role="analyst", by=city.head,
                                           justification="Validation: analyst role.")

    assert queued.condition_statement == CASE
    assert CASE in queued.written_text


# --- Pages ------------------------------------------------------------------------------------------

def _form(city, **changes):
    data = {
        "department": city.police.pk, "person": city.officer.pk, "system": city.vms.pk, "action": "add",
        "role": "end_user", "permissible_uses": [city.investigations.pk],
        "justification": "Works the burglary cases.",
    }
    data.update(changes)
    return data


def test_the_form_asks_for_the_statement_under_the_conditioned_uses(city, client):
    """T1c: the request form says, under public safety, what to state."""
    client.force_login(city.requester)

    page = client.get(reverse("requests:new")).content.decode()

    assert 'name="condition_statement"' in page
    assert CONDITION_STATEMENTS["public-safety"] in page


def test_the_form_refuses_a_conditioned_use_without_a_statement_on_its_field(city, client):
    """T1c: the view shows the service's refusal on the statement's field; nothing is filed."""
    client.force_login(city.requester)

    response = client.post(reverse("requests:new"), _form(city))

    assert response.status_code == 200
    page = response.content.decode()
    assert 'id="id_condition_statement_error"' in page
    assert "case number" in page
    assert not AccessRequest.objects.exists()


def test_the_form_files_with_a_statement_and_the_request_page_shows_it(city, client):
    """T1c: filed through the form, the statement is on the request's page."""
    client.force_login(city.requester)

    response = client.post(reverse("requests:new"), _form(city, condition_statement=CASE))

    request = AccessRequest.objects.get()
    assert response.status_code == 302
    assert request.condition_statement == CASE
    page = client.get(request.get_absolute_url()).content.decode()
    assert "How the conditions are met" in page
    assert CASE in page


def test_the_grant_page_shows_the_statement_of_the_request_that_set_its_uses(city, client):
    """T1c: the grant shows the statement of the request that created it, then of the change that replaced it."""
    made = provisioned(city, condition_statement=CASE)
    client.force_login(city.head)

    page = client.get(made.grant.get_absolute_url()).content.decode()
    assert CASE in page
    assert made.reference in page

    changed = provisioned(city, action="change", uses=[city.crime_detection, city.investigations],
                          condition_statement="Case 26-009999, until the trial ends.")
    page = client.get(made.grant.get_absolute_url()).content.decode()
    assert changed.grant_id == made.grant_id
    assert "Case 26-009999, until the trial ends." in page
    assert CASE not in page.split('id="condition-statement-heading"')[1].split("</section>")[0]


def test_the_validation_page_shows_each_grants_statement(city, client):
    """T1c: the validation lists each grant's uses with how their conditions are met."""
    validation = open_validation(city)
    client.force_login(city.head)

    page = client.get(validation.get_absolute_url()).content.decode()

    assert page.count("How the conditions are met:") == 2
    assert "Case 26-001234, an active investigation, until the case closes." in page
