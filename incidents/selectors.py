"""The reads of incidents (Section 5.2): who sees which, and whether somebody is the reporter.
Rules live in incidents.services."""

import hmac

from django.db.models import QuerySet
from django.utils.crypto import salted_hmac

from accounts.models import User

from .models import Incident


DIGEST_SALT = "incident-reporter"


def reporter_digest(*, user: User, reference: str) -> str:
    """HMAC-SHA256, keyed from SECRET_KEY with its own salt, of the reporter's id and the reference:
    64 hex characters that tell whether somebody is the reporter without saying who is."""
    return salted_hmac(DIGEST_SALT, f"{user.pk}:{reference}", algorithm="sha256").hexdigest()


def is_reporter(*, incident: Incident, user: User) -> bool:
    if not getattr(user, "is_authenticated", False) or not incident.reporter_digest:
        return False
    return hmac.compare_digest(incident.reporter_digest, reporter_digest(user=user, reference=incident.reference))


def sees_every_incident(user: User) -> bool:
    """The Mayor's designees (who receive the reports), ITSA (who suspends accounts) and oversight (who
    reads, and never learns who made an anonymous report: nobody can)."""
    return getattr(user, "is_authenticated", False) and (user.roles.is_designee or user.roles.reads_every_department)


def people_to_name() -> QuerySet[User]:
    """Whom a report may name: every active person of the city. It says nothing about who holds
    access to what."""
    return (User.objects.filter(is_active=True, employment_status=User.EmploymentStatus.ACTIVE)
            .select_related("department").order_by("full_name", "email"))


def incidents_visible_to(user: User) -> QuerySet[Incident]:
    """Designees and ITSA see every incident; a named reporter sees their own report. The person
    concerned never sees an incident about them, whatever their role, nor does anybody else."""
    if not getattr(user, "is_authenticated", False):
        return Incident.objects.none()
    if sees_every_incident(user):
        incidents = Incident.objects.all()
    else:
        incidents = Incident.objects.filter(reported_by=user, anonymous=False)
    return incidents.exclude(person=user)
