"""One validation of a large department: its items table comes a page at a time, can be searched and
narrowed to what is still to decide, and a decision brings the head back to the page they were on (S3.4e)."""

import re

import pytest
from django.conf import settings as django_settings
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from accounts.models import Grant, User
from audits.models import ValidationItem
from audits.services import user_audit_open, validation_item_decide

Decision = ValidationItem.Decision


@pytest.fixture(autouse=True)
def _page_size(settings):
    settings.PAGE_SIZE = 25


def _grants(city, count, *, system, prefix="Person"):
    """`count` people of the police department, each with a live grant on `system`, named in order."""
    people = User.objects.bulk_create(
        User(email=f"{prefix.lower()}{i:03d}@police.example", full_name=f"{prefix} {i:03d}", department=city.police)
        for i in range(count)
    )
    grants = Grant.objects.bulk_create(
        Grant(person=person, system=system, department=city.police, role="end_user",
              account_name=f"{prefix.lower()}-acct-{i:03d}", provisioned_at=timezone.now(), provisioned_by=city.itsa)
        for i, person in enumerate(people)
    )
    uses = Grant.permissible_uses.through
    uses.objects.bulk_create(uses(grant_id=grant.pk, permissibleuse_id=city.crime_detection.pk) for grant in grants)
    return people


def _audit(city, count=30, *, system=None):
    """A user audit of the police department with `count` items on the VMS (and any other live grants)."""
    _grants(city, count, system=city.vms)
    audit = user_audit_open(by=city.itsa, department=city.police, system=system)
    return audit


def _get(client, validation, **params):
    response = client.get(validation.get_absolute_url(), params)
    assert response.status_code == 200
    return response.content.decode()


def _names(page):
    """The people in the rows of the items table, in order."""
    return re.findall(r'<th scope="row" data-label="Person">([^<]+)</th>', page)


def _item(validation, name):
    return validation.items.get(grant__person__full_name=name)


# --- Pages ---------------------------------------------------------------------------------------

def test_the_first_page_shows_the_first_25_items_by_person_and_says_how_many_there_are(city, client):
    audit = _audit(city)
    client.force_login(city.head)

    page = _get(client, audit)

    assert _names(page) == [f"Person {i:03d}" for i in range(25)]
    assert "Access under review: 1–25 of 30" in page
    assert "0 of 30 decided, 30 still to decide" in page  # the whole validation's progress
    assert "Next page of access under review" in page


def test_page_2_shows_the_26th_item_and_not_the_first(city, client):
    audit = _audit(city)
    client.force_login(city.head)

    page = _get(client, audit, page="2")

    assert _names(page) == [f"Person {i:03d}" for i in range(25, 30)]
    assert "Person 000" not in page
    assert "Access under review: 26–30 of 30" in page
    assert "0 of 30 decided, 30 still to decide" in page


@pytest.mark.parametrize(("page", "first"), [
    ("99", "Person 025"), ("-1", "Person 025"), ("99999999999999999999999", "Person 025"),
    ("abc", "Person 000"), ("", "Person 000"), ("1.5", "Person 000"), ("\x00", "Person 000"), ("²", "Person 000"),
])
def test_an_out_of_range_page_gives_the_last_page_and_a_non_numeric_one_the_first(city, client, page, first):
    audit = _audit(city)
    client.force_login(city.head)

    assert _names(_get(client, audit, page=page))[0] == first


def test_the_items_of_people_of_the_same_name_keep_a_fixed_order_across_pages(city, client):
    people = _grants(city, 30, system=city.vms, prefix="Same")
    User.objects.filter(pk__in=[person.pk for person in people]).update(full_name="Sam Same")
    audit = user_audit_open(by=city.itsa, department=city.police, system=city.vms)
    client.force_login(city.head)
    first, second = _get(client, audit), _get(client, audit, page="2")

    shown = re.findall(r'<tr id="item-(\d+)">', first) + re.findall(r'<tr id="item-(\d+)">', second)

    assert shown == [str(pk) for pk in audit.items.order_by("pk").values_list("pk", flat=True)]


# --- Search and the `show` choice ------------------------------------------------------------------

@pytest.mark.parametrize("q", ["Person 007", "person007@police", "PERSON-ACCT-007"])
def test_a_search_finds_an_item_by_person_name_e_mail_or_account_name(city, client, q):
    audit = _audit(city)
    client.force_login(city.head)

    page = _get(client, audit, q=q)

    assert _names(page) == ["Person 007"]
    assert "Access under review: 1–1 of 1 matching" in page and "(filtered: 30 in all)" in page
    assert "0 of 30 decided, 30 still to decide" in page


