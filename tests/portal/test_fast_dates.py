"""The portal's `date` filter (portal/templatetags/dates.py) writes the common formats directly; it
must print exactly what Django's filter prints, in city time, for every date and time."""

import datetime

from django.template import Context, Template, defaultfilters
from django.utils import timezone
from hypothesis import given, settings
from hypothesis import strategies as st

from portal.templatetags.dates import _FAST

FORMATS = sorted(_FAST)
AWARE = st.datetimes(min_value=datetime.datetime(1900, 1, 1), max_value=datetime.datetime(2200, 1, 1),
                     timezones=st.just(datetime.UTC))


def _rendered(value, fmt: str) -> str:
    return Template("{{ value|date:fmt }}").render(Context({"value": value, "fmt": fmt}))


def _django(value, fmt: str) -> str:
    if isinstance(value, datetime.datetime) and timezone.is_aware(value):
        value = timezone.localtime(value)
    return defaultfilters.date(value, fmt)


@settings(max_examples=300, deadline=None)
@given(value=st.one_of(st.dates(), st.datetimes(), AWARE), fmt=st.sampled_from(FORMATS))
def test_the_fast_formats_print_what_django_prints(value, fmt):
    assert _rendered(value, fmt) == _django(value, fmt)


def test_a_time_is_shown_in_city_time_across_a_change_of_clock():
    # 06:30 UTC on 9 March 2025 is 00:30 in Chicago (CST), and 8 March is the local day before it.
    value = datetime.datetime(2025, 3, 9, 5, 30, tzinfo=datetime.UTC)
    assert _rendered(value, "Y-m-d") == "2025-03-08"
    assert _rendered(value, "M j, Y") == "Mar 8, 2025"
    assert _rendered(value, "c") == "2025-03-08T23:30:00-06:00"


def test_other_formats_and_other_values_go_to_django():
    value = datetime.datetime(2025, 7, 4, 15, 5, tzinfo=datetime.UTC)
    assert _rendered(value, "M j, Y g:i a T") == _django(value, "M j, Y g:i a T") == "Jul 4, 2025 10:05 a.m. CDT"
    assert _rendered(None, "M j, Y") == ""
    assert _rendered("not a date", "M j, Y") == ""
    assert _rendered(datetime.date(2025, 5, 1), "F j, Y") == "May 1, 2025"
