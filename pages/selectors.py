"""What waits for the signed-in person's decision under Sections 3.6, 3.7, 3.11 and 5: the
"To decide" panel of the dashboard. Each count comes from the workflow's own selector, less the
records the person asked for themselves (nobody decides their own request)."""

from dataclasses import dataclass

from django.db.models import QuerySet
from django.urls import reverse

from accounts.models import User
from agreements.models import SharingAgreement
from agreements.selectors import agreements_visible_to
from external.models import ExternalConnection
from external.selectors import external_connections_visible_to

from incidents.models import Incident
from incidents.selectors import incidents_visible_to
from kpis.selectors import kpis_to_decide
from reports.selectors import reports_overdue_count
from retention.models import RetentionExtension
from retention.selectors import retention_extensions_visible_to
from security.models import OversightAppointment
from security.selectors import oversight_appointments_visible_to
from waivers.models import Waiver
from waivers.selectors import waivers_visible_to


@dataclass(frozen=True)
class ToDecide:
    label: str
    count: int
    url: str


def _pending(queryset: QuerySet, user: User, field: str = "requested_by") -> int:
    return queryset.exclude(**{field: user}).count()


def to_decide(user: User) -> list[ToDecide]:
    roles = user.roles
    rows = []
    if roles.is_designee:
        rows += [
            ToDecide("External system connections to approve or deny (3.6)",
                     _pending(external_connections_visible_to(user).filter(status=ExternalConnection.Status.PENDING),
                              user),
                     reverse("external:list") + "?status=pending"),
            ToDecide("Information sharing agreements awaiting the Mayor's approval (3.7)",
                     _pending(agreements_visible_to(user).filter(status=SharingAgreement.Status.PENDING), user),
                     reverse("agreements:list") + "?status=pending"),
            ToDecide("Oversight appointments to approve or refuse",
                     _pending(oversight_appointments_visible_to(user).filter(
                         status=OversightAppointment.Status.PROPOSED), user),
                     reverse("security:oversight_list")),
            ToDecide("Waivers longer than 30 days awaiting the Mayor's approval (5.1)",
                     _pending(waivers_visible_to(user).filter(status=Waiver.Status.AWAITING_MAYOR), user),
                     reverse("waivers:list") + "?status=awaiting_mayor"),
            ToDecide("Reports overdue (2.5)", reports_overdue_count(), reverse("reports:list")),
            ToDecide("KPIs to decide (2.5)", kpis_to_decide(user).count(), reverse("kpis:list") + "?status=proposed"),
        ]
    if roles.is_director:
        rows.append(ToDecide("Waivers to grant or deny (5.1)",
                             _pending(waivers_visible_to(user).filter(status=Waiver.Status.REQUESTED), user),
                             reverse("waivers:list") + "?status=requested"))
    if roles.is_safety_director:
        rows.append(ToDecide(
            "Retention extensions to grant or deny (3.11)",
            _pending(retention_extensions_visible_to(user).filter(status=RetentionExtension.Status.REQUESTED), user),
            reverse("retention:list") + "?status=requested"))
    if roles.is_designee or roles.is_itsa:
        rows.append(ToDecide("Open incident reports (5.2)",
                             incidents_visible_to(user).filter(status=Incident.Status.OPEN).count(),
                             reverse("incidents:list") + "?status=open"))
    return rows
