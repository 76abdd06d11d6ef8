"""The shape of what the API reads and takes. No rule lives here: the views call selectors and
services, as the pages do."""

from rest_framework import serializers

from access_requests.models import AccessRequest
from accounts.models import Department, Grant, SurveillanceSystem, User
from audits.models import Validation


class SystemSerializer(serializers.ModelSerializer):
    owner = serializers.SlugRelatedField(slug_field="code", read_only=True, allow_null=True,
                                         help_text="The owning department's code.")

    class Meta:
        model = SurveillanceSystem
        fields = ["id", "code", "name", "kind", "description", "uses_biometrics", "biometric_retention_days",
                  "is_license_plate_reader", "is_third_party", "has_public_feed", "owner"]


class DepartmentSerializer(serializers.ModelSerializer):
    head = serializers.SerializerMethodField(help_text="The head's name, or null.")

    class Meta:
        model = Department
        fields = ["id", "code", "name", "kind", "in_scope", "head"]

    def get_head(self, department) -> str | None:
        return department.head.full_name if department.head_id else None


class PersonSerializer(serializers.ModelSerializer):
    """What the people page shows of a person, no more."""

    department = serializers.SlugRelatedField(slug_field="code", read_only=True, allow_null=True)

    class Meta:
        model = User
        fields = ["id", "employee_id", "full_name", "email", "title", "department", "organization",
                  "employment_status", "is_active"]


class GrantSerializer(serializers.ModelSerializer):
    person = serializers.PrimaryKeyRelatedField(read_only=True)
    person_name = serializers.CharField(source="person.full_name", read_only=True)
    system = serializers.SlugRelatedField(slug_field="code", read_only=True)
    department = serializers.SlugRelatedField(slug_field="code", read_only=True)
    permissible_uses = serializers.SlugRelatedField(slug_field="code", many=True, read_only=True)

    class Meta:
        model = Grant
        fields = ["id", "person", "person_name", "system", "department", "role", "account_name", "status",
                  "view_only", "permissible_uses", "provisioned_at", "ends_on", "ended_at", "last_used_at"]


class AccessRequestSerializer(serializers.ModelSerializer):
    person = serializers.PrimaryKeyRelatedField(read_only=True)
    person_name = serializers.CharField(source="person.full_name", read_only=True)
    system = serializers.SlugRelatedField(slug_field="code", read_only=True)
    department = serializers.SlugRelatedField(slug_field="code", read_only=True)
    permissible_uses = serializers.SlugRelatedField(slug_field="code", many=True, read_only=True)

    class Meta:
        model = AccessRequest
        fields = ["id", "reference", "action", "status", "person", "person_name", "system", "department", "role",
                  "permissible_uses", "ends_on", "submitted_at", "approved_at", "processed_at", "account_name",
                  "return_reason", "grant"]


class ValidationSerializer(serializers.ModelSerializer):
    department = serializers.SlugRelatedField(slug_field="code", read_only=True)
    system = serializers.SlugRelatedField(slug_field="code", read_only=True, allow_null=True)
    item_count = serializers.IntegerField(read_only=True)
    decided_count = serializers.IntegerField(read_only=True)
    kept_count = serializers.IntegerField(read_only=True)

    class Meta:
        model = Validation
        fields = ["id", "kind", "department", "system", "period", "status", "opened_at", "due_date",
                  "signed_off_at", "completed_at", "item_count", "decided_count", "kept_count"]


# --- What the API takes ---------------------------------------------------------------------------

class Text(serializers.CharField):
    """A string, as the schema says: a number or a boolean is refused, not turned into text
    (a reason of `1e999` would otherwise be kept as “inf”)."""

    default_error_messages = {"not_text": "Send text (a JSON string), not {kind}."}

    def to_internal_value(self, data):
        if not isinstance(data, str):
            self.fail("not_text", kind=type(data).__name__.replace("NoneType", "null"))
        return super().to_internal_value(data)


class UseSerializer(serializers.Serializer):
    account_name = Text(max_length=150)
    last_used_at = Text(max_length=40, help_text="An ISO date (2026-03-01) or date and time "
                                                                   "(2026-03-01T14:05:00+00:00); city time when "
                                                                   "no zone is named.")


class UseReportSerializer(serializers.Serializer):
    uses = UseSerializer(many=True, allow_empty=False, max_length=5000)


class UseResultSerializer(serializers.Serializer):
    updated = serializers.IntegerField()
    not_newer = serializers.IntegerField()
    unknown = serializers.ListField(child=serializers.DictField(child=serializers.CharField()))


class ProvisionSerializer(serializers.Serializer):
    account_name = Text(max_length=150, required=False, allow_blank=True,
                                         help_text="The account made on the system (for an added access).")


class ReturnSerializer(serializers.Serializer):
    reason = Text(max_length=5000, help_text="Why ITSA returns the request.")


class ProblemSerializer(serializers.Serializer):
    """RFC 9457 problem details."""

    type = serializers.CharField()
    title = serializers.CharField()
    status = serializers.IntegerField()
    detail = serializers.CharField()
    instance = serializers.CharField(required=False)
    errors = serializers.DictField(child=serializers.ListField(child=serializers.CharField()), required=False)
