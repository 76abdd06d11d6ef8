"""The shape of the input on the information sharing agreement pages. Rules stay in agreements.services."""

from django import forms

from accounts.forms import DATE_INPUT, ModelChoicesField, PageForm
from accounts.models import Department, SurveillanceSystem
from portal.forms import DATE_INPUT as CLASSED_DATE_INPUT
from portal.forms import DecisionForm, RefusalErrors
from portal.table2 import Category

from .models import SharingAgreement
from .selectors import public_safety_uses

TEXT_LIMIT = 5000
CHECKBOXES = {"class": "usa-checkbox__input"}


class _AgreementPageForm(RefusalErrors, PageForm):
    """PageForm with the refusal helpers the request pages' forms have."""


class AgreementFilterForm(PageForm):
    q = forms.CharField(label="Search by third party", required=False, max_length=100)
    status = forms.ChoiceField(label="Status", required=False,
                               choices=[("", "Any status"), *SharingAgreement.Status.choices])
    category = forms.ChoiceField(label="Table 2 category", required=False,
                                 choices=[("", "Any category"), *Category.choices])


class AgreementForm(_AgreementPageForm):
    """The head of the sponsoring department asks for an agreement (S3.7, T2)."""

    department = forms.ModelChoiceField(queryset=Department.objects.none(), empty_label="Choose a department",
                                        label="Sponsoring department")
    third_party = forms.CharField(max_length=150, label="Third party",
                                  help_text="The public safety organization the city shares with.")
    category = forms.ChoiceField(choices=Category.choices, label="Table 2 category")
    shared = forms.CharField(widget=forms.Textarea(attrs={"rows": 4}), max_length=TEXT_LIMIT,
                             label="What is shared", help_text="Within what Table 2 shares with this category.")
    conditions = forms.CharField(widget=forms.Textarea(attrs={"rows": 4}), max_length=TEXT_LIMIT,
                                 label="Conditions", help_text="Within the conditions of Table 2 for this category.")
    excludes_biometric = forms.BooleanField(
        required=False, initial=True, label="Biometric data is excluded",
        help_text="Always excluded for the categories whose Table 2 row excludes it.",
    )
    systems = ModelChoicesField(queryset=SurveillanceSystem.objects.all(),
                                widget=forms.CheckboxSelectMultiple(attrs=CHECKBOXES),
                                label="Systems the third party may view")
    starts_on = forms.DateField(label="Starts on", widget=DATE_INPUT)
    ends_on = forms.DateField(label="Ends on", widget=DATE_INPUT,
                              help_text="The agreement and every grant under it end at 00:00, city time, on this day.")

    def __init__(self, *args, departments, **kwargs):
        super().__init__(*args, **kwargs)
        departments = list(departments)
        field = self.fields["department"]
        field.queryset = Department.objects.filter(pk__in=[d.pk for d in departments])
        if len(departments) == 1:
            field.widget = forms.HiddenInput()
            field.initial = departments[0].pk


AGREEMENT_DECISIONS = [("approve", "The Mayor approved the agreement"), ("deny", "Deny the agreement")]


class AgreementDecideForm(DecisionForm):
    """The decision, with the date the Mayor approved the agreement (S3.7)."""

    mayor_approved_on = forms.DateField(
        label="Date of the Mayor's approval", widget=CLASSED_DATE_INPUT, required=False,
        help_text="Required to approve.",
    )
    field_order = ["decision", "mayor_approved_on", "reason"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, choices=AGREEMENT_DECISIONS, **kwargs)


class AgreementEndForm(_AgreementPageForm):
    reason = forms.CharField(widget=forms.Textarea(attrs={"rows": 3}), max_length=TEXT_LIMIT,
                             label="Reason for ending the agreement now")


class ThirdPartyPersonForm(_AgreementPageForm):
    """ITSA adds one of the third party's people, with a view-only grant on one of the agreement's systems."""

    full_name = forms.CharField(max_length=150, label="Full name")
    email = forms.EmailField(label="E-mail address", help_text="Their address at the third party.")
    system = forms.ModelChoiceField(queryset=SurveillanceSystem.objects.none(), empty_label="Choose a system",
                                    label="System")
    permissible_uses = ModelChoicesField(
        queryset=public_safety_uses(), widget=forms.CheckboxSelectMultiple(attrs=CHECKBOXES),
        label="Permissible uses (Table 1, public safety)",
    )
    account_name = forms.CharField(max_length=150, label="Account name on the system",
                                   help_text="The view-only user name created on the system.")

    def __init__(self, *args, agreement: SharingAgreement, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["system"].queryset = agreement.systems.all()
        self.fields["permissible_uses"].queryset = public_safety_uses()
