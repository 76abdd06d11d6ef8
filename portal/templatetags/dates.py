"""The `date` filter, faster for the formats the portal's pages use most.

A list page shows a few hundred dates, and Django's filter reads the format letter by letter for
each (bench/README.md, "Pages under load"). The formats below are written directly, with Django's
own month names; any other format, or a value that is not a date, goes to Django's filter. Loaded as a
template builtin (portal.settings), after Django's, so `{{ value|date:"M j, Y" }}` in any template
uses it."""

import datetime

from django import template
from django.template import defaultfilters
from django.utils.dates import MONTHS, MONTHS_3

register = template.Library()


def _iso_day(value) -> str:
    return f"{value.year:04d}-{value.month:02d}-{value.day:02d}"


_FAST = {
    "Y-m-d": _iso_day,
    "c": lambda value: value.isoformat(),
    "M j, Y": lambda value: f"{str(MONTHS_3[value.month]).title()} {value.day}, {value.year:04d}",
    "F j, Y": lambda value: f"{MONTHS[value.month]} {value.day}, {value.year:04d}",
    "j F Y": lambda value: f"{value.day} {MONTHS[value.month]} {value.year:04d}",
}


@register.filter(expects_localtime=True, is_safe=False)
def date(value, arg=None):
    """Django's `date` filter (same output), taking a short way for the common formats."""
    fast = _FAST.get(arg)
    if fast is not None and isinstance(value, datetime.date):
        return fast(value)
    return defaultfilters.date(value, arg)
