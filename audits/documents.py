"""The printed records of this app: the validation attestation and the reports, as PDF (portal.pdf)."""

import logging
from collections import Counter
from dataclasses import dataclass

from datetime import timedelta

from django.conf import settings
from django.core.files.base import ContentFile
from django.db import transaction
from django.utils import timezone
from django.utils.formats import date_format

from portal.audit import audit_record, lock_audit_chain
from portal.errors import RuleViolation
from portal.pdf import Document, render_document, stored_file_matches

from .models import AttestationCopy, Validation, ValidationItem
from .selectors import outgoing_request_for, validation_items

logger = logging.getLogger(__name__)


# How the attestation names an item kept before a removal or suspension of its grant was filed: the
# sign-off waits until it is revoked, but an open validation's copy prints the decisions so far.
NOT_KEPT = "Not kept: removal or suspension open"


def _decision_label(item: ValidationItem) -> str:
    """The decision as the attestation tallies it: never "Keep" for a grant on its way out."""
    if item.decision == ValidationItem.Decision.KEEP and item.grant.is_live and outgoing_request_for(item.grant):
        return NOT_KEPT
    return item.get_decision_display()


@dataclass(frozen=True)
class Row:
    """One grant of the attestation's table, its cells as plain text (the template escapes them).
    Written here because the template's lookups slowed a large attestation (bench/README.md)."""

    grant: str
    system: str
    decision: str
    decided_by: str
    decided_on: str


def _row(item: ValidationItem, number: dict[int, int]) -> Row:
    grant = item.grant
    uses = ", ".join(f"U{number[use.pk]}" for use in grant.permissible_uses.all()) or "no use named"
    decision = item.get_decision_display()
    if item.new_role:
        decision += f" to {item.get_new_role_display().lower()}"
    if item.follow_up_id:
        decision += f" ({item.follow_up.reference})"
    outgoing = outgoing_request_for(grant) if grant.is_live else None
    if outgoing is not None and outgoing.pk != item.follow_up_id:
        what = f"{'removal' if outgoing.action == outgoing.Action.REMOVE else 'suspension'} {outgoing.reference} open"
        decision = f"Not kept: {what}" if _decision_label(item) == NOT_KEPT else f"{decision}; {what}"
    if item.reason:
        decision += f": “{item.reason}”"
    decided_on = date_format(timezone.localtime(item.decided_at), "j M Y") if item.decided_by_id and item.decided_at else ""
    return Row(grant=f"{grant.person.full_name} ({grant.account_name})",
               system=f"{grant.system.name}, {grant.get_role_display().lower()}; {uses}",
               decision=decision, decided_by=item.decided_by.full_name if item.decided_by_id else "",
               decided_on=decided_on)


def attestation_document(*, validation: Validation, seconds: float | None = None) -> Document:
    """Department, period, each person and grant with the decision and who decided, and the head's
    sign-off (S3.4e/f), made from the records as they are now: a table of one row a grant. A signed
    validation's attestation is made once and kept (attestation_freeze); an open one's copy prints
    the decisions so far (attestation_copy_make). Both on a worker: a table of thousands of rows takes
    WeasyPrint tens of seconds, so `seconds` lets a worker allow it more than a request's limit."""
    items = list(validation_items(validation).select_related("grant__person", "grant__system"))
    counts = Counter(_decision_label(item) for item in items)
    labels = [label for _, label in ValidationItem.Decision.choices] + [NOT_KEPT]
    tally = [(label, counts[label]) for label in labels if counts[label]]
    # Each permissible use is printed once, numbered, and each row cites the numbers: a row then
    # stays on one line, and WeasyPrint's time follows the lines it lays out.
    uses = sorted({use for item in items for use in item.grant.permissible_uses.all()},
                  key=lambda use: (use.intended_use.position, use.position, use.pk))
    number = {use.pk: index for index, use in enumerate(uses, start=1)}
    rows = [_row(item, number) for item in items]
    return render_document("pdf/attestation.html", {
        "v": validation, "rows": rows, "uses": uses, "tally": tally, "generated_at": timezone.now(),
    }, seconds=seconds)


def attestation_freeze(*, validation_id: int) -> Validation:
    """Make the attestation of a signed validation once and keep it with its SHA-256 (S3.4e/f): the
    record then stays as it was signed, whatever later happens to the names, systems and requests it
    shows, and a department of thousands of grants downloads it without waiting for the render. Runs
    on a worker after the sign-off commits (audits.tasks.freeze_attestation), and nightly for any
    signed validation still without one. An open validation is not frozen; a frozen one is left alone."""
    validation = Validation.objects.select_related("department__head", "system", "opened_by",
                                                   "signed_off_by").get(pk=validation_id)
    if validation.status == Validation.Status.OPEN or validation.attestation_sha256:
        return validation
    # Rendered before the row is locked: a large department's takes a worker tens of seconds.
    document = attestation_document(validation=validation, seconds=settings.PDF_WORKER_RENDER_SECONDS)
    with transaction.atomic():
        lock_audit_chain()
        validation = Validation.objects.select_for_update().get(pk=validation_id)
        if validation.attestation_sha256:
            return validation  # another run kept one first
        validation.attestation_pdf.save("attestation.pdf", ContentFile(document.content), save=False)
        validation.attestation_sha256 = document.sha256
        validation._change_reason = "attestation kept"
        validation.save(update_fields=["attestation_pdf", "attestation_sha256"])
        audit_record(actor=None, action="validation.attestation_kept", target=validation,
                     detail=f"SHA-256 {document.sha256}")
        # A copy of the decisions before the sign-off is no record: the kept attestation replaces it.
        for copy in AttestationCopy.objects.filter(validation_id=validation_id):
            _delete_file_after_commit(copy.pdf)
            copy.delete()
    return validation


