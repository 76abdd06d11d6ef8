"""The shape of the input on the waiver pages. Rules stay in waivers.services."""

from django import forms
from django.urls import reverse

from accounts.forms import ModelChoicesField
from accounts.models import Department, Grant
from access_requests.forms import TEXT_LIMIT, PortalForm
from portal.models import IntendedUse, PermissibleUse
from portal.pickers import PickerWidget

from .models import Waiver
from .selectors import end_user_grants, grants_for_waivers


class GrantPicker(PickerWidget):
    search_fields = ("person__full_name", "person__email", "system__name", "account_name")
    search_label = "Search by name, e-mail, system or account name"
    noun, plural = "grant", "grants"


class GrantChoiceField(ModelChoicesField):
    def label_from_instance(self, grant):
        return f"{grant.person.full_name}, {grant.system} ({grant.get_role_display().lower()}, {grant.account_name})"


class PermissibleUseChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, use):
        return f"{use.intended_use.name}: {use.name}"


class WaiverRequestForm(PortalForm):
    """A department head (or a director) asks for a temporary exception to Table 1 (S5.1a)."""

    department = forms.ModelChoiceField(queryset=Department.objects.none(), empty_label="Choose a department")
    intended_use = forms.ModelChoiceField(
        queryset=IntendedUse.objects.all(), empty_label="Choose a row of Table 1",
        label="Intended use (Table 1) the waiver departs from",
    )
    permissible_use = PermissibleUseChoiceField(
        queryset=PermissibleUse.objects.select_related("intended_use"), required=False,
        empty_label="The whole intended use", label="Permissible use concerned",
    )
    deviation = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 4}), max_length=TEXT_LIMIT, label="Deviation from Table 1",
        help_text="The use or the condition of Table 1 set aside, and what is done instead.",
    )
    basis = forms.ChoiceField(choices=Waiver.Basis.choices, widget=forms.RadioSelect, label="Justified by")
    justification = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 5}), max_length=TEXT_LIMIT,
        help_text="Why the life, safety or asset protection of the city or the public needs it.",
    )
    grants = GrantChoiceField(
        queryset=Grant.objects.none(), widget=GrantPicker(multiple=True), required=False,
        label="End-user grants it applies to",
        help_text="Only end users: separation of duties (Section 3.2) is never waivable, so no administrator, "
                  "monitor or auditor is listed.",
        error_messages={"invalid_choice": "Choose grants from the search results."},
    )
    starts_on = forms.DateField(
        label="First day", widget=forms.DateInput(attrs={"type": "date"}),
    )
    days = forms.IntegerField(
        label="Number of days", widget=forms.NumberInput(attrs={"inputmode": "numeric"}),
        help_text="It ends at 00:00 on the day after the last. Up to 30 days a director's grant is enough; "
                  "longer needs the Mayor's approval and is a substantive change to the policy. The days of "
                  "other waivers for the same deviation that overlap or touch this one count too.",
    )

    def __init__(self, *args, departments, department=None, **kwargs):
        super().__init__(*args, **kwargs)
        field = self.fields["department"]
        field.queryset = Department.objects.filter(pk__in=[d.pk for d in departments])
        if department is not None:
            # The grants listed are the chosen department's: the department no longer changes here.
            field.widget = forms.HiddenInput()
            field.initial = department.pk
        # A staff grant sent anyway reaches the service, which says why it is refused; none is offered.
        grants = self.fields["grants"]
        grants.queryset = grants_for_waivers(department)
        grants.widget.offered = end_user_grants(grants.queryset)
        grants.widget.search_url = reverse("waivers:new")
        grants.widget.include = ("department",)


class WaiverDepartmentForm(PortalForm):
    """A director first chooses the department the waiver is for (its grants are listed next)."""

    department = forms.ModelChoiceField(queryset=Department.objects.none(), empty_label="Choose a department")

    def __init__(self, *args, departments, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["department"].queryset = Department.objects.filter(pk__in=[d.pk for d in departments])


WAIVER_DECISIONS = [("grant", "Grant the waiver"), ("deny", "Deny the waiver")]


class WaiverMayorForm(PortalForm):
    decision = forms.ChoiceField(
        choices=[("approve", "The Mayor approved the waiver"), ("refuse", "The Mayor refused the waiver")],
        widget=forms.RadioSelect, label="The Mayor's decision",
    )
    decided_on = forms.DateField(
        label="Date of the Mayor's decision", widget=forms.DateInput(attrs={"type": "date"}),
    )
    note = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 3}), max_length=TEXT_LIMIT, required=False,
        label="Note", help_text="Required for a refusal: the Mayor's reason as given.",
    )


class WaiverRevokeForm(PortalForm):
    reason = forms.CharField(widget=forms.Textarea(attrs={"rows": 3}), max_length=TEXT_LIMIT,
                             label="Reason for revoking the waiver")
