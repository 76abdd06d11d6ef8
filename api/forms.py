"""The shape of the input on the token page. Rules stay in api.services."""

from datetime import timedelta

from django import forms
from django.conf import settings
from django.utils import timezone

from access_requests.forms import PortalForm

from .models import Scope
from .selectors import systems_for_tokens

DEFAULT_DAYS = 90


class ApiTokenForm(PortalForm):
    """A new token: what calls with it, what it may do, for which system, until when."""

    name = forms.CharField(max_length=100, label="Name",
                           help_text="What calls with it, e.g. “LPR vendor sync”. Two tokens in use never share "
                                     "a name.")
    # Not required here: the service says what is missing, once, for the pages and the API alike.
    scopes = forms.MultipleChoiceField(choices=Scope.choices, required=False, label="What the token may do",
                                       widget=forms.CheckboxSelectMultiple)
    system = forms.ModelChoiceField(queryset=None, required=False, empty_label="Every system", label="System",
                                    help_text="Only this system's records, when you choose one.")
    expires_on = forms.DateField(label="Expires on", widget=forms.DateInput(attrs={"type": "date"},
                                                                            format="%Y-%m-%d"))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["system"].queryset = systems_for_tokens()
        self.fields["expires_on"].initial = timezone.localdate() + timedelta(days=DEFAULT_DAYS)
        self.fields["expires_on"].help_text = f"At most {settings.API_TOKEN_MAX_DAYS} days from today."
