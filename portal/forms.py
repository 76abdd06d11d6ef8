"""The shape of the input on the portal's own pages. Rules stay in the services."""

from django import forms
from django.conf import settings

from .models import AuditEvent

DATE_INPUT = forms.DateInput(attrs={"type": "date", "class": "usa-input"}, format="%Y-%m-%d")


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
        self.fields["action"].choices = [("", "Any action"), *((action, action) for action in actions)]
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
