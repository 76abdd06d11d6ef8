"""Admin for people, departments, systems, requester lists and grants, with the rules of the services."""

from django import forms
from django.contrib import admin, messages
from django.contrib.auth.admin import UserAdmin
from django.http import HttpResponseRedirect
from django.urls import reverse
from django.utils.html import format_html

from portal.admin import HistoryAdmin, ReadOnlyAdmin, ReadOnlyHistoryAdmin
from portal.errors import RuleViolation

from .forms import PersonChangeForm, PersonCreationForm
from .models import CITY_ROLE_GROUPS, AuthorizedRequester, Department, Grant, SodFinding, SurveillanceSystem, User
from .services import department_change
from .signals import portal_role_given

_REFUSED = "_portal_admin_refused"


@admin.register(User)
class PersonAdmin(UserAdmin, HistoryAdmin):
    """People sign in with their e-mail address. Their employment status changes only through a
    head's status-change report, which also queues their grants for removal (3.5)."""

    form = PersonChangeForm
    add_form = PersonCreationForm
    fieldsets = (
        (None, {"fields": ("email", "password")}),
        ("Person", {"fields": ("full_name", "title", "department", "organization", "employment_status")}),
        ("Portal permissions", {"fields": ("is_active", "is_staff", "is_superuser", "groups", "user_permissions")}),
        ("Dates", {"fields": ("last_login", "date_joined")}),
    )
    add_fieldsets = (
        (None, {
            "classes": ("wide",),
            "fields": ("email", "full_name", "title", "department", "usable_password", "password1", "password2"),
        }),
    )
    # A third party's organization is set when ITSA adds them under a sharing agreement (3.7).
    readonly_fields = ("employment_status", "organization", "last_login", "date_joined")
    list_display = ("full_name", "email", "department", "employment_status", "is_active", "is_staff")
    list_filter = ("department", "employment_status", "is_active", "is_staff", "is_superuser", "groups")
    list_select_related = ("department",)
    search_fields = ("full_name", "email", "title")
    ordering = ("full_name", "email")
    filter_horizontal = ("groups", "user_permissions")

    def save_related(self, request, form, formsets, change):
        """A city role (ITSA, designee, a director) given here is a portal role given like any other:
        the apps above hear of it, and a person who cannot sign in yet is invited (security)."""
        person = form.instance
        before = set(person.groups.filter(name__in=CITY_ROLE_GROUPS).values_list("name", flat=True)) if change \
            else set()
        super().save_related(request, form, formsets, change)
        after = set(person.groups.filter(name__in=CITY_ROLE_GROUPS).values_list("name", flat=True))
        if after - before:
            portal_role_given.send(sender=User, person=person, by=request.user)


class _ScopeSelect(forms.NullBooleanSelect):
    """Two plain choices, no "unknown"."""

    def __init__(self, attrs=None):
        super().__init__(attrs)
        self.choices = [
            ("true", "Under the Mayor: in the order's scope"),
            ("false", "Outside the order's scope (Section 1)"),
        ]


class _ScopeField(forms.NullBooleanField):
    def has_changed(self, initial, data):
        # Left out of the form: kept as it is (DepartmentAdminForm.clean_in_scope), so not a change.
        return data is not None and super().has_changed(initial, data)


class DepartmentAdminForm(forms.ModelForm):
    # A select rather than a checkbox: taking a body out of scope is a choice made, never a box left
    # unticked, and a form that leaves the field out keeps the department's scope as it is.
    in_scope = _ScopeField(
        label=Department._meta.get_field("in_scope").verbose_name, required=False, widget=_ScopeSelect,
        help_text=Department._meta.get_field("in_scope").help_text,
    )

    class Meta:
        model = Department
        fields = "__all__"

    def clean_in_scope(self):
        value = self.cleaned_data.get("in_scope")
        if value is None:
            return self.instance.in_scope if self.instance.pk else True
        return value


