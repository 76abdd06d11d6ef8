"""The shape of the input on the request pages. Rules stay in access_requests.services."""

from django import forms
from django.urls import reverse

from accounts.forms import ModelChoicesField
from accounts.models import Department, Grant, SurveillanceSystem, User
from portal.forms import TEXT_LIMIT, RefusalErrors
from portal.models import IntendedUse, PermissibleUse
from portal.pickers import PICK_A_PERSON, PickerWidget

from .models import DOCUMENT_TYPES, AccessRequest, StatusChange
from .selectors import people_for_requests, systems_for_requests

# What the file picker offers: the types the portal keeps, by extension and by type.
ACCEPTED_FILES = ",".join([*(end for _, endings in DOCUMENT_TYPES.values() for end in endings), *DOCUMENT_TYPES])


# A reinstatement is filed by a return from leave, never on the form.
FILED_ACTION_CHOICES = [(value, label) for value, label in AccessRequest.Action.choices
                        if value in AccessRequest.FILED_ACTIONS]


class MultipleFileInput(forms.FileInput):
    allow_multiple_selected = True


class MultipleFileField(forms.FileField):
    """Several files in one input; cleans to a list (empty when nothing was chosen)."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("widget", MultipleFileInput())
        super().__init__(*args, **kwargs)

    def clean(self, data, initial=None):
        single = super().clean
        if isinstance(data, (list, tuple)):
            return [single(item, initial) for item in data if item]
        return [single(data, initial)] if data else []


class PersonChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, person):
        return f"{person.full_name} ({person.email})"


class PortalForm(RefusalErrors, forms.Form):
    """Gives every widget its USWDS class; Django adds aria-invalid and aria-describedby."""

    css = {
        forms.Select: "usa-select",
        forms.Textarea: "usa-textarea",
        forms.CheckboxSelectMultiple: "usa-checkbox__input",
        forms.RadioSelect: "usa-radio__input",
        forms.FileInput: "usa-file-input",
    }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for field in self.fields.values():
            widget = field.widget
            css = next((c for kind, c in self.css.items() if isinstance(widget, kind)), "usa-input")
            if not widget.is_hidden:
                widget.attrs.setdefault("class", css)


class AccessRequestForm(PortalForm):
    """A written access request: add, change, remove or suspend one person's access to one system."""

    department = forms.ModelChoiceField(queryset=Department.objects.none(), empty_label="Choose a department")
    person = PersonChoiceField(queryset=User.objects.none(), empty_label="Choose a person", widget=PickerWidget,
                               error_messages={"invalid_choice": PICK_A_PERSON})
    # Narrowed to the systems the department may name (selectors.systems_for_requests).
    system = forms.ModelChoiceField(
        queryset=SurveillanceSystem.objects.none(), empty_label="Choose a system",
        error_messages={"invalid_choice": "The department is not authorized to use this system. Ask the Mayor's "
                                          "designee for department access first."},
    )
    action = forms.ChoiceField(choices=FILED_ACTION_CHOICES, label="Request")
    role = forms.ChoiceField(choices=Grant.Role.choices)
    permissible_uses = ModelChoicesField(
        queryset=PermissibleUse.objects.none(), widget=forms.CheckboxSelectMultiple, required=False,
        label="Permissible uses (Table 1)",
    )
    ends_on = forms.DateField(
        required=False, label="Temporary access ends", widget=forms.DateInput(attrs={"type": "date"}),
        help_text="Only for temporary access, which is less than 30 days: access ends at 00:00, city time, on this "
                  "day. Leave it empty for access without an end date.",
    )
    condition_statement = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 3}), max_length=TEXT_LIMIT, required=False,
        label="How the conditions are met",
        help_text="Needed for uses whose conditions are marked below: for example the case number of the active "
                  "investigation and until when.",
    )
    justification = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 5}), max_length=TEXT_LIMIT,
        help_text="Why this person needs this access for the uses you name.",
    )
    documents = MultipleFileField(
        required=False, label="Supporting documents",
        help_text="A signed copy of the request, a memo: PDF, PNG or JPEG files.",
    )

    def __init__(self, *args, departments, department=None, uses=None, **kwargs):
        super().__init__(*args, **kwargs)
        departments = list(departments)
        field = self.fields["department"]
        field.queryset = Department.objects.filter(pk__in=[d.pk for d in departments])
        if len(departments) == 1:
            field.widget = forms.HiddenInput()
            field.initial = departments[0].pk
            department = departments[0]
        scope = [department.pk] if department else [d.pk for d in departments]
        scoped = Department.objects.filter(pk__in=scope)
        self.fields["person"].queryset = people_for_requests(scoped)
        self.fields["person"].widget.search_url = reverse("requests:new")
        self.fields["person"].widget.include = ("department",)
        self.fields["system"].queryset = systems_for_requests(scoped)
        self.fields["permissible_uses"].queryset = (
            uses if uses is not None else PermissibleUse.objects.all()
        ).select_related("intended_use")
        self.fields["documents"].widget.attrs.update(accept=ACCEPTED_FILES)
        # htmx sends the whole form (CSRF token included) with every change of these selects.
        preview = {
            "hx-post": reverse("requests:preview"),
            "hx-trigger": "change",
            "hx-target": "#rule-feedback",
            # A newer choice waits for the answer on its way and replaces any other waiting, so the last
            # choice always wins: cancelling that answer instead makes htmx log an error for each.
            "hx-sync": "closest form:queue last",
        }
        for name in ("person", "system", "action", "role"):
            self.fields[name].widget.attrs.update(preview)

    def use_groups(self):
        """The permissible-use checkboxes grouped under their intended use, with its conditions."""
        groups: dict[int, tuple[IntendedUse, list]] = {}
        for checkbox in self["permissible_uses"]:
            use = checkbox.data["value"].instance
            groups.setdefault(use.intended_use_id, (use.intended_use, []))[1].append(checkbox)
        return list(groups.values())


