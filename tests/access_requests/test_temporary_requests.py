"""Temporary access asked for in a written request (Def.T: "Temporary" is less than thirty days):
the end date is checked when the request is filed, written into the request as filed, and carried
into the grant when ITSA provisions it (S3.5b)."""

from datetime import timedelta

import pytest
from conftest import pdf_text, provisioned
from django.utils import timezone

from access_requests.models import AccessRequest, WrittenRequest
from access_requests.services import (
    access_request_approve,
    access_request_preview,
    access_request_provision,
    access_request_return,
    access_request_submit,
)
from accounts.models import Grant
from portal.errors import RuleViolation
from portal.models import AuditEvent


def file_temporary(city, *, ends_on, action="add", person=None, role="end_user", by=None, grant=None):
    return access_request_submit(
        department=city.police, person=person or city.officer, system=city.vms, action=action, role=role,
        permissible_uses=[city.crime_detection], justification="Covers a colleague's leave.",
        by=by or city.requester, grant=grant, ends_on=ends_on,
        condition_statement="Case 26-001234, an active investigation, until the case closes.",
    )


def in_days(days: int):
    return timezone.localdate() + timedelta(days=days)


@pytest.mark.parametrize("days", [1, 29])
def test_an_add_request_may_end_from_tomorrow_to_29_days_away(city, days):
    """Def.T: 29 days is temporary, and so is 1."""
    request = file_temporary(city, ends_on=in_days(days))

    assert AccessRequest.objects.get(pk=request.pk).ends_on == in_days(days)


def test_thirty_days_is_not_temporary_and_is_refused_naming_the_definition(city):
    """Def.T: temporary is less than thirty days, so 30 days away is refused on the end-date field."""
    with pytest.raises(RuleViolation) as refused:
        file_temporary(city, ends_on=in_days(30))

    assert refused.value.field == "ends_on"
    assert "less than 30 days" in refused.value.message and "Definitions" in refused.value.message
    assert f"{in_days(29):%-d %B %Y}" in refused.value.message  # the latest date that would do
    assert not AccessRequest.objects.exists()


@pytest.mark.parametrize("days, word", [(0, "today"), (-1, "in the past"), (-400, "in the past")])
def test_an_end_date_today_or_in_the_past_is_refused(city, days, word):
    """Def.T: access that would end today or earlier is no access at all."""
    with pytest.raises(RuleViolation) as refused:
        file_temporary(city, ends_on=in_days(days))

    assert refused.value.field == "ends_on"
    assert "must end after today" in refused.value.message and word in refused.value.message
    assert not AccessRequest.objects.exists()


@pytest.mark.parametrize("action", ["change", "remove", "suspend"])
def test_only_a_request_to_add_access_can_carry_an_end_date(city, action):
    """Def.T: an end date makes new access temporary; a change or removal cannot carry one."""
    grant = provisioned(city).grant

    with pytest.raises(RuleViolation) as refused:
        file_temporary(city, action=action, grant=grant, ends_on=in_days(10))

    assert refused.value.field == "ends_on"
    assert "Only a request to add access" in refused.value.message
    assert AccessRequest.objects.filter(action=action).count() == 0


def test_a_request_without_an_end_date_is_written_as_before(city):
    """Def.T: access without an end date says nothing about an end."""
    request = file_temporary(city, ends_on=None)

    assert request.ends_on is None
    assert "Temporary" not in request.written_text
    assert "Temporary" not in pdf_text(bytes(WrittenRequest.objects.get(request=request).pdf))


def test_the_written_request_and_its_pdf_name_the_end_date(city):
    """Def.T S3.4d: the written request, as filed, says when the temporary access ends."""
    ends_on = in_days(12)

    request = file_temporary(city, ends_on=ends_on)

    stated = f"access ends at 00:00 on {ends_on:%-d %B %Y}"
    assert stated in request.written_text
    assert "Temporary:" in request.written_text
    pdf = pdf_text(bytes(WrittenRequest.objects.get(request=request).pdf))
    assert "Temporary" in pdf and f"Access ends at 00:00 on {ends_on:%-d %B %Y}" in pdf


def test_provisioning_copies_the_end_date_into_the_grant(city):
    """Def.T S3.5b: ITSA creates the account; the grant ends when the request said."""
    ends_on = in_days(20)
    request = access_request_approve(request=file_temporary(city, ends_on=ends_on), by=city.head)

    done = access_request_provision(request=request, by=city.itsa, account_name="olive.temp")

    assert done.status == AccessRequest.Status.COMPLETED
    assert Grant.objects.get(pk=done.grant_id).ends_on == ends_on


def test_provisioning_after_the_end_date_is_refused_and_the_request_stays_with_itsa(city, monkeypatch):
    """Def.T S3.5b: the access asked for has already ended: no account; ITSA returns the request."""
    ends_on = in_days(3)
    request = access_request_approve(request=file_temporary(city, ends_on=ends_on), by=city.head)
    at_the_end = timezone.now() + timedelta(days=3, hours=1)
    monkeypatch.setattr("django.utils.timezone.now", lambda: at_the_end)

    with pytest.raises(RuleViolation) as refused:
        access_request_provision(request=request, by=city.itsa, account_name="olive.temp")

    assert f"ended at 00:00 on {ends_on:%-d %B %Y}" in refused.value.message
    assert "Return the request" in refused.value.message
    request.refresh_from_db()
    assert request.status == AccessRequest.Status.WITH_ITSA and request.grant is None
    assert not Grant.objects.filter(person=city.officer).exists()
    assert AuditEvent.objects.filter(action="access_request.provision", outcome="refused").exists()

    returned = access_request_return(request=request, reason="The dates have passed.", by=city.itsa)
    assert returned.status == AccessRequest.Status.RETURNED


def test_provisioning_the_day_before_the_end_still_works(city, monkeypatch):
    """Def.T: until 00:00 on the end date the access has not ended."""
    ends_on = in_days(3)
    request = access_request_approve(request=file_temporary(city, ends_on=ends_on), by=city.head)
    day_before = timezone.now() + timedelta(days=2)
    monkeypatch.setattr("django.utils.timezone.now", lambda: day_before)

    done = access_request_provision(request=request, by=city.itsa, account_name="olive.temp")

    assert done.grant.ends_on == ends_on


def test_the_inline_feedback_names_the_end_date_problem(city):
    """Def.T: the form's preview applies the same rule before filing."""
    problems = access_request_preview(department=city.police, person=city.officer, system=city.vms, action="add",
                                      role="end_user", ends_on=in_days(30))
    assert any("less than 30 days" in problem for problem in problems)
    assert access_request_preview(department=city.police, person=city.officer, system=city.vms, action="add",
                                  role="end_user", ends_on=in_days(29)) == []
