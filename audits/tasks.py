"""Thin tasks: the daily schedule of validations. Each calls one service."""

from celery import shared_task

from . import services
from .models import Validation


@shared_task
def open_due_validations() -> int:
    return len(services.open_due_validations())


@shared_task
def send_validation_reminders() -> int:
    return services.send_reminders()


@shared_task
def handle_validation_non_response() -> int:
    return services.handle_non_response()


@shared_task
def freeze_attestation(validation_id: int) -> bool:
    """The attestation of a validation just signed, made once and kept (audits.documents)."""
    from .documents import attestation_freeze

    return bool(attestation_freeze(validation_id=validation_id).attestation_sha256)


@shared_task
def make_attestation_copy(validation_id: int) -> bool:
    """A copy of an open validation's attestation with the decisions so far (audits.documents)."""
    from .documents import attestation_copy_make

    copy = attestation_copy_make(validation_id=validation_id)
    return bool(copy and copy.made_at and not copy.is_pending)


@shared_task
def freeze_missing_attestations() -> int:
    from .documents import attestations_freeze_missing

    return attestations_freeze_missing()


@shared_task
def refresh_signed_off_validations() -> int:
    done = 0
    for validation in Validation.objects.filter(status=Validation.Status.SIGNED_OFF):
        done += services.validation_refresh(validation=validation).status == Validation.Status.COMPLETE
    return done


@shared_task
def publish_audit_anchors() -> int:
    """Each night, the audit trail's last entry of the day before, kept as an anchor and mailed to
    ITSA (portal.audit). The anchors are published on the transparency page. Returns how many were new."""
    from accounts.models import ITSA_GROUP
    from accounts.selectors import emails_of
    from portal.audit import audit_anchors_publish

    return len(audit_anchors_publish(to=emails_of(ITSA_GROUP)))
