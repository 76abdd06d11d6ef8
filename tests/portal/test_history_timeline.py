"""Timelines: who did what, when, from → to, read from the history of each governance model."""

from contextlib import contextmanager

from conftest import file_request, provisioned
from django.test import RequestFactory
from simple_history.models import HistoricalRecords

from accounts.models import User
from portal.history import combined_timeline, timeline
from access_requests.models import StatusChange
from access_requests.services import access_request_approve, access_request_provision, status_change_report


@contextmanager
def _signed_in(user):
    """What the history middleware does for a web request: the signed-in person is the author."""
    request = RequestFactory().post("/")
    request.user = user
    HistoricalRecords.context.request = request
    try:
        yield
    finally:
        del HistoricalRecords.context.request


def _changes(entry):
    return {(change.field, change.old, change.new) for change in entry.changes}


def test_a_requests_timeline_shows_who_moved_it_from_which_status_to_which(city):
    """S3.4c S3.5b: every account traces back to a request, its approval and its provisioning."""
    with _signed_in(city.requester):
        request = file_request(city, by=city.requester)
    with _signed_in(city.head):
        access_request_approve(request=request, by=city.head)
    with _signed_in(city.itsa):
        access_request_provision(request=request, by=city.itsa, account_name="oofficer")

    entries = timeline(request)

    assert [entry.who for entry in entries][:2] == [city.itsa, city.head]
    assert entries[-1].who == city.requester and entries[-1].what == "Created access request"
    assert ("status", "Approved — with ITSA", "Completed by ITSA") in _changes(entries[0])
    assert ("status", "Awaiting the head's approval", "Approved — with ITSA") in _changes(entries[1])
    assert ("approved by", "", str(city.head)) in _changes(entries[1])
    assert [entry.when for entry in entries] == sorted((entry.when for entry in entries), reverse=True)


def test_a_grants_timeline_shows_a_change_of_role_in_words(city):
    """S3.2a S3.5b"""
    grant = provisioned(city).grant
    change = file_request(city, action="change", role="auditor", uses=[city.investigations], by=city.head)
    access_request_provision(request=change, by=city.itsa2)

    entries = timeline(grant)

    role_change = next(entry for entry in entries if any(field == "role" for field, _, _ in _changes(entry)))
    assert ("role", "End user", "Auditor") in _changes(role_change)
    assert role_change.what == f"changed by {city.itsa2}"
    uses_change = entries[0]
    assert uses_change.who == city.itsa2
    assert [(field, new) for field, _, new in _changes(uses_change)] == [
        ("permissible uses", "Public safety: Criminal investigations")]


def test_a_persons_timeline_shows_the_reported_status_change(city):
    """S3.5c"""
    person = User.objects.get(pk=city.officer.pk)
    status_change_report(person=person, kind=StatusChange.Kind.ON_LEAVE, effective_date=person.date_joined.date(),
                         note="", by=city.head)

    entry = timeline(person)[0]

    assert entry.what == f"status change reported by {city.head}"
    assert ("employment status", "Active", "On leave") in _changes(entry)


def test_a_timeline_is_limited_and_starts_with_the_newest_change(city):
    """S3.4d"""
    request = file_request(city, by=city.requester)
    for number in range(5):
        request.justification = f"Edit {number}"
        request.save()

    entries = timeline(request, limit=3)

    assert len(entries) == 3
    assert ("justification", "Edit 3", "Edit 4") in _changes(entries[0])


def test_a_combined_timeline_merges_objects_newest_first(city):
    """S3.5b"""
    request = provisioned(city)

    entries = combined_timeline(request, request.grant, None)

    assert len(entries) == len(timeline(request)) + len(timeline(request.grant))
    assert [entry.when for entry in entries] == sorted((entry.when for entry in entries), reverse=True)


def _queries(function):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as captured:
        result = function()
    return len(captured.captured_queries), result


def test_a_timeline_takes_the_same_queries_however_many_changes_it_shows(city):
    """A timeline of many changes, permissible uses included, costs no more queries than one of two."""
    grant = provisioned(city).grant
    uses = [city.crime_detection, city.investigations]
    grant.permissible_uses.set(uses)
    grant.save()
    few, _ = _queries(lambda: timeline(grant))
    for number in range(6):
        grant.permissible_uses.set(uses[: number % 2 + 1])
        grant.account_name = f"renamed-{number}"
        grant.save()

    many, entries = _queries(lambda: timeline(grant))

    assert many == few
    changed_uses = [change for entry in entries for change in entry.changes if change.field == "permissible uses"]
    assert len(changed_uses) >= 6
    assert {change.new for change in changed_uses} >= {
        str(city.crime_detection), f"{city.crime_detection}; {city.investigations}"}


def test_a_combined_timeline_takes_the_same_queries_for_one_grant_or_many(city):
    """A person's page shows the person's and every grant's history: one query a model, not one a grant."""
    first = provisioned(city).grant
    few, _ = _queries(lambda: combined_timeline(city.officer, first))
    second = provisioned(city, person=city.analyst).grant
    third = provisioned(city, person=city.requester).grant
    third.account_name = "renamed"
    third.save()

    many, entries = _queries(lambda: combined_timeline(city.officer, first, second, third))

    assert many == few
    assert len(entries) == sum(len(timeline(obj)) for obj in (city.officer, first, second, third))
    assert [entry.when for entry in entries] == sorted((entry.when for entry in entries), reverse=True)