@admin.register(Department)
class DepartmentAdmin(HistoryAdmin):
    """The head is set through department_set_head, which moves the department's object permission;
    the scope (Section 1) through department_set_scope, which refuses to take a body out of scope
    while it still holds access."""

    form = DepartmentAdminForm
    list_display = ("name", "code", "kind", "in_scope", "head")
    list_filter = ("kind", "in_scope")
    list_select_related = ("head",)
    search_fields = ("name", "code", "head__full_name", "head__email")
    autocomplete_fields = ("head",)

    def has_delete_permission(self, request, obj=None):
        # Object permissions and history point at the department: it stays on record.
        return False

    def get_readonly_fields(self, request, obj=None):
        # A new department is saved first; its head is then set on its page, through the service.
        return ("head",) if obj is None else ()

    def save_model(self, request, obj, form, change):
        if change:
            stored = Department.objects.values("head_id", "in_scope").get(pk=obj.pk)
            if (obj.head_id, obj.in_scope) != (stored["head_id"], stored["in_scope"]):
                try:
                    department_change(department=obj, head=obj.head, in_scope=obj.in_scope, by=request.user)
                except RuleViolation as refusal:
                    setattr(request, _REFUSED, True)
                    self.message_user(request, f"Nothing was saved: {refusal.message}", messages.ERROR)
                    return
            if not set(form.changed_data) - {"head", "in_scope"}:
                return
        super().save_model(request, obj, form, change)

    def log_change(self, request, obj, message):
        if not getattr(request, _REFUSED, False):
            return super().log_change(request, obj, message)

    def response_change(self, request, obj):
        if getattr(request, _REFUSED, False):
            return HttpResponseRedirect(request.path)
        return super().response_change(request, obj)


@admin.register(SurveillanceSystem)
class SurveillanceSystemAdmin(HistoryAdmin):
    list_display = ("name", "code", "kind", "owner", "uses_biometrics", "biometric_retention_days",
                    "is_license_plate_reader", "is_third_party", "has_public_feed")
    list_filter = ("kind", "uses_biometrics", "is_license_plate_reader", "is_third_party", "has_public_feed")
    list_select_related = ("owner",)
    search_fields = ("name", "code", "description")


@admin.register(AuthorizedRequester)
class AuthorizedRequesterAdmin(ReadOnlyHistoryAdmin):
    """The lists are kept on the requesters page, where authorized_requester_add and _end check 3.3."""

    list_display = ("person", "department", "start_date", "end_date", "added_by", "added_at")
    list_filter = ("department",)
    list_select_related = ("person", "department", "added_by")
    search_fields = ("person__full_name", "person__email", "department__name")
    date_hierarchy = "start_date"
    readonly_fields = ("added_at",)

    def changelist_view(self, request, extra_context=None):
        note = format_html(
            'Authorized requesters are added and ended on <a href="{}">the requesters page</a>, '
            "where the rules of Section 3.3 are checked.",
            reverse("accounts:requesters"),
        )
        return super().changelist_view(request, {"subtitle": note, **(extra_context or {})})


@admin.register(Grant)
class GrantAdmin(ReadOnlyHistoryAdmin):
    """Grants change only when ITSA provisions an access request."""

    list_display = ("person", "system", "role", "status", "department", "account_name", "provisioned_at", "ends_on")
    list_filter = ("status", "role", "system", "department")
    list_select_related = ("person", "system", "department")
    search_fields = ("person__full_name", "person__email", "account_name", "system__name")
    date_hierarchy = "provisioned_at"


@admin.register(SodFinding)
class SodFindingAdmin(ReadOnlyAdmin):
    """Refused requests and the nightly scan record the findings (accounts.sod); nobody edits them."""

    list_display = ("found_at", "person", "system", "department", "stage", "resolution", "resolved_at")
    list_filter = ("resolution", "stage", "system", "department")
    list_select_related = ("person", "system", "department")
    search_fields = ("person__full_name", "person__email", "system__name", "detail")
    date_hierarchy = "found_at"
    fields = ("found_at", "person", "system", "department", "stage", "detail", "resolution", "resolved_at")
    readonly_fields = fields

