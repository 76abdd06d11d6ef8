"""Reads of external system connections, scoped to what a user may see."""

from django.db.models import Q, QuerySet

from accounts.models import User
from accounts.selectors import department_ids_for

from .models import ExternalConnection


def external_connections_visible_to(user: User) -> QuerySet[ExternalConnection]:
    """The department's head and authorized requesters see their department's connections; ITSA,
    which opens and closes them, the Mayor's designees, who decide them, and oversight see all; others none."""
    if not user.is_authenticated:
        return ExternalConnection.objects.none()
    if user.roles.reads_every_department or user.roles.is_designee:
        return ExternalConnection.objects.all()
    return ExternalConnection.objects.filter(department__in=department_ids_for(user))


def external_connections_matching(queryset: QuerySet[ExternalConnection], q: str) -> QuerySet[ExternalConnection]:
    """Narrow a list by the external system's name or its owner."""
    q = (q or "").strip()
    if not q:
        return queryset
    return queryset.filter(Q(name__icontains=q) | Q(owner__icontains=q))
