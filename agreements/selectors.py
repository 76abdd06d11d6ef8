"""Reads of information sharing agreements and the grants under them, scoped to what a user may see."""

from datetime import date

from django.db.models import Q, QuerySet

from accounts.models import Grant, User
from accounts.selectors import department_ids_for
from portal.models import PermissibleUse

from .models import PUBLIC_SAFETY, AgreementGrant, SharingAgreement


def agreements_visible_to(user: User) -> QuerySet[SharingAgreement]:
    """The sponsoring department's head and authorized requesters see its agreements; ITSA, oversight and
    the Mayor's designees see every one; nobody else sees any (a third party's people included)."""
    if not user.is_authenticated:
        return SharingAgreement.objects.none()
    if user.roles.reads_every_department or user.roles.is_designee:
        return SharingAgreement.objects.all()
    return SharingAgreement.objects.filter(department__in=department_ids_for(user))


def agreements_list(user: User, *, q: str = "", status: str = "", category: str = "") -> QuerySet[SharingAgreement]:
    """The register: searchable by third party, filtered by status and category; pending first."""
    rows = agreements_visible_to(user).select_related("department", "requested_by", "decided_by")
    if q:
        rows = rows.filter(third_party__icontains=q)
    if status:
        rows = rows.filter(status=status)
    if category:
        rows = rows.filter(category=category)
    return rows.order_by("-requested_at", "-pk")


def public_safety_uses() -> QuerySet[PermissibleUse]:
    """The permissible uses a third party's view-only grant may name (3.7: public safety only)."""
    return PermissibleUse.objects.filter(intended_use__code=PUBLIC_SAFETY).select_related("intended_use")


def agreement_of_grant(grant: Grant) -> SharingAgreement | None:
    """The agreement a grant rests on, or None for a grant under none. Whoever may see the grant may
    see this: its department is the agreement's sponsor."""
    link = AgreementGrant.objects.select_related("agreement").filter(grant=grant).first()
    return link.agreement if link is not None else None


def grant_is_under_agreement(grant: Grant) -> bool:
    return AgreementGrant.objects.filter(grant=grant).exists()


def grants_outliving_their_agreement(*, today: date) -> QuerySet[Grant]:
    """Live grants whose agreement is no longer in force on `today` (which no path should leave)."""
    links = AgreementGrant.objects.filter(
        ~Q(agreement__status=SharingAgreement.Status.APPROVED) | Q(agreement__ends_on__lte=today))
    return Grant.objects.filter(pk__in=links.values("grant"), status__in=Grant.LIVE_STATUSES)
