"""Versions of the policy and their change log (Section 2.4).

The Chief Technology Officer or another Mayoral designee maintains the policy: only the Mayor's
designee publishes a version. A version with a substantive revision (one that adds, alters or
eliminates an intended use, permissible use or condition) is published only once the Mayor has
approved it and the Board of Aldermen has been notified; a version of non-substantive changes needs
neither. A published version, with its change log, never changes again.

Publishing a substantive version e-mails the Board of Aldermen its substantive changes
(BOARD_OF_ALDERMEN_EMAIL) and records the notice on the version and in the audit trail (S2.4b). Where
that address is not set, the portal cannot notify the Board: publishing is refused unless the date the
Board was notified otherwise is entered, and the audit trail records that the portal sent nothing.
"""

from django.conf import settings
from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.utils import timezone

from .audit import audit_record, audit_refusal, service_transaction
from .emails import email_send
from .errors import NotAllowed, RuleViolation
from .models import PolicyChange, PolicyVersion


def may_maintain_policy(person) -> bool:
    """Drafting a version: the Mayor's designee, and ITSA, who keep the portal's records."""
    roles = person.roles
    return roles.is_designee or roles.is_itsa


def may_publish_policy(person) -> bool:
    return person.roles.is_designee


def _validated(obj) -> None:
    try:
        obj.full_clean()
    except ValidationError as error:
        field, messages = next(iter(error.message_dict.items()))
        raise RuleViolation(" ".join(messages), field=None if field == NON_FIELD_ERRORS else field) from error


def _text(value: str) -> str:
    # PostgreSQL refuses NUL in text.
    return (value or "").replace("\x00", "").strip()


def _locked_draft(version: PolicyVersion, *, by, action: str) -> PolicyVersion:
    version = PolicyVersion.objects.select_for_update().get(pk=version.pk)
    if not may_maintain_policy(by):
        audit_refusal(actor=by, action=action, target=version)
        raise NotAllowed("Only the Mayor's designee or ITSA can draft a version of the policy.")
    if version.is_published:
        audit_refusal(actor=by, action=action, target=version, outcome="refused")
        raise RuleViolation(f"Version {version.number} is published and can no longer change: "
                            "draft a new version for further changes.")
    return version


@service_transaction
def policy_version_save(*, version: PolicyVersion, by) -> PolicyVersion:
    """Create a draft version or change a draft's text and dates; a published version is refused."""
    action = "policy_version.save"
    if version.pk is not None:
        _locked_draft(version, by=by, action=action)
    elif not may_maintain_policy(by):
        audit_refusal(actor=by, action=action, target=f"Policy version {version.number}")
        raise NotAllowed("Only the Mayor's designee or ITSA can draft a version of the policy.")
    version.status = PolicyVersion.Status.DRAFT
    version.published_at = version.published_by = None
    _validated(version)
    version.save()
    audit_record(actor=by, action=action, target=version)
    return version


@service_transaction
def policy_change_add(*, version: PolicyVersion, section: str, description: str, substantive: bool,
                      by) -> PolicyChange:
    """Add an entry to a draft's change log; the log of a published version is closed."""
    version = _locked_draft(version, by=by, action="policy_change.add")
    change = PolicyChange(version=version, section=_text(section), description=_text(description),
                          substantive=substantive)
    _validated(change)
    change.save()
    audit_record(actor=by, action="policy_change.add", target=version,
                 detail=f"{'substantive' if substantive else 'non-substantive'} change to {change.section}")
    return change


def _next_number() -> str:
    """"1.0" for the first version; then the number after the newest version's ("1.0" → "1.1"), or
    today's date when that is not of the form major.minor."""
    numbers = set(PolicyVersion.objects.values_list("number", flat=True))
    newest = PolicyVersion.objects.order_by("-pk").values_list("number", flat=True).first()
    if newest is None:
        return "1.0"
    major, _, minor = newest.partition(".")
    candidate = f"{major}.{int(minor) + 1}" if major.isdigit() and minor.isdigit() else f"{timezone.localdate():%Y.%m.%d}"
    while candidate in numbers:
        head, _, tail = candidate.rpartition(".")
        candidate = f"{head}.{int(tail) + 1}"
    return candidate


@service_transaction
def policy_substantive_change_propose(*, section: str, description: str, by) -> PolicyChange:
    """Enter a substantive change the Mayor has approved outside a version, such as a waiver longer
    than 30 days (5.1: "incorporated into this policy as a material substantive change"), in the
    change log of the newest draft, drafting the next version when there is none. The designee
    publishes it as any other version, once the Board of Aldermen has been notified."""
    draft = PolicyVersion.objects.select_for_update().filter(status=PolicyVersion.Status.DRAFT).order_by("-pk").first()
    if draft is None:
        current = current_policy_version()
        draft = policy_version_save(version=PolicyVersion(
            number=_next_number(),
            title=current.title if current else "Executive order on the use of surveillance systems",
            summary="Substantive changes the Mayor approved since the last version, among them waivers longer "
                    "than 30 days (Section 5.1).",
            effective_on=timezone.localdate(),
        ), by=by)
    return policy_change_add(version=draft, section=section, description=description, substantive=True, by=by)


