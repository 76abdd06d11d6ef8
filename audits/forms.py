"""The shape of the input on the validation pages. Rules stay in audits.services."""

from django import forms

from accounts.models import Department, Grant, SurveillanceSystem
from access_requests.forms import TEXT_LIMIT, PortalForm

from .models import ValidationItem

Decision = ValidationItem.Decision


class ItemDecisionForm(PortalForm):
    """The head's decision on one item: keep, revoke (with a reason) or change the role."""

    decision = forms.ChoiceField(
        choices=[(Decision.KEEP, "Keep"), (Decision.REVOKE, "Revoke"), (Decision.CHANGE_ROLE, "Change role")],
        widget=forms.HiddenInput,
    )
    reason = forms.CharField(widget=forms.Textarea(attrs={"rows": 2}), max_length=TEXT_LIMIT, required=False)
    new_role = forms.ChoiceField(choices=[("", "Choose the new role"), *Grant.Role.choices], required=False,
                                 label="New role")

    def __init__(self, *args, item: ValidationItem | None = None, decision: str = "", **kwargs):
        super().__init__(*args, **kwargs)
        if item is not None:
            # The current role is no change: leave it out of the choices.
            self.fields["new_role"].choices = [
                choice for choice in self.fields["new_role"].choices if choice[0] != item.grant.role
            ]
        if decision:
            self.initial["decision"] = decision
        if decision == Decision.REVOKE:
            self.fields["reason"].label = "Reason for revoking"
            self.fields["reason"].widget.attrs["required"] = True
        else:
            self.fields["reason"].label = "Reason"


class KeepAllForm(PortalForm):
    # The service refuses without the confirmation; the browser asks for it first.
    confirm = forms.BooleanField(
        required=False, widget=forms.CheckboxInput(attrs={"class": "usa-checkbox__input", "required": True}),
        label="I have reviewed every access listed and confirm that each one not yet decided is still needed "
              "for a permissible use.",
    )


class SignOffForm(PortalForm):
    password = forms.CharField(
        label="Enter your password to sign", strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
    )


class UserAuditForm(PortalForm):
    """ITSA orders a user audit of a department, of one system in it, or of one system across departments (S3.5d)."""

    department = forms.ModelChoiceField(
        queryset=Department.objects.order_by("name"), required=False,
        empty_label="Every department using the system",
        help_text="Leave “Every department” to audit one system across departments.",
    )
    system = forms.ModelChoiceField(
        queryset=SurveillanceSystem.objects.order_by("name"), required=False, empty_label="Every system",
        help_text="Leave “Every system” to review all of the department's grants.",
    )

    def clean(self):
        data = super().clean()
        if not data.get("department") and not data.get("system"):
            raise forms.ValidationError("Choose a department, a system, or both.")
        return data
