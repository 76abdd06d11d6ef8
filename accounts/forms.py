"""The shape of the input on the accounts pages and in the admin. Rules stay in the services."""

from django import forms
from django.contrib.auth.forms import AdminUserCreationForm, UserChangeForm
from django.urls import reverse_lazy
from django.utils import timezone

from portal.pickers import PICK_A_PERSON, PickerWidget

from .models import OVERSIGHT_GROUP, Department, User
from .selectors import people_for_oversight, people_for_requester_lists

DATE_INPUT = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
_USWDS_CLASSES = {
    forms.Select: "usa-select",
    forms.Textarea: "usa-textarea",
    forms.CheckboxInput: "usa-checkbox__input",
}


class PageForm(forms.Form):
    """A form of the portal's pages: widgets carry the U.S. Web Design System classes."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for field in self.fields.values():
            css = next((c for kind, c in _USWDS_CLASSES.items() if isinstance(field.widget, kind)), "usa-input")
            field.widget.attrs.setdefault("class", css)


class ModelChoicesField(forms.ModelMultipleChoiceField):
    """Several objects chosen by id. An id too large for any database column is refused as unknown:
    SQLite would fail on it rather than find nothing."""

    def clean(self, value):
        for pk in value if isinstance(value, (list, tuple)) else ():
            try:
                too_large = abs(int(pk)) >= 2**63
            except (TypeError, ValueError):
                continue  # not a number at all: the parent class refuses it
            if too_large:
                raise forms.ValidationError(self.error_messages["invalid_pk_value"], code="invalid_pk_value",
                                            params={"pk": pk})
        return super().clean(value)


class PeopleFilterForm(PageForm):
    q = forms.CharField(label="Search by name, e-mail or title", required=False, max_length=100)
    department = forms.ModelChoiceField(
        label="Department", queryset=Department.objects.none(), required=False, empty_label="All departments"
    )

    def __init__(self, *args, departments, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["department"].queryset = departments


class RequesterSearchForm(PageForm):
    q = forms.CharField(label="Search by department or person", required=False, max_length=100)


class PersonChoiceField(forms.ModelChoiceField):
    """One person, found by a search on the page `search_url` (portal.pickers)."""

    def __init__(self, *args, search_url, **kwargs):
        super().__init__(*args, widget=PickerWidget(search_url=search_url),
                         error_messages={"invalid_choice": PICK_A_PERSON}, **kwargs)

    def label_from_instance(self, obj):
        return f"{obj.full_name} — {obj.department}" if obj.department_id else obj.full_name


class RequesterAddForm(PageForm):
    department = forms.ModelChoiceField(label="Department", queryset=Department.objects.all(),
                                        empty_label="Choose a department")
    person = PersonChoiceField(
        label="Person", queryset=people_for_requester_lists(), search_url=reverse_lazy("accounts:requesters"),
        empty_label="Choose a person",
        help_text="Only the department's own people can file its requests.",
    )
    start_date = forms.DateField(label="Start date", widget=DATE_INPUT, initial=timezone.localdate)
    end_date = forms.DateField(label="Off the list from (optional)", widget=DATE_INPUT, required=False)


class RequesterEndForm(PageForm):
    end_date = forms.DateField(label="Off the list from", widget=DATE_INPUT, required=False,
                               help_text="Leave empty to take them off the list now.")


def _unique_email(form, email: str) -> str:
    email = User.objects.normalize_email(email).lower()
    others = User.objects.filter(email__iexact=email)
    if form.instance.pk:
        others = others.exclude(pk=form.instance.pk)
    if others.exists():
        raise forms.ValidationError("A person with this e-mail address already exists.")
    return email


class PersonCreationForm(AdminUserCreationForm):
    """The admin's add form: people sign in with their e-mail address, not a username."""

    class Meta:
        model = User
        fields = ("email", "full_name", "title", "department")
        field_classes = {}

    def clean_email(self):
        return _unique_email(self, self.cleaned_data["email"])


class PersonChangeForm(UserChangeForm):
    class Meta:
        model = User
        fields = "__all__"
        field_classes = {"groups": ModelChoicesField, "user_permissions": ModelChoicesField}

    def clean_email(self):
        return _unique_email(self, self.cleaned_data["email"])

    def clean_groups(self):
        # The oversight role is given and ended only through an appointment the designee decides
        # (accounts.oversight): the admin can neither add nor drop it.
        groups = self.cleaned_data.get("groups")
        if groups is None or "groups" not in self.fields:
            return groups
        had = self.instance.pk is not None and self.instance.groups.filter(name=OVERSIGHT_GROUP).exists()
        has = any(group.name == OVERSIGHT_GROUP for group in groups)
        if had != has:
            raise forms.ValidationError(
                "The oversight role is given and ended on the Oversight appointments page, with the Mayor's "
                "designee's approval, not here.")
        return groups


OVERSIGHT_DECISIONS = [("approve", "Approve the appointment"), ("refuse", "Refuse it")]


class OversightProposeForm(PageForm):
    person = PersonChoiceField(
        label="Person", queryset=people_for_oversight(), search_url=reverse_lazy("security:oversight_list"),
        empty_label="Choose a person",
        help_text="They will read every department's records and change nothing. They cannot hold access to any "
                  "system, nor head a department, file its requests or hold a city role.",
    )
    body = forms.CharField(label="Oversight body", max_length=150,
                           help_text="For example: Office of the Internal Auditor, Civilian Oversight Board.")
    purpose = forms.CharField(label="Purpose", widget=forms.Textarea(attrs={"rows": 3}), max_length=4000,
                              help_text="Why they need to read every department's records.")
    ends_on = forms.DateField(label="Last day (optional)", widget=DATE_INPUT, required=False,
                              help_text="The appointment ends by itself after this day.")


class OversightEndForm(PageForm):
    reason = forms.CharField(label="Reason for ending it", widget=forms.Textarea(attrs={"rows": 3}),
                             max_length=4000)