def test_a_search_finds_the_items_of_a_system(city, client):
    _grants(city, 3, system=city.lpr, prefix="Reader")
    audit = _audit(city)  # every system of the department
    client.force_login(city.head)

    page = _get(client, audit, q="plate read")

    assert _names(page) == ["Reader 000", "Reader 001", "Reader 002"]
    assert "Access under review: 1–3 of 3" in page


def test_a_search_that_matches_nothing_says_so(city, client):
    audit = _audit(city, 3)
    client.force_login(city.head)

    page = _get(client, audit, q="nobody by this name")

    assert _names(page) == []
    assert "No access under review matches your search." in page
    assert "No access is under review" not in page


def test_pages_of_a_search_keep_the_search_and_the_show_choice(city, client):
    audit = _audit(city)
    client.force_login(city.head)

    page = _get(client, audit, q="Person", show="pending")

    assert "?q=Person&amp;show=pending&amp;page=2" in page
    assert _names(_get(client, audit, q="Person", show="pending", page="2"))[0] == "Person 025"


def test_show_pending_and_show_decided_split_the_items(city, client):
    audit = _audit(city, 5)
    validation_item_decide(item=_item(audit, "Person 001"), decision="keep", by=city.head)
    validation_item_decide(item=_item(audit, "Person 003"), decision="revoke", reason="Left the unit.", by=city.head)
    client.force_login(city.head)

    pending = _get(client, audit, show="pending")
    decided = _get(client, audit, show="decided")

    assert _names(pending) == ["Person 000", "Person 002", "Person 004"]
    assert "1–3 of 3 still to decide" in pending
    assert _names(decided) == ["Person 001", "Person 003"]
    assert "1–2 of 2 decided" in decided
    assert "2 of 5 decided, 3 still to decide" in pending and "2 of 5 decided, 3 still to decide" in decided


@pytest.mark.parametrize("show", ["all", "bogus", "", "<script>"])
def test_an_unknown_show_shows_every_item(city, client, show):
    audit = _audit(city, 3)
    validation_item_decide(item=_item(audit, "Person 001"), decision="keep", by=city.head)
    client.force_login(city.head)

    page = _get(client, audit, show=show)

    assert _names(page) == ["Person 000", "Person 001", "Person 002"]
    assert "filtered" not in page
    assert '<option value="all" selected>' in page


@pytest.mark.parametrize("q", ["Person\x00 007", "\x00", "A" * 100_000])
def test_a_search_with_a_nul_byte_or_of_any_length_answers(city, client, q):
    audit = _audit(city, 3)
    client.force_login(city.head)

    response = client.get(audit.get_absolute_url(), {"q": q})

    assert response.status_code == 200


def test_the_filter_form_is_a_labelled_get_form(city, client):
    audit = _audit(city, 3)
    client.force_login(city.head)

    page = _get(client, audit)

    assert f'<form method="get" action="{audit.get_absolute_url()}" class="usa-form' in page
    assert '<label class="usa-label" for="items-q">' in page and 'id="items-q" name="q"' in page
    assert '<label class="usa-label" for="items-show">' in page and '<select class="usa-select" id="items-show"' in page


# --- Keep all ------------------------------------------------------------------------------------

def test_keep_all_says_it_keeps_every_pending_item_on_every_page_and_does(city, client):
    audit = _audit(city)
    validation_item_decide(item=_item(audit, "Person 029"), decision="revoke", reason="Left.", by=city.head)
    client.force_login(city.head)

    page = _get(client, audit)

    assert "Keep all still to decide" in page
    assert "Keep all 29 accesses of this validation not decided yet, on every page" in page
    assert "Keep all shown" not in page
    client.post(reverse("audits:keep_all", args=[audit.pk]), {"confirm": "on"})
    assert audit.items.filter(decision=Decision.KEEP).count() == 29
    assert audit.items.filter(decision=Decision.PENDING).count() == 0


def test_keep_all_leaves_out_the_heads_own_access_and_says_so(city, client):
    Grant.objects.create(person=city.head, system=city.lpr, department=city.police, role="end_user",
                         account_name="hhead", provisioned_at=timezone.now(), provisioned_by=city.itsa)
    audit = _audit(city, 3)
    client.force_login(city.head)

    page = _get(client, audit)

    assert "0 of 4 decided, 4 still to decide" in page
    assert "Keep all 3 accesses of this validation" in page
    assert "Your own access is left for the Mayor's designee." in page


# --- Back to the same page after a decision ----------------------------------------------------

def _hidden(page, name):
    return re.findall(rf'<input type="hidden" name="{name}" value="([^"]*)">', page)


