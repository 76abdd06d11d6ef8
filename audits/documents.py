"""The printed records of this app: the validation attestation and the reports, as PDF (portal.pdf)."""

from collections import Counter

from django.utils import timezone
from django.utils.formats import date_format

from portal.pdf import Document, render_document

from .models import Validation, ValidationItem
from .selectors import validation_items


def _entry(item: ValidationItem, number: dict[int, int]) -> str:
    """One line of the attestation, as plain text (the template escapes it). Written here rather than
    in the template: for 2,000 entries the template's lookups cost a third of a second."""
    grant = item.grant
    uses = ", ".join(f"U{number[use.pk]}" for use in grant.permissible_uses.all()) or "no use named"
    decision = item.get_decision_display()
    if item.new_role:
        decision += f" to {item.get_new_role_display().lower()}"
    if item.follow_up_id:
        decision += f" ({item.follow_up.reference})"
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
    sign-off (S3.4e/f). Made from the records each time: decisions do not change once taken."""
    items = list(validation_items(validation).select_related("grant__person", "grant__system"))
    counts = Counter(item.decision for item in items)
    tally = [(label, counts[value]) for value, label in ValidationItem.Decision.choices if counts[value]]
    # Each permissible use is printed once, numbered, and each entry cites the numbers: an entry then
    # fits on one line, and the layout time of a 2,000-entry attestation follows its lines.
    uses = sorted({use for item in items for use in item.grant.permissible_uses.all()},
                  key=lambda use: (use.intended_use.position, use.position, use.pk))
    number = {use.pk: index for index, use in enumerate(uses, start=1)}
    entries = [_entry(item, number) for item in items]
    return render_document("pdf/attestation.html", {
        "v": validation, "entries": entries, "uses": uses, "tally": tally, "generated_at": timezone.now(),
    })
