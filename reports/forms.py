"""The shape of the input on the report pages. Rules stay in reports.services."""

from django import forms

from access_requests.forms import TEXT_LIMIT, PortalForm


class HandToBoardForm(PortalForm):
    requested_on = forms.DateField(
        label="Day the Board of Aldermen asked for the report", widget=forms.DateInput(attrs={"type": "date"}),
    )
    request_reference = forms.CharField(
        max_length=200, label="The Board's request", help_text="For example “Letter of 3 March 2027”.",
    )
    note = forms.CharField(widget=forms.Textarea(attrs={"rows": 3}), max_length=TEXT_LIMIT, required=False,
                           label="Note")