def attestations_freeze_missing() -> int:
    """Keep the attestation of every signed validation that has none (a task lost while the broker
    was down, or a validation signed before attestations were kept). Returns how many were kept."""
    missing = (Validation.objects.exclude(status=Validation.Status.OPEN).filter(attestation_sha256="")
               .order_by("pk").values_list("pk", flat=True))
    kept = 0
    for pk in missing:
        try:
            kept += bool(attestation_freeze(validation_id=pk).attestation_sha256)
        except RuleViolation as refusal:  # one that cannot be made in time does not stop the others
            logger.warning("attestation of validation %s not kept: %s", pk, refusal)
    return kept


# A copy asked for and not made after this long is taken as lost (a worker restarted, the broker was
# down): asking again then sends it to a worker again.
COPY_LOST_AFTER = timedelta(minutes=10)


def attestation_request(*, validation: Validation, by) -> AttestationCopy | None:
    """Ask a worker for the attestation a person wants to download (S3.4e/f). Signed and kept: nothing to
    do. Signed and not kept yet (the worker's task lost): the kept one is made again. Open: a copy with
    the decisions so far, replacing the last copy; asking while one is being made adds nothing, unless
    it looks lost. The task is sent once the request is committed."""
    if validation.attestation_sha256:
        return None
    now = timezone.now()
    with transaction.atomic():
        lock_audit_chain()
        if not validation.is_open:
            audit_record(actor=by, action="validation.attestation_requested", target=validation,
                         detail="the signed attestation")
            transaction.on_commit(lambda: _enqueue("freeze_attestation", validation.pk))
            return None
        copy, created = AttestationCopy.objects.select_for_update().get_or_create(
            validation=validation, defaults={"requested_at": now, "requested_by": by})
        if not created and copy.is_pending and copy.requested_at > now - COPY_LOST_AFTER:
            return copy  # one is being made: it shows the records as they are when the worker reads them
        copy.requested_at, copy.requested_by, copy.failure = now, by, ""
        copy.save(update_fields=["requested_at", "requested_by", "failure"])
        audit_record(actor=by, action="validation.attestation_requested", target=validation,
                     detail="a copy of the decisions so far")
        transaction.on_commit(lambda: _enqueue("make_attestation_copy", validation.pk))
    return copy


def _enqueue(task_name: str, validation_id: int) -> None:
    from . import tasks

    getattr(tasks, task_name).delay(validation_id)


def attestation_copy_make(*, validation_id: int) -> AttestationCopy | None:
    """Make the copy asked for (attestation_request) from the records as they are now, and keep it in
    place of the last one. Nothing is made for a validation signed meanwhile: its kept attestation is."""
    copy = AttestationCopy.objects.select_related("validation").filter(validation_id=validation_id).first()
    if copy is None or not copy.validation.is_open:
        return copy
    read_at = timezone.now()
    validation = Validation.objects.select_related("department__head", "system", "opened_by",
                                                   "signed_off_by").get(pk=validation_id)
    try:
        document = attestation_document(validation=validation, seconds=settings.PDF_WORKER_RENDER_SECONDS)
    except RuleViolation as refusal:
        logger.warning("attestation copy of validation %s not made: %s", validation_id, refusal)
        # Said on the page unless somebody has asked again since; then that request's copy answers.
        what = str(refusal).split(". ")[0].rstrip(".")
        AttestationCopy.objects.filter(pk=copy.pk, requested_at__lte=read_at).update(
            failure=f"{what}. Ask for a new copy; if it fails again, tell ITSA.")
        copy.refresh_from_db()
        return copy
    with transaction.atomic():
        copy = AttestationCopy.objects.select_for_update().get(pk=copy.pk)
        old = copy.pdf.name
        copy.pdf.save("attestation.pdf", ContentFile(document.content), save=False)
        copy.made_at = read_at
        copy.save(update_fields=["pdf", "made_at"])
        if old:
            _delete_file_after_commit(copy.pdf, name=old)
    return copy


def _delete_file_after_commit(field_file, *, name: str | None = None) -> None:
    name = name or field_file.name
    if name:
        storage = field_file.storage
        transaction.on_commit(lambda: storage.delete(name))


def kept_attestation_is_intact(validation: Validation) -> bool:
    """The kept attestation still matches the SHA-256 taken when it was made."""
    return stored_file_matches(validation.attestation_pdf, validation.attestation_sha256)
