"""Separation of duties (3.2): the one home of the rule.

On one system, nobody holds an end-user grant and a staff grant (administrator, monitor,
auditor) at once. Called by the request services when a request is filed, approved and
provisioned, by the form preview, and by `sod_scan`.

Each conflict met is kept as a `SodFinding` for the reports (2.5): a refused request as
"prevented" (`sod_finding_record`), a conflict among existing accounts as "open" until the nightly
scan sees it gone (`sod_findings_scan`).
"""

from collections.abc import Iterable
from dataclasses import dataclass

from django.db import transaction
from django.db.models import Count, Q
from django.utils import timezone

from portal.audit import after_rollback, audit_record, lock_audit_chain

from .models import Grant, SodFinding, SurveillanceSystem, User


def is_staff_role(role: str) -> bool:
    return role in Grant.STAFF_ROLES


def _side(role: str) -> str:
    return "staff" if is_staff_role(role) else "end_user"


def sod_conflict(
    *,
    person: User,
    system: SurveillanceSystem,
    roles: Iterable[str],
    ignore_grant_ids: Iterable[int] = (),
    also_arriving: Iterable[str] = (),
) -> str | None:
    """Return why giving `person` these roles on `system` would break 3.2, or None.

    `roles` arrive in this change; `also_arriving` are roles already on their way (requests in
    flight); `ignore_grant_ids` are grants this change replaces or ends.
    """
    arriving = list(roles)
    sides = {_side(role) for role in arriving}
    if len(sides) > 1:
        return (
            f"{person} cannot be both an end user and a staff member (administrator, monitor or "
            f"auditor) of {system} (Section 3.2). Ask for one role only."
        )
    if not arriving:
        return None
    side = sides.pop()
    held = (
        Grant.objects.filter(person=person, system=system, status__in=Grant.LIVE_STATUSES)
        .exclude(pk__in=list(ignore_grant_ids))
        .values_list("role", flat=True)
    )
    for role in held:
        if _side(role) != side:
            return _message(person, system, held_role=role, side=side)
    for role in also_arriving:
        if _side(role) != side:
            return (
                f"{person} already has a request in flight for the {Grant.Role(role).label.lower()} "
                f"role on {system}; holding both sides at once breaks Section 3.2. Withdraw one of them."
            )
    return None


def _message(person, system, *, held_role: str, side: str) -> str:
    held = Grant.Role(held_role).label.lower()
    if side == "end_user":
        return (
            f"{person} is {_article(held)} {held} of {system}, so they cannot also be an end user of it "
            f"(Section 3.2: a system administrator never becomes an end user of a system they administer)."
        )
    return (
        f"{person} is an end user of {system}, so they cannot also administer, monitor or audit it "
        f"(Section 3.2). Remove their end-user access first."
    )


def _article(word: str) -> str:
    return "an" if word[:1] in "aeiou" else "a"


@dataclass(frozen=True)
class Violation:
    person: User
    system: SurveillanceSystem
    grants: list[Grant]

    def __str__(self):
        roles = ", ".join(f"{g.get_role_display()} ({g.account_name})" for g in self.grants)
        return f"{self.person} <{self.person.email}> on {self.system}: {roles}"


def sod_violations() -> list[Violation]:
    """Every person who holds both sides on one system right now (imported data, direct edits)."""
    live = Grant.objects.filter(status__in=Grant.LIVE_STATUSES)
    pairs = (
        live.values("person", "system")
        .annotate(
            end_user=Count("pk", filter=Q(role=Grant.Role.END_USER)),
            staff=Count("pk", filter=Q(role__in=Grant.STAFF_ROLES)),
        )
        .filter(end_user__gt=0, staff__gt=0)
    )
    keys = {(row["person"], row["system"]) for row in pairs}
    if not keys:
        return []
    by_key: dict[tuple[int, int], list[Grant]] = {}
    grants = live.filter(person__in={p for p, _ in keys}, system__in={s for _, s in keys}).select_related(
        "person", "system"
    )
    for grant in grants.order_by("person__full_name", "system__name", "role"):
        key = (grant.person_id, grant.system_id)
        if key in keys:
            by_key.setdefault(key, []).append(grant)
    return [Violation(person=g[0].person, system=g[0].system, grants=g) for g in by_key.values()]


def sod_finding_record(*, person: User, system: SurveillanceSystem, stage: str, detail: str) -> None:
    """Keep a refused conflict as a finding (S3.2a, S3.2b). The refusal rolls its transaction back,
    so the row is written after the rollback (portal.audit.after_rollback)."""
    department_id = person.department_id

    def write():
        SodFinding.objects.create(person_id=person.pk, system_id=system.pk, department_id=department_id, stage=stage,
                                  detail=detail, resolution=SodFinding.Resolution.PREVENTED)

    after_rollback(write)


def sod_findings_scan() -> tuple[int, int]:
    """Open a finding for each current violation that has no open one, and resolve the open
    findings whose person no longer holds both sides of the system. Returns (opened, resolved)."""
    with transaction.atomic():
        # The audit chain's lock, taken first as by every audited change, also puts two scans in
        # order: the second sees the findings the first opened.
        lock_audit_chain()
        violations = {(v.person.pk, v.system.pk): v for v in sod_violations()}
        open_findings = SodFinding.objects.filter(resolution=SodFinding.Resolution.OPEN)
        still_open, gone = set(), []
        for pk, person_id, system_id in open_findings.values_list("pk", "person_id", "system_id"):
            if (person_id, system_id) in violations:
                still_open.add((person_id, system_id))
            else:
                gone.append(pk)
        resolved = SodFinding.objects.filter(pk__in=gone).update(
            resolution=SodFinding.Resolution.RESOLVED, resolved_at=timezone.now()
        )
        opened = SodFinding.objects.bulk_create([
            SodFinding(person=v.person, system=v.system, department_id=v.person.department_id,
                       stage=SodFinding.Stage.SCAN, detail=_scan_detail(v), resolution=SodFinding.Resolution.OPEN)
            for key, v in violations.items() if key not in still_open
        ])
        if opened or resolved:
            audit_record(actor=None, action="sod.scan", detail=f"{len(opened)} findings opened, {resolved} resolved")
    return len(opened), resolved


def _scan_detail(violation: Violation) -> str:
    roles = ", ".join(grant.get_role_display().lower() for grant in violation.grants)
    return f"{violation.person} holds both sides of {violation.system} at once: {roles} (Section 3.2)."
