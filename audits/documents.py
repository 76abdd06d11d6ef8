"""The printed records of this app: the validation attestation and the reports, as PDF (portal.pdf)."""

import logging
from collections import Counter

from django.core.files.base import ContentFile
from django.db import transaction
from django.utils import timezone
from django.utils.formats import date_format

from portal.audit import audit_record, lock_audit_chain
from portal.errors import RuleViolation
from portal.pdf import Document, render_document, stored_file_matches

from .models import Validation, ValidationItem
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


def _entry(item: ValidationItem, number: dict[int, int]) -> str:
    """One line of the attestation, as plain text (the template escapes it). Written here because the
    template's lookups slowed a large attestation (bench/README.md, "What made the attestation fit")."""
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
    if item.decided_by_id:
        decided = item.decided_by.full_name
        if item.decided_at:
            decided += f", {date_format(timezone.localtime(item.decided_at), 'j M Y')}"
    else:
        decided = "not decided"
    return (f"{grant.person.full_name} ({grant.account_name}) — {grant.system.name}, "
            f"{grant.get_role_display().lower()} — {uses} — {decision} — {decided}")


def attestation_document(*, validation: Validation) -> Document:
    """Department, period, each person and grant with the decision and who decided, and the head's
    sign-off (S3.4e/f), made from the records as they are now. A signed validation's attestation is
    made once and kept (attestation_freeze); an open one prints the decisions so far."""
    items = list(validation_items(validation).select_related("grant__person", "grant__system"))
    counts = Counter(_decision_label(item) for item in items)
    labels = [label for _, label in ValidationItem.Decision.choices] + [NOT_KEPT]
    tally = [(label, counts[label]) for label in labels if counts[label]]
    # Each permissible use is printed once, numbered, and each entry cites the numbers: an entry then
    # fits on one line, and WeasyPrint's time follows the number of lines.
    uses = sorted({use for item in items for use in item.grant.permissible_uses.all()},
                  key=lambda use: (use.intended_use.position, use.position, use.pk))
    number = {use.pk: index for index, use in enumerate(uses, start=1)}
    entries = [_entry(item, number) for item in items]
    return render_document("pdf/attestation.html", {
        "v": validation, "entries": entries, "uses": uses, "tally": tally, "generated_at": timezone.now(),
    })


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
    # Rendered before the row is locked: a large department's takes seconds.
    document = attestation_document(validation=validation)
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


def kept_attestation_is_intact(validation: Validation) -> bool:
    """The kept attestation still matches the SHA-256 taken when it was made."""
    return stored_file_matches(validation.attestation_pdf, validation.attestation_sha256)
