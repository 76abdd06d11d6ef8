"""How the portal's forms draw their widgets: Django's own templates, except a plain <select> and
a checkbox or radio button drawn one by one.

Django draws each option of a select through a template of its own (select_option.html, which
includes attrs.html), and a list of a city's hundred departments took about 8 ms of a page's CPU.
Here a select whose options all use Django's option template is written in Python instead, to the
same markup: every name, value and label escaped as the templates escape them (a test compares the
two byte for byte). A page that draws its checkboxes or radio buttons one by one (`{{ checkbox.tag }}`,
to lay each out with its USWDS label) paid the same three templates a box: sixty systems' boxes took
about half the CPU of the new external system page. They are written here too. Any other widget, or
a select with options of another template, is Django's."""

from django.forms.renderers import DjangoTemplates
from django.utils.html import conditional_escape

SELECT_TEMPLATE = "django/forms/widgets/select.html"
OPTION_TEMPLATE = "django/forms/widgets/select_option.html"
# input_option.html, and the two that only include it.
INPUT_OPTION_TEMPLATES = frozenset({
    "django/forms/widgets/input_option.html", "django/forms/widgets/checkbox_option.html",
    "django/forms/widgets/radio_option.html",
})


def _text(value) -> str:
    # `{{ value|stringformat:'s' }}`: the value as text, then escaped unless it is already safe.
    return str(conditional_escape("%s" % (value,)))


def _attrs(attrs: dict) -> str:
    # attrs.html: False leaves the attribute out, True writes its name alone.
    return "".join("" if value is False else f" {_text(name)}" if value is True else f' {_text(name)}="{_text(value)}"'
                   for name, value in attrs.items())


def select_html(widget: dict) -> str:
    """select.html and select_option.html for the widget's context, as Django renders them."""
    parts = [f'<select name="{_text(widget["name"])}"{_attrs(widget["attrs"])}>']
    for group_name, options, _ in widget["optgroups"]:
        if group_name:
            parts.append(f'\n  <optgroup label="{_text(group_name)}">')
        for option in options:
            parts.append(f'\n  <option value="{_text(option["value"])}"{_attrs(option["attrs"])}>'
                         f'{str(conditional_escape(option["label"]))}</option>\n')  # the option template's own last line
        if group_name:
            parts.append("\n  </optgroup>")
    parts.append("\n</select>")
    return "".join(parts)


def input_option_html(widget: dict) -> str:
    """input_option.html (with input.html) for one checkbox or radio button, as Django renders it."""
    attrs = widget["attrs"]
    # input.html: `{% if widget.value != None %}`, the same comparison (a model choice's value defines ==).
    value = f' value="{_text(widget["value"])}"' if widget["value"] != None else ""  # noqa: E711
    tag = f'<input type="{_text(widget["type"])}" name="{_text(widget["name"])}"{value}{_attrs(attrs)}>'
    if not widget.get("wrap_label"):
        return tag
    label_for = f' for="{_text(attrs["id"])}"' if attrs.get("id") else ""
    # input.html's own last line comes with it into the label.
    return f'<label{label_for}>{tag}\n {str(conditional_escape(widget["label"]))}</label>'


class PortalFormRenderer(DjangoTemplates):
    """Django's form renderer, with a plain select written by select_html() and a checkbox or radio
    button by input_option_html()."""

    def render(self, template_name, context, request=None):
        if template_name in INPUT_OPTION_TEMPLATES:
            widget = context.get("widget")
            # A label that is not text would be localized by the template (a number): left to Django.
            if widget is not None and isinstance(widget.get("label"), str):
                return input_option_html(widget)
        widget = context.get("widget") if template_name == SELECT_TEMPLATE else None
        if widget is not None and all(option.get("template_name") == OPTION_TEMPLATE
                                      for _, options, _ in widget["optgroups"] for option in options):
            return select_html(widget)
        return super().render(template_name, context, request)
