"""When a department's annual validation comes due (S3.4e): at once when it was never validated;
otherwise twelve months after the last one was completed, less the lead time. Dates are the city's
(America/Chicago), on both sides of the daylight-saving changes and on a 29 February anniversary."""

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from conftest import PASSWORD, provisioned
from django.conf import settings
from django.utils import timezone

from audits.models import Validation
from audits.services import (
    departments_due,
    next_due_on,
    open_due_validations,
    validation_keep_all,
    validation_sign_off,
)

CHICAGO = ZoneInfo("America/Chicago")


@pytest.fixture
def police_grant(city):
    return provisioned(city).grant


def _validated(city, *, completed_at: datetime) -> Validation:
    """The police's annual validation, opened, kept, signed and complete, then moved to `completed_at`
    (stored in UTC, as the database keeps it)."""
    local_day = completed_at.astimezone(CHICAGO).date()
    [validation] = open_due_validations(today=local_day - timedelta(days=10))
    validation_keep_all(validation=validation, by=city.head, confirmed=True)
    validation = validation_sign_off(validation=validation, by=city.head, password=PASSWORD)
    assert validation.status == Validation.Status.COMPLETE
    Validation.objects.filter(pk=validation.pk).update(completed_at=completed_at.astimezone(ZoneInfo("UTC")))
    validation.refresh_from_db()
    return validation


def test_the_city_keeps_its_dates_in_chicago_time():
    """S3.4e: the schedule counts days as the city does."""
    assert settings.TIME_ZONE == "America/Chicago"
    assert settings.USE_TZ


def test_a_department_never_validated_is_due_at_once(city, police_grant):
    """S3.4e"""
    today = date(2026, 6, 10)

    assert next_due_on(last_completed=None, today=today) == today
    assert departments_due(today=today) == [city.police]


def test_a_department_without_live_grants_is_never_due(city, police_grant):
    """S3.4e: there is nobody to validate in the Streets Department."""
    assert city.streets not in departments_due(today=date(2026, 6, 10))


def test_a_department_validated_eleven_months_ago_is_due_twelve_months_less_the_lead_time(city, police_grant):
    """S3.4e: completed 15 January 2026; due again 30 days before 15 January 2027, not a day before."""
    _validated(city, completed_at=datetime(2026, 1, 15, 12, 0, tzinfo=CHICAGO))
    lead = timedelta(days=settings.VALIDATION_LEAD_DAYS)
    first_day = date(2027, 1, 15) - lead

    assert settings.VALIDATION_LEAD_DAYS == 30
    assert first_day == date(2026, 12, 16)
    assert departments_due(today=date(2026, 12, 15)) == []
    assert open_due_validations(today=date(2026, 12, 15)) == []
    assert departments_due(today=first_day) == [city.police]
    [opened] = open_due_validations(today=first_day)
    assert opened.department == city.police and opened.period == first_day


def test_the_lead_time_is_a_setting(city, police_grant, settings):
    """S3.4e"""
    settings.VALIDATION_LEAD_DAYS = 60
    _validated(city, completed_at=datetime(2026, 1, 15, 12, 0, tzinfo=CHICAGO))

    assert departments_due(today=date(2026, 11, 15)) == []
    assert departments_due(today=date(2026, 11, 16)) == [city.police]


def test_a_validation_completed_on_29_february_is_next_due_from_28_february_less_the_lead_time(city, police_grant):
    """S3.4e: the anniversary of 29 February 2028 is 28 February 2029 (no 29th that year)."""
    lead = timedelta(days=settings.VALIDATION_LEAD_DAYS)
    first_day = date(2029, 2, 28) - lead

    assert next_due_on(last_completed=date(2028, 2, 29), today=date(2028, 3, 1)) == first_day
    _validated(city, completed_at=datetime(2028, 2, 29, 15, 0, tzinfo=CHICAGO))
    assert departments_due(today=first_day - timedelta(days=1)) == []
    assert departments_due(today=first_day) == [city.police]


def test_with_no_lead_time_a_29_february_validation_is_due_on_28_february_not_1_march(city, police_grant, settings):
    """S3.4e"""
    settings.VALIDATION_LEAD_DAYS = 0
    _validated(city, completed_at=datetime(2028, 2, 29, 15, 0, tzinfo=CHICAGO))

    assert departments_due(today=date(2029, 2, 27)) == []
    assert departments_due(today=date(2029, 2, 28)) == [city.police]


def test_the_due_date_is_the_opening_day_plus_the_due_days(city, police_grant):
    """S3.4e"""
    today = date(2026, 6, 10)

    [validation] = open_due_validations(today=today)

    assert validation.period == today
    assert validation.due_date == today + timedelta(days=settings.VALIDATION_DUE_DAYS)
    assert validation.due_date == date(2026, 7, 10)


def test_the_due_days_are_a_setting(city, police_grant, settings):
    """S3.4e"""
    settings.VALIDATION_DUE_DAYS = 45

    [validation] = open_due_validations(today=date(2026, 6, 10))

    assert validation.due_date == date(2026, 7, 25)


# Late in the evening the UTC date is already the next day: only the local date is right.
@pytest.mark.parametrize("local", [
    datetime(2026, 3, 8, 0, 30, tzinfo=CHICAGO),   # standard time, an hour and a half before the change
    datetime(2026, 3, 8, 23, 30, tzinfo=CHICAGO),  # daylight time, 04:30 UTC on 9 March
    datetime(2026, 11, 1, 0, 30, tzinfo=CHICAGO),  # daylight time, before the clocks go back
    datetime(2026, 11, 1, 1, 30, fold=1, tzinfo=CHICAGO),  # the second 01:30, standard time
    datetime(2026, 11, 1, 23, 30, tzinfo=CHICAGO),  # standard time, 05:30 UTC on 2 November
], ids=["march-00:30", "march-23:30", "november-00:30", "november-second-01:30", "november-23:30"])
def test_a_validation_completed_on_the_day_of_a_daylight_saving_change_counts_on_the_local_date(
    city, police_grant, local
):
    """S3.4e: stored in UTC, counted on the date the city lived it."""
    validation = _validated(city, completed_at=local)
    assert timezone.localtime(validation.completed_at).date() == local.date()
    first_day = local.date().replace(year=local.year + 1) - timedelta(days=settings.VALIDATION_LEAD_DAYS)

    assert departments_due(today=first_day - timedelta(days=1)) == []
    assert departments_due(today=first_day) == [city.police]
