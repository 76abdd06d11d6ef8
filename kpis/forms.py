"""The shape of the input on the KPI pages. Rules stay in kpis.services."""

from django import forms

from access_requests.forms import TEXT_LIMIT, PortalForm

from .models import ImpactStatement, Kpi

KPI_DECISIONS = [("approve", "Approve the KPI"), ("refuse", "Refuse the KPI")]

NUMBER = forms.TextInput(attrs={"inputmode": "decimal"})


def _choice(access, use) -> str:
    return f"{access.department.pk}-{access.system.pk}-{use.pk}"


class KpiProposeForm(PortalForm):
    """A KPI of one system and intended use the department is authorized for (S2.5a)."""

    use = forms.ChoiceField(label="System and intended use", help_text="Only those your department's granted "
                                                                         "access names.")
    name = forms.CharField(max_length=120, label="Name of the KPI", help_text="Short, e.g. “Stolen vehicles "
                                                                               "recovered”.")
    measure = forms.CharField(widget=forms.Textarea(attrs={"rows": 4}), max_length=TEXT_LIMIT,
                              label="Data collected, and how")
    unit = forms.CharField(max_length=40, help_text="e.g. “vehicles”, “%”.")
    direction = forms.ChoiceField(choices=Kpi.Direction.choices, widget=forms.RadioSelect, label="Which is better")
    # Text, not a number field: the service gives the clear message for anything that is not a number.
    target = forms.CharField(max_length=30, widget=NUMBER)

    def __init__(self, *args, authorized, **kwargs):
        """`authorized`: (department access, intended use) pairs, as selectors.authorized_uses gives them."""
        super().__init__(*args, **kwargs)
        several = len({access.department_id for access, _ in authorized}) > 1
        self.pairs = {_choice(access, use): (access, use) for access, use in authorized}
        self.fields["use"].choices = [("", "Choose a system and intended use")] + [
            (key, f"{access.department} — {access.system}: {use}" if several else f"{access.system}: {use}")
            for key, (access, use) in self.pairs.items()
        ]

    def chosen(self):
        """The department, system and intended use chosen (call after is_valid)."""
        access, use = self.pairs[self.cleaned_data["use"]]
        return access.department, access.system, use


class FigureForm(PortalForm):
    year = forms.IntegerField(widget=forms.NumberInput(attrs={"inputmode": "numeric"}))
    value = forms.CharField(max_length=30, widget=NUMBER, label="Figure")
    note = forms.CharField(widget=forms.Textarea(attrs={"rows": 2}), max_length=TEXT_LIMIT, required=False)


class RetireForm(PortalForm):
    reason = forms.CharField(widget=forms.Textarea(attrs={"rows": 3}), max_length=TEXT_LIMIT,
                             label="Reason for retiring the KPI")


class WithdrawForm(PortalForm):
    reason = forms.CharField(widget=forms.Textarea(attrs={"rows": 2}), max_length=TEXT_LIMIT, required=False,
                             label="Reason (optional)")


class ImpactForm(PortalForm):
    """The head's statement, based on the year's figures (S2.5d)."""

    verdict = forms.ChoiceField(choices=ImpactStatement.Verdict.choices, widget=forms.RadioSelect,
                                label="Is the use having a positive impact?")
    explanation = forms.CharField(widget=forms.Textarea(attrs={"rows": 5}), max_length=TEXT_LIMIT,
                                  label="Explanation, based on the figures")
