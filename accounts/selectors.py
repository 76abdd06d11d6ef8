"""Reads, scoped to what a user may see. Views call these; they never filter by hand."""

from django.db.models import QuerySet
from django.http import Http404
from guardian.shortcuts import get_objects_for_user

from portal.audit import audit_record

from .models import AuthorizedRequester, Department, Grant, User


def departments_for(user: User) -> QuerySet[Department]:
    """Departments whose people and requests the user acts on: the guardian object permission,
    never a model-wide one (accept_global_perms would return every department)."""
    if not user.is_authenticated:
        return Department.objects.none()
    return get_objects_for_user(
        user, "accounts.act_for_department", klass=Department, accept_global_perms=False, with_superuser=False
    )


def people_visible_to(user: User) -> QuerySet[User]:
    if not user.is_authenticated:
        return User.objects.none()
    if user.roles.is_itsa:
        return User.objects.all()
    return User.objects.filter(department__in=departments_for(user))


def grants_visible_to(user: User) -> QuerySet[Grant]:
    if not user.is_authenticated:
        return Grant.objects.none()
    if user.roles.is_itsa:
        return Grant.objects.all()
    return Grant.objects.filter(department__in=departments_for(user))


def requesters_visible_to(user: User) -> QuerySet[AuthorizedRequester]:
    if not user.is_authenticated:
        return AuthorizedRequester.objects.none()
    if user.roles.is_itsa:
        return AuthorizedRequester.objects.all()
    return AuthorizedRequester.objects.filter(department__in=departments_for(user))


def get_or_404_logged(queryset: QuerySet, *, user: User, pk, what: str):
    """Return the object if the user may see it; otherwise answer 404 and record the attempt."""
    try:
        return queryset.get(pk=pk)
    except (queryset.model.DoesNotExist, ValueError, TypeError):
        if queryset.model._default_manager.filter(pk=pk).exists():
            audit_record(actor=user, action=f"{what}.view", target=f"{what} {pk}", outcome="denied")
        raise Http404(f"No {what} here.")
