"""The shape of the input on the incident pages (S5.2). Rules stay in incidents.services."""

from django import forms
from django.urls import reverse

from accounts.models import SurveillanceSystem, User
from access_requests.forms import TEXT_LIMIT, PortalForm
from portal.pickers import PICK_A_PERSON, PickerWidget

from .models import Incident
from .selectors import people_to_name


class ConcernedPersonField(forms.ModelChoiceField):
    """One of the city's active people, found by a search (portal.pickers)."""

    def label_from_instance(self, person):
        return f"{person.full_name} — {person.department}" if person.department_id else person.full_name


class IncidentReportForm(PortalForm):
    """Anyone signed in reports willful unauthorized access or abuse, anonymously if they wish."""

    nature = forms.ChoiceField(choices=Incident.Nature.choices, widget=forms.RadioSelect, label="What happened",
                               error_messages={"required": "Choose whether this is unauthorized access or abuse."})
    description = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 6}), max_length=TEXT_LIMIT, label="Describe what happened",
        error_messages={"required": "Describe what happened."},
        help_text="What you saw or know: what was done, on which system, when and where. Facts, not opinions.",
    )
    occurred_on = forms.DateField(
        required=False, label="When it happened", widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
        help_text="The day, if you know it.",
    )
    person = ConcernedPersonField(
        queryset=User.objects.none(), required=False, empty_label="Nobody in particular, or I do not know",
        label="Person concerned", widget=PickerWidget, error_messages={"invalid_choice": PICK_A_PERSON},
    )
    system = forms.ModelChoiceField(
        queryset=SurveillanceSystem.objects.all(), required=False, empty_label="I do not know",
        label="System concerned",
    )
    anonymous = forms.BooleanField(
        required=False, label="Report anonymously",
        help_text="The portal will not record your name with this report, and nobody, not even the Mayor's "
                  "designee, will see who sent it. The report will not be listed under your reports, and nobody "
                  "can ask you questions about it.",
        widget=forms.CheckboxInput(attrs={"class": "usa-checkbox__input"}),
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["person"].queryset = people_to_name()
        self.fields["person"].widget.search_url = reverse("incidents:new")


class IncidentSuspendForm(PortalForm):
    """ITSA or the designee suspends the person's access pending review."""

    reason = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 3}), max_length=TEXT_LIMIT, required=False,
        label="Note for ITSA and the department head",
    )


class IncidentCloseForm(PortalForm):
    """The designee records the corrective action and closes the incident."""

    corrective_action = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 5}), max_length=TEXT_LIMIT, label="Corrective action taken",
        error_messages={"required": "Write the corrective action taken before closing the incident."},
        help_text="What was done: the finding, any disciplinary action, training, changes to access.",
    )
    reinstate = forms.BooleanField(
        required=False, label="Reinstate the access this incident suspended",
        help_text="Leave it unticked to keep the access suspended; the department then files a written "
                  "removal request.",
        widget=forms.CheckboxInput(attrs={"class": "usa-checkbox__input"}),
    )
