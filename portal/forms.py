"""The shape of the input on the portal's own pages. Rules stay in the services."""

from django import forms
from django.conf import settings
from django.core.exceptions import NON_FIELD_ERRORS

from .models import AuditEvent

class RefusalErrors:
    """For the forms of pages that call a service: a service's refusal lands on the field it names
    (when the form shows it), and a field in error gets the design system's error class."""

    def add_error(self, field, error):
        super().add_error(field, error)
        for name in self._errors:
            widget = self.fields[name].widget if name in self.fields else None
            css = widget.attrs.get("class", "") if widget is not None else ""
            if css.startswith(("usa-input", "usa-select", "usa-textarea")) and "usa-input--error" not in css:
                widget.attrs["class"] = f"{css} usa-input--error"

    @property
    def has_field_errors(self) -> bool:
        return any(name != NON_FIELD_ERRORS for name in self.errors)

    def error_field(self, name: str | None) -> str | None:
        """Where a service's refusal goes: the named field when the form shows it, else the form."""
        return name if name in self.fields and not self.fields[name].widget.is_hidden else None


DATE_INPUT = forms.DateInput(attrs={"type": "date", "class": "usa-input"}, format="%Y-%m-%d")
TEXT_LIMIT = 5000


class DecisionForm(RefusalErrors, forms.Form):
    """The decision of every ask-and-decide workflow: one of two `choices`, the first for yes, and
    the reason for it."""

    decision = forms.ChoiceField(widget=forms.RadioSelect(attrs={"class": "usa-radio__input"}), label="Decision")
    reason = forms.CharField(widget=forms.Textarea(attrs={"rows": 3}), max_length=TEXT_LIMIT,
                             label="Reason for the decision")

    def __init__(self, *args, choices, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["decision"].choices = choices
        self.fields["reason"].widget.attrs["class"] = "usa-textarea"

    @property
    def approves(self) -> bool:
        """Whether the decision is the first choice, yes (call after is_valid)."""
        return self.cleaned_data["decision"] == self.fields["decision"].choices[0][0]

    @property
    def incomplete(self) -> str:
        """The message for a decision sent without a choice or a reason."""
        yes, no = (value for value, _ in self.fields["decision"].choices)
        return f"Choose to {yes} or {no}, and write the reason for the decision."


class AuditLogFilterForm(forms.Form):
    """The audit log search: every field is optional, dates are the portal's local dates."""

    action = forms.ChoiceField(label="Action", required=False, widget=forms.Select(attrs={"class": "usa-select"}))
    outcome = forms.ChoiceField(
        label="Outcome", required=False, choices=[("", "Any outcome"), *AuditEvent.Outcome.choices],
        widget=forms.Select(attrs={"class": "usa-select"}),
    )
    actor = forms.CharField(label="Person (e-mail or name)", required=False, max_length=100,
                            widget=forms.TextInput(attrs={"class": "usa-input"}))
    target = forms.CharField(label="Target contains", required=False, max_length=100,
                             widget=forms.TextInput(attrs={"class": "usa-input"}))
    date_from = forms.DateField(label="From", required=False, widget=DATE_INPUT)
    date_to = forms.DateField(label="To", required=False, widget=DATE_INPUT)

    def __init__(self, *args, actions, **kwargs):
        super().__init__(*args, **kwargs)
        from .audit_labels import action_label

        labels = [(action, action_label(action)) for action in actions]
        repeated = {label for _, label in labels if sum(1 for _, other in labels if other == label) > 1}
        self.fields["action"].choices = [("", "Any action"), *sorted(
            ((action, f"{label} ({action})" if label in repeated else label) for action, label in labels),
            key=lambda choice: choice[1].casefold())]
        for name in ("date_from", "date_to"):
            self.fields[name].help_text = f"A day in the portal's time zone ({settings.TIME_ZONE})."

    def clean(self):
        cleaned = super().clean()
        start, end = cleaned.get("date_from"), cleaned.get("date_to")
        if start and end and end < start:
            self.add_error("date_to", "Enter a date on or after the From date.")
        return cleaned

    def filters(self) -> dict:
        """The search as the selector takes it, without the empty fields (call after is_valid)."""
        return {name: value for name, value in self.cleaned_data.items() if value not in ("", None)}
