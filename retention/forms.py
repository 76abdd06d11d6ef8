"""The shape of the input on the retention pages. Rules stay in retention.services."""

from django import forms

from accounts.forms import DATE_INPUT, ModelChoicesField
from accounts.models import SurveillanceSystem
from access_requests.forms import TEXT_LIMIT, PortalForm

from .models import RetentionExtension
from .services import DEFAULT_DAYS, EXTENDED_DAYS


class SystemChoicesField(ModelChoicesField):
    def label_from_instance(self, system):
        return f"{system.name} (uses biometrics)" if system.uses_biometrics else system.name


class RetentionExtensionForm(PortalForm):
    """A department head or ITSA asks the Director of Public Safety for an extension (S3.11)."""

    systems = SystemChoicesField(
        queryset=SurveillanceSystem.objects.none(), widget=forms.CheckboxSelectMultiple,
        label="Surveillance systems",
    )
    area = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 3}), max_length=TEXT_LIMIT, required=False, label="Area or devices",
        help_text="Leave empty when the extension covers all the devices of the systems named.",
    )
    condition = forms.ChoiceField(
        choices=RetentionExtension.Condition.choices, widget=forms.RadioSelect, label="Condition of Section 3.11",
    )
    justification = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 5}), max_length=TEXT_LIMIT, label="Justification",
        help_text="The facts that show the condition is met in this area.",
    )
    retention_days = forms.IntegerField(
        label="Retention in days", initial=EXTENDED_DAYS,
        widget=forms.NumberInput(attrs={"min": DEFAULT_DAYS + 1, "max": EXTENDED_DAYS}),
        help_text=f"More than {DEFAULT_DAYS} days and at most {EXTENDED_DAYS} days.",
    )
    starts_on = forms.DateField(label="Starts on", widget=DATE_INPUT)
    ends_on = forms.DateField(
        label="Ends on", widget=DATE_INPUT,
        help_text="The extension ends at 00:00, city time, on this day; at most 365 days after the start.",
    )
    review_on = forms.DateField(
        label="Review on", widget=DATE_INPUT,
        help_text="The Director of Public Safety reviews the extension on this day, before it ends.",
    )

    def __init__(self, *args, systems, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["systems"].queryset = systems


# The Director of Public Safety grants or denies an extension.
RETENTION_DECISIONS = [("grant", "Grant the extension"), ("deny", "Deny the extension")]


class RetentionEndForm(PortalForm):
    """The Director of Public Safety ends a granted extension early."""

    reason = forms.CharField(widget=forms.Textarea(attrs={"rows": 3}), max_length=TEXT_LIMIT,
                             label="Reason for ending the extension")