@service_transaction
def policy_change_remove(*, change: PolicyChange, by) -> None:
    """Take an entry out of a draft's change log."""
    version = _locked_draft(change.version, by=by, action="policy_change.remove")
    PolicyChange.objects.filter(pk=change.pk, version=version).delete()
    audit_record(actor=by, action="policy_change.remove", target=version, detail=f"change to {change.section}")


@service_transaction
def policy_version_delete(*, version: PolicyVersion, by) -> None:
    """Throw a draft away with its change log; a published version stays on record."""
    version = _locked_draft(version, by=by, action="policy_version.delete")
    audit_record(actor=by, action="policy_version.delete", target=version)
    version.delete()


@service_transaction
def policy_version_publish(*, version: PolicyVersion, by) -> PolicyVersion:
    """Publish a version (S2.4). Only the Mayor's designee publishes; a substantive revision needs
    the Mayor's approval first, and the Board of Aldermen is e-mailed its substantive changes on
    publishing (S2.4b), or, without the Board's address, must have been notified before."""
    version = PolicyVersion.objects.select_for_update().get(pk=version.pk)
    if not may_publish_policy(by):
        audit_refusal(actor=by, action="policy_version.publish", target=version)
        raise NotAllowed("Only the Mayor's designee can publish a version of the policy.")
    if version.is_published:
        return version
    if not version.changes.exists():
        audit_refusal(actor=by, action="policy_version.publish", target=version, outcome="refused",
                      detail="no change")
        raise RuleViolation(f"Version {version.number} has no change in its log: add its changes before "
                            "publishing it.")
    substantive = version.has_substantive_change
    address = settings.BOARD_OF_ALDERMEN_EMAIL
    if substantive:
        # The portal's notice on publishing tells the Board; without an address, only a notice given
        # otherwise, entered with its date, does.
        missing = []
        if version.mayor_approved_on is None:
            missing.append("the date the Mayor approved it")
        if version.aldermen_notified_on is None and not address:
            missing.append("the date the Board of Aldermen was notified")
        if missing:
            audit_refusal(actor=by, action="policy_version.publish", target=version, outcome="refused",
                          detail="substantive revision without " + " and ".join(missing))
            unsent = "" if address else (
                " The portal cannot notify the Board itself: BOARD_OF_ALDERMEN_EMAIL, the Board's e-mail address, "
                "is not set."
            )
            raise RuleViolation(
                f"Version {version.number} has a substantive revision: the Mayor must approve it and the Board of "
                f"Aldermen must be notified before it is published. Enter {' and '.join(missing)}.{unsent}"
            )
    version.status = PolicyVersion.Status.PUBLISHED
    version.published_at = timezone.now()
    version.published_by = by
    version.save(update_fields=["status", "published_at", "published_by"])
    audit_record(actor=by, action="policy_version.publish", target=version,
                 detail="substantive" if substantive else "non-substantive")
    if substantive:
        _aldermen_notify(version, address=address, by=by)
    return version


def _aldermen_notify(version: PolicyVersion, *, address: str, by) -> None:
    """Tell the Board of Aldermen of a published version's substantive changes (S2.4b), in the
    publishing transaction: the mail leaves once it commits. Recorded in the audit trail either way."""
    if not address:
        audit_record(actor=by, action="policy_version.aldermen_notice_not_sent", target=version,
                     detail="BOARD_OF_ALDERMEN_EMAIL is not set; the Board was notified on "
                            f"{version.aldermen_notified_on:%Y-%m-%d}, as entered")
        return
    changes = [change for change in version.changes.all() if change.substantive]
    email_send("aldermen-notice", to=[address], context={"version": version, "changes": changes})
    fields = ["aldermen_notice_sent_at"]
    version.aldermen_notice_sent_at = timezone.now()
    if version.aldermen_notified_on is None:
        version.aldermen_notified_on = timezone.localdate(version.aldermen_notice_sent_at)
        fields.append("aldermen_notified_on")
    version.save(update_fields=fields)
    audit_record(actor=by, action="policy_version.aldermen_notice", target=version,
                 detail=f"sent to {address}: {len(changes)} substantive change(s)")


def published_policy_versions():
    """Every published version, newest first, with its change log."""
    return PolicyVersion.objects.filter(status=PolicyVersion.Status.PUBLISHED).prefetch_related("changes")


def current_policy_version() -> PolicyVersion | None:
    """The version in force: the published one with the latest effective date not in the future."""
    return (
        published_policy_versions().filter(effective_on__lte=timezone.localdate())
        .order_by("-effective_on", "-published_at", "-id").first()
    )
