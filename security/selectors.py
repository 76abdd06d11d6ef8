"""Reads of the security app, scoped to what a user may see."""

from django.db.models import QuerySet

from accounts.models import User

from .models import OversightAppointment


def oversight_appointments_visible_to(user: User) -> QuerySet[OversightAppointment]:
    """ITSA and the designees see every oversight appointment; an appointed person sees their own."""
    if not user.is_authenticated:
        return OversightAppointment.objects.none()
    if user.roles.is_itsa or user.roles.is_designee:
        return OversightAppointment.objects.all()
    return OversightAppointment.objects.filter(person=user)


def active_oversight_appointment(user: User) -> OversightAppointment | None:
    """The person's appointment in force, for their dashboard."""
    if not user.is_authenticated:
        return None
    return OversightAppointment.objects.filter(person=user, status=OversightAppointment.Status.ACTIVE).first()