def test_a_keep_on_page_2_lands_back_on_page_2(city, client):
    audit = _audit(city)
    item = _item(audit, "Person 026")
    client.force_login(city.head)
    page = _get(client, audit, page="2")
    # Each of the three decision forms of each row carries the page and the filters back.
    assert _hidden(page, "return_page") == ["2"] * 15
    assert _hidden(page, "return_show") == ["all"] * 15
    assert _hidden(page, "return_q") == [""] * 15

    response = client.post(reverse("audits:decide", args=[audit.pk, item.pk]),
                           {"decision": "keep", "return_page": "2", "return_q": "", "return_show": "all"},
                           follow=True)

    assert response.redirect_chain == [(f"{audit.get_absolute_url()}?page=2", 302)]
    page = response.content.decode()
    assert "Access under review: 26–30 of 30" in page
    assert "You keep Person 026’s access to Citywide VMS." in page
    item.refresh_from_db()
    assert item.decision == Decision.KEEP


def test_a_decision_on_a_filtered_page_returns_to_the_same_search(city, client):
    audit = _audit(city)
    item = _item(audit, "Person 003")
    client.force_login(city.head)
    page = _get(client, audit, q="Person 00", show="pending")
    assert set(_hidden(page, "return_q")) == {"Person 00"} and set(_hidden(page, "return_show")) == {"pending"}

    response = client.post(reverse("audits:decide", args=[audit.pk, item.pk]), {
        "decision": "revoke", "reason": "Left the unit.", "return_page": "1", "return_q": "Person 00",
        "return_show": "pending",
    })

    assert response.url == f"{audit.get_absolute_url()}?page=1&q=Person+00&show=pending"
    assert "Person 003" not in _names(client.get(response.url).content.decode())


def test_a_refused_decision_also_returns_to_the_page(city, client):
    audit = _audit(city)
    item = _item(audit, "Person 027")
    client.force_login(city.head)

    response = client.post(reverse("audits:decide", args=[audit.pk, item.pk]),
                           {"decision": "revoke", "reason": "", "return_page": "2", "return_show": "all"})

    assert response.url == f"{audit.get_absolute_url()}?page=2"
    item.refresh_from_db()
    assert item.decision == Decision.PENDING


@pytest.mark.parametrize(("back", "query"), [
    ({}, ""),
    ({"return_page": "https://evil.example/", "return_show": "all"}, ""),
    ({"return_page": "//evil.example", "return_q": "", "return_show": "javascript:alert(1)"}, ""),
    ({"return_page": "²"}, ""),
    ({"return_page": "1" * 30}, ""),
    ({"return_q": "a\x00b"}, "?q=ab"),
    ({"return_q": "x" * 500, "return_show": "decided"}, f"?q={'x' * 200}&show=decided"),
    ({"return_q": "a&page=9#x"}, "?q=a%26page%3D9%23x"),
])
def test_the_way_back_is_checked_and_stays_on_the_validation(city, client, back, query):
    audit = _audit(city, 3)
    item = _item(audit, "Person 001")
    client.force_login(city.head)

    response = client.post(reverse("audits:decide", args=[audit.pk, item.pk]), {"decision": "keep", **back})

    assert response.status_code == 302
    assert response.url == audit.get_absolute_url() + query


# --- A fixed amount of work whatever the size ----------------------------------------------------

def test_the_page_runs_the_same_queries_for_3_items_as_for_60(city, client):
    small = _audit(city, 3, system=city.vms)
    _grants(city, 60, system=city.lpr, prefix="Reader")
    large = user_audit_open(by=city.itsa, department=city.police, system=city.lpr)
    assert (small.items.count(), large.items.count()) == (3, 60)
    for audit, prefix in ((small, "Person"), (large, "Reader")):
        # A kept item, and a revoked one whose removal request is linked, on the first page of each.
        validation_item_decide(item=_item(audit, f"{prefix} 000"), decision="keep", by=city.head)
        validation_item_decide(item=_item(audit, f"{prefix} 001"), decision="revoke", reason="Left.", by=city.head)
    client.force_login(city.head)
    _get(client, small)  # what a first request caches is not the table's work

    with CaptureQueriesContext(connection) as for_small:
        small_page = _get(client, small)
    with CaptureQueriesContext(connection) as for_large:
        large_page = _get(client, large)

    assert len(_names(small_page)) == 3 and len(_names(large_page)) == django_settings.PAGE_SIZE
    assert large_page.count('class="usa-tag decision-tag decision-tag--pending"') == django_settings.PAGE_SIZE - 2
    assert len(for_large.captured_queries) == len(for_small.captured_queries), "\n".join(
        query["sql"] for query in for_large.captured_queries
    )
