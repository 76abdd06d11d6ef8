"""The shape of the input on the external connection pages. Rules stay in the services."""

from django import forms

from access_requests.forms import TEXT_LIMIT, PortalForm
from accounts.forms import ModelChoicesField
from accounts.models import Department, SurveillanceSystem
from portal.models import IntendedUse, PermissibleUse

from .models import ExternalConnection


class ExternalConnectionForm(PortalForm):
    """A department head asks to connect an external system (S3.6a, S3.6b, S3.6c)."""

    department = forms.ModelChoiceField(queryset=Department.objects.none(), empty_label="Choose a department")
    name = forms.CharField(label="External system", max_length=150,
                           help_text="For example: the transit authority's station cameras.")
    owner = forms.CharField(max_length=150, help_text="Who owns and operates the external system.")
    owner_contact = forms.EmailField(label="Owner's contact", required=False, max_length=254,
                                     help_text="An e-mail address at the owner, for the connection.")
    systems = ModelChoicesField(
        queryset=SurveillanceSystem.objects.all(), widget=forms.CheckboxSelectMultiple, label="City systems",
        help_text="Your department must hold department access to each of them.",
    )
    permissible_uses = ModelChoicesField(
        queryset=PermissibleUse.objects.none(), widget=forms.CheckboxSelectMultiple, required=False,
        label="Permissible uses (Table 1)",
    )
    business_reasons = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 5}), max_length=TEXT_LIMIT, label="Business reasons",
        help_text="Why the connection is needed, in terms of the permissible uses you name.",
    )
    method = forms.ChoiceField(choices=ExternalConnection.Method.choices, widget=forms.RadioSelect,
                               label="How it connects")
    connection_detail = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 3}), max_length=TEXT_LIMIT, required=False, label="Connection details",
        help_text="The secure connection in words: the API or link, its authentication and encryption.",
    )
    starts_on = forms.DateField(label="Starts on", widget=forms.DateInput(attrs={"type": "date"}))
    ends_on = forms.DateField(
        label="Ends on", widget=forms.DateInput(attrs={"type": "date"}),
        help_text="The connection ends at 00:00, city time, on this day: at most 365 days after it starts.",
    )
    renews = forms.ModelChoiceField(queryset=ExternalConnection.objects.none(), required=False,
                                    widget=forms.HiddenInput)

    def __init__(self, *args, departments, renewable, **kwargs):
        super().__init__(*args, **kwargs)
        departments = list(departments)
        field = self.fields["department"]
        field.queryset = Department.objects.filter(pk__in=[d.pk for d in departments])
        if len(departments) == 1:
            field.widget = forms.HiddenInput()
            field.initial = departments[0].pk
        self.fields["renews"].queryset = renewable
        # Every use of Table 1 is a choice: the service says which ones the department may name.
        self.fields["permissible_uses"].queryset = PermissibleUse.objects.select_related("intended_use")

    def use_groups(self):
        """The permissible-use checkboxes grouped under their intended use, with its conditions."""
        groups: dict[int, tuple[IntendedUse, list]] = {}
        for checkbox in self["permissible_uses"]:
            use = checkbox.data["value"].instance
            groups.setdefault(use.intended_use_id, (use.intended_use, []))[1].append(checkbox)
        return list(groups.values())


EXTERNAL_DECISIONS = [("approve", "Approve the connection"), ("deny", "Deny the connection")]
