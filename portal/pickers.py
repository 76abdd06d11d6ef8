"""Choosing a person or a grant among thousands. The form shows only what is chosen and a search
box; the matches come from the server, 20 at most: as the person types (htmx asks the page itself,
`GET ?find=<field>`), or, without JavaScript, with the Find button, which sends the form back to be
shown again with the matches and acts on nothing. A choice is still checked against the field's
scoped queryset, never trusted."""

import json

from django import forms
from django.db.models import Q
from django.forms.utils import ErrorDict
from django.shortcuts import render
from django.template.loader import render_to_string
from django.utils.safestring import mark_safe

FIND = "find"  # the name of the Find button; its value names the field searched
SEARCH_SUFFIX = "_q"
MIN_LENGTH = 2
SHOWN = 20
SEARCH_LIMIT = 100
PICK_A_PERSON = "Choose a person from the search results."


class PickerWidget(forms.Widget):
    """The chosen value(s) as checked radios (checkboxes when several may be chosen), a search box,
    a Find button and the matches as more radios or checkboxes: native controls, so Tab and the arrow
    keys work as anywhere else. Attributes given to the widget go on those radios or checkboxes."""

    template_name = "includes/picker.html"
    results_template_name = "includes/picker_results.html"
    use_fieldset = True
    search_fields = ("full_name", "email")
    search_label = "Search by name or e-mail"
    noun, plural = "person", "people"

    def __init__(self, attrs=None, *, multiple=False, search_url="", include=()):
        super().__init__(attrs)
        self.allow_multiple_selected = multiple
        self.choices = ()  # set by the model choice field: its iterator knows the field
        self.search_url = search_url  # the page that answers the search
        self.include = include  # names of the other fields the search depends on (a department)
        self.offered = None  # what may be shown, when narrower than what the field accepts
        self.search_text = ""
        self.searching = False

    def value_from_datadict(self, data, files, name):
        # Kept so that the form shows again what was typed in the search box.
        self.search_text = str(data.get(name + SEARCH_SUFFIX) or "").replace("\x00", "").strip()[:SEARCH_LIMIT]
        if self.allow_multiple_selected:
            return data.getlist(name) if hasattr(data, "getlist") else data.get(name)
        return data.get(name)

    def value_omitted_from_data(self, data, files, name):
        # An unticked checkbox sends nothing: like CheckboxSelectMultiple, never "omitted".
        return False if self.allow_multiple_selected else super().value_omitted_from_data(data, files, name)

    def id_for_label(self, id_):
        return f"{id_}{SEARCH_SUFFIX}" if id_ else id_

    def _field(self):
        return self.choices.field

    def _shown(self):
        return self.offered if self.offered is not None else self._field().queryset

    def _option(self, obj) -> tuple[str, str]:
        return str(obj.pk), self._field().label_from_instance(obj)

    def matches(self, text: str, *, exclude=()) -> tuple[list, int]:
        """Up to SHOWN of what may be shown whose search fields contain the text, and how many match."""
        if len(text) < MIN_LENGTH:
            return [], 0
        query = Q()
        for name in self.search_fields:
            query |= Q(**{f"{name}__icontains": text})
        found = self._shown().filter(query).exclude(pk__in=exclude)
        shown = list(found[:SHOWN])
        return shown, len(shown) if len(shown) < SHOWN else found.count()

    def status(self, text: str, shown: int, count: int) -> str:
        if len(text) < MIN_LENGTH:
            return f"Type at least {MIN_LENGTH} letters of a name or an e-mail address, then Find."
        if count == 0:
            return f"No {self.noun} matches “{text}”."
        matching = f"{count} {self.noun if count == 1 else self.plural} match{'es' if count == 1 else ''} “{text}”."
        if count > shown:
            return f"{matching} {count - shown} more match: type more of the name."
        return matching

    def get_context(self, name, value, attrs):
        context = super().get_context(name, value, attrs)
        values = value if isinstance(value, (list, tuple)) else [value]
        pks = [int(v) for v in map(str, values) if v.isdigit() and int(v) < 2**63]
        chosen = [self._option(obj) for obj in self._shown().filter(pk__in=pks)] if pks else []
        field = self._field()
        widget = context["widget"]
        base_id = widget["attrs"].get("id") or f"id_{name}"
        # The radios carry the widget's attributes; the page's layout classes and the form's own
        # validation hints belong to the whole field, not to each choice.
        choice_attrs = {key: val for key, val in widget["attrs"].items()
                        if key not in ("id", "class", "required", "aria-describedby", "aria-invalid")}
        widget.update({
            "id": base_id,
            "multiple": self.allow_multiple_selected,
            "input_type": "checkbox" if self.allow_multiple_selected else "radio",
            "choice_attrs": choice_attrs,
            "chosen": chosen,
            "empty_label": None if self.allow_multiple_selected or field.required else field.empty_label,
            "search_name": name + SEARCH_SUFFIX,
            "search_id": base_id + SEARCH_SUFFIX,
            "search_label": self.search_label,
            "search_text": self.search_text,
            "search_url": self.search_url,
            "results_id": f"{base_id}_results",
            "hx_vals": json.dumps({FIND: name}),
            "hx_include": ", ".join([f"#{base_id}_results", *(f"[name='{other}']" for other in self.include)]),
        })
        if self.searching:
            found, count = self.matches(self.search_text, exclude=pks)
            widget["found"] = [self._option(obj) for obj in found]
            widget["status"] = self.status(self.search_text, len(found), count)
        else:
            widget["found"] = []
            widget["status"] = (f"Type at least {MIN_LENGTH} letters of a name or an e-mail address to find a "
                                f"{self.noun}.")
        return context

    def render(self, name, value, attrs=None, renderer=None):
        # The project's templates, not the form renderer's own.
        return mark_safe(render_to_string(self.template_name, self.get_context(name, value, attrs)))


def find_requested(form, data) -> str | None:
    """The picker whose search was asked for (by its Find button, or by htmx), if any."""
    name = data.get(FIND)
    field = form.fields.get(name) if isinstance(name, str) else None
    return name if field is not None and isinstance(field.widget, PickerWidget) else None


def show_matches(form, name: str) -> None:
    """The form is to be shown again as sent, with the picker's matches: nothing was submitted, so
    no field is in error."""
    form.fields[name].widget.searching = True
    form._errors = ErrorDict()
    form.cleaned_data = {}


def matches_response(request, form):
    """The answer to htmx's `GET ?find=<field>`: the picker's chosen values and its matches. None
    when the request is no search."""
    name = find_requested(form, request.GET)
    if name is None:
        return None
    bound = form[name]
    widget = bound.field.widget
    widget.searching = True
    context = widget.get_context(bound.html_name, bound.value(), bound.build_widget_attrs({"id": bound.auto_id}))
    return render(request, widget.results_template_name, context)