class PreviewForm(forms.Form):
    """The half-filled request form, for the inline rule feedback."""

    department = forms.ModelChoiceField(queryset=Department.objects.none())
    person = forms.ModelChoiceField(queryset=User.objects.none())
    system = forms.ModelChoiceField(queryset=SurveillanceSystem.objects.all())
    action = forms.ChoiceField(choices=FILED_ACTION_CHOICES)
    role = forms.ChoiceField(choices=Grant.Role.choices)
    ends_on = forms.DateField(required=False)

    def __init__(self, *args, departments, people, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["department"].queryset = Department.objects.filter(pk__in=[d.pk for d in departments])
        self.fields["person"].queryset = people

    def clean(self):
        data = super().clean()
        if data.get("person") and data.get("department") and data["person"].department_id != data["department"].pk:
            raise forms.ValidationError("The person does not work for that department.")
        return data


class ReasonForm(PortalForm):
    reason = forms.CharField(widget=forms.Textarea(attrs={"rows": 3}), max_length=TEXT_LIMIT)

    def __init__(self, *args, label: str = "Reason", **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["reason"].label = label


class ProvisionForm(PortalForm):
    account_name = forms.CharField(
        max_length=150, required=False, label="Account name on the system",
        help_text="The user name created on the system.",
    )

    def __init__(self, *args, access_request: AccessRequest, **kwargs):
        super().__init__(*args, **kwargs)
        # A new account needs its name; a change, suspension or removal keeps the one on record.
        self.fields["account_name"].required = access_request.action == AccessRequest.Action.ADD


class DocumentForm(PortalForm):
    document = forms.FileField(
        label="Add a supporting document", help_text="A PDF, PNG or JPEG file: a signed copy, a memo.",
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["document"].widget.attrs.update(accept=ACCEPTED_FILES)


class StatusChangeForm(PortalForm):
    kind = forms.ChoiceField(choices=StatusChange.Kind.choices, label="What changed")
    effective_date = forms.DateField(
        label="Effective date", widget=forms.DateInput(attrs={"type": "date"}),
    )
    note = forms.CharField(widget=forms.Textarea(attrs={"rows": 3}), max_length=TEXT_LIMIT, required=False)

    def __init__(self, *args, person: User, **kwargs):
        super().__init__(*args, **kwargs)
        # Only a person on leave returns from it (the service refuses anyone else as well).
        if person.employment_status != User.EmploymentStatus.ON_LEAVE:
            self.fields["kind"].choices = [(value, label) for value, label in StatusChange.Kind.choices
                                           if value != StatusChange.Kind.RETURNED]


class DepartmentAccessForm(PortalForm):
    """A department head asks for the department to use a system (S3.4a)."""

    department = forms.ModelChoiceField(queryset=Department.objects.none(), empty_label="Choose a department")
    system = forms.ModelChoiceField(queryset=SurveillanceSystem.objects.all(), empty_label="Choose a system")
    intended_uses = ModelChoicesField(
        queryset=IntendedUse.objects.all(), widget=forms.CheckboxSelectMultiple, label="Intended uses (Table 1)",
    )
    business_need = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 5}), max_length=TEXT_LIMIT, label="Business need",
        help_text="The service the department delivers that needs this system.",
    )

    def __init__(self, *args, departments, **kwargs):
        super().__init__(*args, **kwargs)
        departments = list(departments)
        field = self.fields["department"]
        field.queryset = Department.objects.filter(pk__in=[d.pk for d in departments])
        if len(departments) == 1:
            field.widget = forms.HiddenInput()
            field.initial = departments[0].pk

    def intended_use_choices(self):
        """Each checkbox with its row of Table 1 (policy and conditions)."""
        return [(checkbox, checkbox.data["value"].instance) for checkbox in self["intended_uses"]]


DEPARTMENT_ACCESS_DECISIONS = [("grant", "Grant department access"), ("deny", "Deny department access")]
