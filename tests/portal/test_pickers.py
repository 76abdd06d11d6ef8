"""The person and grant pickers (portal.pickers): a page that picks one person among thousands shows
only the choice and a search box, searches on the server, and keeps working without JavaScript."""

import re
import time

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from accounts.models import AuthorizedRequester, Grant, User
from access_requests.models import AccessRequest
from conftest import provisioned
from incidents.models import Incident
from portal.models import AuditEvent
from security.models import OversightAppointment
from security.services import PASSWORD_AT

# Every page below stays under this size whatever the number of people (the whole city was 1.6 MB).
PAGE_LIMIT = 80_000
CROWD = 300


def _crowd(city, department=None, count=CROWD, prefix="Zed Crowd"):
    department = department or city.police
    return User.objects.bulk_create(
        User(email=f"crowd{index}.{department.code}@city.example", full_name=f"{prefix} {index:04d}",
             department=department) for index in range(count))


def _grants(city, people):
    return Grant.objects.bulk_create(
        Grant(person=person, system=city.vms, department=city.police, role=Grant.Role.END_USER,
              account_name=f"crowd-{person.pk}", provisioned_at=timezone.now(), provisioned_by=city.itsa)
        for person in people)


# (who, the page's URL, the picker's field, extra query of the page, the form's action)
PAGES = {
    "incident": ("officer", "incidents:new", "person", {}, "incidents:new"),
    "requesters": ("itsa", "accounts:requesters", "person", {}, "accounts:requester_add"),
    "oversight": ("itsa", "security:oversight_list", "person", {}, "security:oversight_new"),
    "request": ("requester", "requests:new", "person", {}, "requests:new"),
    "waiver": ("head", "waivers:new", "grants", {}, "waivers:new"),
}


def _search(client, page, text, **extra):
    _, url, field, query, _ = PAGES[page]
    return client.get(reverse(url), {**query, "find": field, f"{field}_q": text, **extra})


@pytest.mark.parametrize("page", list(PAGES))
def test_the_page_lists_nobody_until_a_search_and_stays_small(client, city, directors, page):
    """The forms no longer carry every person of the city (nor every grant of a department)."""
    _grants(city, _crowd(city))
    who, url, field, query, _ = PAGES[page]
    client.force_login(getattr(city, who))
    response = client.get(reverse(url), query)
    body = response.content.decode()
    assert response.status_code == 200
    assert "Zed Crowd" not in body
    assert len(response.content) < PAGE_LIMIT
    found = _search(client, page, "zed crowd 00").content.decode()
    assert found.count("Zed Crowd") == 20
    assert "100 " in found and "80 more match: type more of the name." in found


@pytest.mark.parametrize("page", list(PAGES))
def test_the_find_button_is_the_first_submit_button_so_enter_in_the_search_box_finds(client, city, directors, page):
    """Without JavaScript, Enter sends the form through its first submit button: Find, not the form's action."""
    who, url, field, query, action = PAGES[page]
    client.force_login(getattr(city, who))
    body = client.get(reverse(url), query).content.decode()
    form = body[body.index(f'action="{reverse(action)}"'):]
    first_submit = re.search(r"<button[^>]*type=\"submit\"[^>]*>", form).group(0)
    assert f'name="find" value="{field}"' in first_submit and "formnovalidate" in first_submit


def test_a_search_is_answered_with_the_matches_sorted_by_name(client, city):
    client.force_login(city.officer)
    body = _search(client, "incident", "police.example").content.decode()
    names = re.findall(r'<label class="usa-radio__label" for="id_person_\d+">([^<—]+) —', body)
    assert names == sorted(names) and "Andy Analyst" in names
    assert "4 people match" in body and "Nobody in particular" in body


def test_a_search_of_one_letter_answers_a_hint_and_no_list(client, city):
    client.force_login(city.officer)
    body = _search(client, "incident", "a").content.decode()
    assert "Type at least 2 letters" in body
    assert "Andy Analyst" not in body and body.count('type="radio"') == 1  # "Nobody in particular"


def test_the_request_form_finds_only_the_department_s_people(client, city):
    """S3.3: a requester names only the people of their department."""
    client.force_login(city.requester)
    body = _search(client, "request", "example").content.decode()
    assert city.officer.full_name in body
    assert city.streets_worker.full_name not in body and city.outsider.full_name not in body


def test_the_waiver_search_never_offers_a_staff_grant(client, city, directors):
    """S3.2b: separation of duties is never waivable, so no staff role is offered."""
    end_user = provisioned(city).grant
    admin = provisioned(city, person=city.analyst, role="administrator", by=city.head).grant
    client.force_login(city.head)
    body = _search(client, "waiver", "police.example").content.decode()
    assert f'value="{end_user.pk}"' in body and f'value="{admin.pk}"' not in body
    assert "Andy Analyst" not in body


