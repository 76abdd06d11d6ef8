"""Date fields say what they really take: the browser's own date field shows the day in the reader's
format, so no hint names another one; typed by hand where a browser has no date field, the day is
taken as written in ISO or month/day/year."""

from datetime import date

import pytest
from django import forms
from test_fuzz_forms import _module_forms


def _date_fields():
    for form_class in sorted(_module_forms(), key=lambda cls: cls.__qualname__):
        for name, field in form_class.base_fields.items():
            if isinstance(field, forms.DateField):
                yield pytest.param(field, id=f"{form_class.__qualname__}.{name}")


@pytest.mark.parametrize("field", list(_date_fields()))
def test_no_date_hint_names_a_format_the_field_does_not_show(field):
    assert "YYYY" not in str(field.help_text) and "Format" not in str(field.help_text)


@pytest.mark.parametrize("typed", ["2026-12-31", "12/31/2026"])
def test_a_day_typed_by_hand_is_taken(typed):
    assert forms.DateField().clean(typed) == date(2026, 12, 31)
