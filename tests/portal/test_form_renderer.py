"""A plain <select> is written in Python (portal/form_renderer.py) to exactly the markup Django's
templates write: the same bytes, escaping included; anything else is Django's own."""

import pytest
from django import forms
from django.conf import settings
from django.forms.renderers import DjangoTemplates

from accounts.forms import RequesterAddForm
from accounts.models import Department
from portal.form_renderer import PortalFormRenderer


class Choices(forms.Form):
    plain = forms.ChoiceField(choices=[("", "Choose <one>"), ("1", "A & B"), (2, 'Say "when"'), ("3", "l’été")])
    grouped = forms.ChoiceField(required=False, choices=[("", "Any"), ("Cameras", [("c1", "Camera <1>"), ("c2", "Two")]),
                                                         ("Readers", [("r1", "Reader")]), ("x", "Loose one")])
    many = forms.MultipleChoiceField(
        required=False, choices=[("1", "one"), ("2", "two & three")],
        widget=forms.SelectMultiple(attrs={"class": "usa-select", "data-empty": None, "hidden": True, "off": False}))


def _both(form_class, data, name, **kwargs):
    django = form_class(data, renderer=DjangoTemplates(), **kwargs)[name].as_widget()
    portal = form_class(data, renderer=PortalFormRenderer(), **kwargs)[name].as_widget()
    return django, portal


@pytest.mark.parametrize("data", [None, {"plain": "1", "grouped": "c2", "many": ["1", "2"]}, {"plain": "nonsense"},
                                  {"plain": "2", "grouped": "x"}], ids=["unbound", "chosen", "refused", "numbers"])
@pytest.mark.parametrize("name", ["plain", "grouped", "many"])
def test_a_select_is_written_byte_for_byte_as_djangos_templates_write_it(data, name):
    django, portal = _both(Choices, data, name)
    assert portal == django
    assert "&lt;" in portal or "&amp;" in portal or name == "many" and "usa-select" in portal


def test_a_select_of_the_citys_departments_is_the_same_as_djangos(city):
    form_class = type("DepartmentForm", (forms.Form,), {
        "department": forms.ModelChoiceField(Department.objects.order_by("name"), empty_label="Choose a department")})
    django, portal = _both(form_class, {"department": city.police.pk}, "department")
    assert portal == django
    assert f'<option value="{city.police.pk}" selected>{city.police.name}</option>' in portal


def test_a_select_whose_options_have_a_template_of_their_own_is_left_to_django():
    class Odd(forms.Select):
        option_template_name = "django/forms/widgets/input_option.html"

    form_class = type("OddForm", (forms.Form,), {"odd": forms.ChoiceField(choices=[("1", "one")], widget=Odd)})
    django, portal = _both(form_class, None, "odd")
    assert portal == django and "<input" in portal


def test_the_portals_forms_use_it():
    assert settings.FORM_RENDERER == "portal.form_renderer.PortalFormRenderer"
    assert isinstance(RequesterAddForm().renderer, PortalFormRenderer)


class Boxes(forms.Form):
    boxes = forms.MultipleChoiceField(
        required=False, widget=forms.CheckboxSelectMultiple(attrs={"class": "usa-checkbox__input", "data-x": True}),
        choices=[("1", "Camera <1>"), ("2", "A & B"), (3, 'Say "when"'), ("4", "l’été")])
    radios = forms.ChoiceField(
        required=False, widget=forms.RadioSelect(attrs={"class": "usa-radio__input", "off": False}),
        choices=[("a", "Alpha & <b>"), ("b", "Beta")])
    unnamed = forms.ChoiceField(required=False, widget=forms.RadioSelect(attrs={"id": ""}),
                                choices=[("", "None"), ("z", "Zed")])


def _options(form_class, data, name, wrap_label, **kwargs):
    """Each checkbox or radio button of a field drawn one by one, by Django's renderer and by the portal's."""
    drawn = []
    for renderer in (DjangoTemplates(), PortalFormRenderer()):
        field = form_class(data, renderer=renderer, **kwargs)[name]
        drawn.append([option.tag(wrap_label=wrap_label) for option in field])
    return drawn


@pytest.mark.parametrize("wrap_label", [False, True], ids=["tag", "wrapped"])
@pytest.mark.parametrize("data", [None, {"boxes": ["1", "3"], "radios": "a", "unnamed": "z"}, {"radios": "nonsense"}],
                         ids=["unbound", "chosen", "refused"])
@pytest.mark.parametrize("name", ["boxes", "radios", "unnamed"])
def test_a_checkbox_or_radio_button_is_written_byte_for_byte_as_djangos_templates_write_it(data, name, wrap_label):
    django, portal = _options(Boxes, data, name, wrap_label)
    assert portal == django
    assert all(option.startswith("<label" if wrap_label else "<input") for option in portal)
    if data and "boxes" in data and name == "boxes":
        assert sum(" checked" in option for option in portal) == 2


def test_the_systems_as_checkboxes_are_the_same_as_djangos(city):
    from accounts.models import SurveillanceSystem

    form_class = type("SystemsForm", (forms.Form,), {"systems": forms.ModelMultipleChoiceField(
        SurveillanceSystem.objects.order_by("name"), widget=forms.CheckboxSelectMultiple)})
    for wrap_label in (False, True):
        django, portal = _options(form_class, {"systems": [city.vms.pk]}, "systems", wrap_label)
        assert portal == django and len(portal) == SurveillanceSystem.objects.count() > 1
        assert any(f'value="{city.vms.pk}"' in option and " checked" in option for option in portal)


def test_a_radio_button_whose_label_is_not_text_is_left_to_django():
    form_class = type("NumberForm", (forms.Form,), {
        "n": forms.TypedChoiceField(choices=[(1, 12345), (2, 2)], coerce=int, widget=forms.RadioSelect)})
    django, portal = _options(form_class, {"n": "1"}, "n", True)
    assert portal == django and "12345" in portal[0]