@pytest.mark.parametrize(("page", "who", "status"), [
    ("requesters", "head", 404), ("oversight", "requester", 404), ("waiver", "officer", 404),
    ("request", "officer", 200),  # the page says they are on no list of requesters
])
def test_a_search_by_somebody_without_the_page_answers_as_the_page_does(client, city, page, who, status):
    client.force_login(getattr(city, who))
    response = _search(client, page, "andy")
    assert response.status_code == status
    assert "Andy Analyst" not in response.content.decode()


def test_the_queries_of_a_search_do_not_grow_with_the_matches(client, city):
    _crowd(city, count=60)
    client.force_login(city.officer)
    with CaptureQueriesContext(connection) as few:
        assert "1 person matches" in _search(client, "incident", "zed crowd 0001").content.decode()
    with CaptureQueriesContext(connection) as many:
        assert "60 people match" in _search(client, "incident", "zed crowd").content.decode()
    assert len(many) <= len(few) + 1  # the count, asked only when more match than are shown


def test_the_find_button_without_javascript_keeps_what_was_typed_and_writes_nothing(client, city):
    """S5.2: a find is no report: nothing is recorded, nobody is told."""
    client.force_login(city.officer)
    events = AuditEvent.objects.count()
    response = client.post(reverse("incidents:new"), {
        "nature": "abuse", "description": "Replayed footage of a private home.", "person_q": "andy",
        "system": city.vms.pk, "find": "person",
    })
    body = response.content.decode()
    assert response.status_code == 200
    assert not Incident.objects.exists() and AuditEvent.objects.count() == events
    assert "Replayed footage of a private home." in body and 'value="andy"' in body
    assert f'value="{city.analyst.pk}"' in body and "Andy Analyst — Police Department" in body
    assert "The report was not sent" not in body and "Describe what happened." not in body


def test_a_chosen_grant_stays_checked_across_finds(client, city, directors):
    grant = provisioned(city).grant
    client.force_login(city.head)
    response = client.post(reverse("waivers:new"), {
        "department": city.police.pk, "deviation": "Wider coverage.", "grants": [grant.pk], "grants_q": "nobody",
        "find": "grants",
    })
    body = response.content.decode()
    assert re.search(rf'value="{grant.pk}" id="id_grants_{grant.pk}"[^>]* checked', body)
    assert "No grant matches “nobody”." in body and "Wider coverage." in body


def test_the_find_button_on_the_request_form_files_nothing(client, city):
    client.force_login(city.requester)
    response = client.post(reverse("requests:new"), {
        "department": city.police.pk, "person_q": "oliv", "system": city.vms.pk, "justification": "Patrol.",
        "find": "person",
    })
    assert response.status_code == 200 and not AccessRequest.objects.exists()
    assert "Olive Officer (officer@police.example)" in response.content.decode()


def test_the_find_button_on_the_requester_and_oversight_forms_changes_nothing(client, city):
    client.force_login(city.itsa)
    entries = AuthorizedRequester.objects.count()
    body = client.post(reverse("accounts:requester_add"), {
        "department": city.police.pk, "person_q": "andy", "find": "person"}).content.decode()
    assert "Andy Analyst — Police Department" in body and AuthorizedRequester.objects.count() == entries
    session = client.session
    session[PASSWORD_AT] = time.time()
    session.save()
    response = client.post(reverse("security:oversight_new"), {"person_q": "andy", "body": "Board",
                                                               "find": "person"})
    assert response.status_code == 200 and not OversightAppointment.objects.exists()
    assert "Andy Analyst — Police Department" in response.content.decode()


@pytest.mark.parametrize(("page", "data"), [
    ("incident", {"nature": "abuse", "description": "Something."}),
    ("request", {"department": "", "system": "", "action": "add", "role": "end_user", "justification": "x"}),
    ("requesters", {"start_date": "2026-01-01"}),
])
def test_a_person_outside_the_scope_is_refused_with_a_clear_message(client, city, page, data):
    """S3.3: a submitted id is checked against the field's scope, never trusted."""
    stranger = User.objects.create_user(email="gone@city.example", full_name="Gone Person", is_active=False)
    who, _, field, _, action = PAGES[page]
    client.force_login(getattr(city, who))
    if page == "request":
        data = {**data, "department": city.police.pk, "system": city.vms.pk}
        stranger = city.streets_worker
    if page == "requesters":
        data = {**data, "department": city.police.pk}
    response = client.post(reverse(action), {**data, field: stranger.pk})
    assert response.status_code == 200
    assert "Choose a person from the search results." in response.content.decode()
    assert not Incident.objects.exists() and not AccessRequest.objects.exists()
    assert not AuthorizedRequester.objects.filter(person=stranger).exists()


def test_an_incident_still_names_nobody_in_particular(client, city):
    """S5.2: the person concerned stays optional."""
    client.force_login(city.officer)
    response = client.post(reverse("incidents:new"), {
        "nature": "abuse", "description": "Somebody replayed footage.", "person": ""})
    assert response.status_code == 302
    assert Incident.objects.get().person is None
