"""Separation of duties (3.2): the one home of the rule.

On one system, nobody holds an end-user grant and a staff grant (administrator, monitor,
auditor) at once. Called by the request services when a request is filed, approved and
provisioned, by the form preview, and by `sod_scan`.

Creating, changing or removing accounts on a system is administering it (S3.2c): nobody does it on
a system they hold end-user access to (`holds_end_user_access`), nor for themselves. The request
services refuse it at provisioning; `administered_accounts` finds it in the grants' history.

Each conflict met is kept as a `SodFinding` for the reports (2.5): a refused request as
"prevented" (`sod_finding_record`), a conflict among existing accounts as "open" until the nightly
scan sees it gone (`sod_findings_scan`).
"""

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime

from django.db import transaction
from django.db.models import Count, Exists, F, OuterRef, Q, QuerySet
from django.utils import timezone

from portal.audit import after_rollback, audit_record, lock_audit_chain

from .models import OVERSIGHT_GROUP, Grant, SodFinding, SurveillanceSystem, User


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
    if arriving and person.groups.filter(name=OVERSIGHT_GROUP).exists():
        return (
            f"{person} reads every department's records for oversight, so they cannot also hold access to "
            f"{system} (Section 3.2: nobody audits a system they have access to). End their oversight "
            f"appointment first."
        )
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
    """Keep a refused conflict as a finding (S3.2a, S3.2b, S3.2c). The refusal rolls its transaction back,
    so the row is written after the rollback (portal.audit.after_rollback)."""
    department_id = person.department_id

    def write():
        SodFinding.objects.create(person_id=person.pk, system_id=system.pk, department_id=department_id, stage=stage,
                                  detail=detail, resolution=SodFinding.Resolution.PREVENTED)

    after_rollback(write)


def sod_findings_scan() -> tuple[int, int]:
    """Open a finding for each current violation that has no open one, and resolve the open
    findings whose person no longer holds both sides of the system; keep each newly found
    administered account (S3.2c) as a finding, and resolve those whose conflict is gone.
    Returns (found, resolved)."""
    with transaction.atomic():
        # The audit chain's lock, taken first as by every audited change, also puts two scans in
        # order: the second sees the findings the first opened.
        lock_audit_chain()
        violations = {(v.person.pk, v.system.pk): v for v in sod_violations()}
        open_findings = SodFinding.objects.filter(resolution=SodFinding.Resolution.OPEN).exclude(
            stage=SodFinding.Stage.ADMINISTERED)
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
        found, administered_resolved = _administered_findings_scan()
        found += len(opened)
        resolved += administered_resolved
        if found or resolved:
            audit_record(actor=None, action="sod.scan", detail=f"{found} findings opened, {resolved} resolved")
    return found, resolved


def _scan_detail(violation: Violation) -> str:
    roles = ", ".join(grant.get_role_display().lower() for grant in violation.grants)
    return f"{violation.person} holds both sides of {violation.system} at once: {roles} (Section 3.2)."


# --- Administering accounts (S3.2c) -------------------------------------------------------------

def end_user_grants(*, system: SurveillanceSystem) -> QuerySet[Grant]:
    """Who holds end-user access to `system` now: its live end-user grants."""
    return Grant.objects.filter(system=system, role=Grant.Role.END_USER, status__in=Grant.LIVE_STATUSES)


def holds_end_user_access(*, person: User, system: SurveillanceSystem) -> bool:
    """Whether `person` holds end-user access to `system` now, so may not create, change or remove
    accounts on it (S3.2c). Section 3.2 bars "an end user" from administering "the system to which
    they have been granted access": a live end-user grant, active or suspended (a suspension is
    lifted without a new request), view-only or not. A staff grant does not count: administering the
    system is what an administrator is for, and S3.2b keeps them from being its end user."""
    return end_user_grants(system=system).filter(person=person).exists()


def administering_problem(*, person: User, system: SurveillanceSystem) -> str | None:
    """Why `person` may not create, change, suspend or remove accounts on `system` (S3.2c), or None:
    the one wording every place that administers accounts gives."""
    if holds_end_user_access(person=person, system=system):
        return (f"You hold end-user access to {system}: creating, changing or removing accounts on it is "
                "administering it (Section 3.2). Another member of ITSA must do it.")
    return None


@dataclass(frozen=True)
class AccountAct:
    """One change of an account, from the grant's history: who, what, when, and why it counts."""

    verb: str  # created, changed, suspended, reinstated, removed
    at: datetime
    own: bool
    as_end_user: bool


@dataclass
class AdministeredAccount:
    """An account (`grant`) that `person` created, changed or removed while holding end-user access
    to its system, or that was their own (S3.2c)."""

    person: User
    grant: Grant
    acts: list[AccountAct] = field(default_factory=list)

    @property
    def own(self) -> bool:
        return any(act.own for act in self.acts)

    @property
    def as_end_user(self) -> bool:
        return any(act.as_end_user for act in self.acts)

    def conflict_lasts(self) -> bool:
        """The finding stays open while what made the change a conflict is still there: the person's
        end-user access to the system, or their own account."""
        if self.own and self.grant.is_live:
            return True
        return self.as_end_user and holds_end_user_access(person=self.person, system=self.grant.system)

    def __str__(self):
        acts = _in_words([f"{act.verb} ({timezone.localtime(act.at):%-d %B %Y})" for act in self.acts])
        whose = "their own" if self.own else f"{self.grant.person}'s"
        held = " while holding end-user access to it" if self.as_end_user else ""
        why = "creating, changing or removing accounts on a system is administering it"
        if self.own:
            why += ", and nobody does it for themselves" if self.as_end_user else ": nobody does it for themselves"
        return (f"{self.person} {acts} {whose} account “{self.grant.account_name}” on {self.grant.system}{held} "
                f"(Section 3.2: {why}).")


def _in_words(items: list[str]) -> str:
    return items[0] if len(items) == 1 else f"{', '.join(items[:-1])} and {items[-1]}"


def _live_at(at) -> Q:
    """A grant live at `at`, as far as its dates tell: provisioned, and not yet removed."""
    return Q(provisioned_at__lte=at) & (Q(ended_at__isnull=True) | Q(ended_at__gt=at))


def _held_end_user_access_at(*, person_id: int, system_id: int, at: datetime, besides: int) -> bool:
    """Whether the person held a live end-user grant on the system, other than grant `besides`, at `at`.

    The grant's dates (provisioned_at, ended_at) say when it was live; its history says its role and
    status at that moment, since a role can change in place. A grant with no history from before
    `at` (imported, or recorded within the same instant) is taken with its present role."""
    grants = Grant.objects.filter(_live_at(at), person_id=person_id, system_id=system_id).exclude(pk=besides)
    for grant in grants:
        state = grant.history.filter(history_date__lte=at).order_by("-history_date", "-history_id").first()
        if state is not None:
            role, status = state.role, state.status
        else:
            role, status = grant.role, Grant.Status.ACTIVE if grant.ended_at else grant.status
        if role == Grant.Role.END_USER and status in Grant.LIVE_STATUSES:
            return True
    return False


_STATUS_VERBS = {
    Grant.Status.REMOVED: "removed", Grant.Status.SUSPENDED: "suspended", Grant.Status.ACTIVE: "reinstated",
}


def _verb(row, previous) -> str | None:
    """What a history row of a grant did, or None when it is the second write of the same change:
    a grant's uses are set just after it is saved, which the history keeps as a row of its own."""
    if row.history_type == "-":
        return "removed"
    if previous is None:
        return "changed"
    if previous.status != row.status:
        return _STATUS_VERBS[row.status]
    same_write = (
        previous.history_user_id == row.history_user_id
        and previous.history_change_reason == row.history_change_reason
        and (previous.role, previous.account_name) == (row.role, row.account_name)
    )
    return None if same_write else "changed"


def administered_accounts() -> list[AdministeredAccount]:
    """Every account created, changed or removed by a person who held end-user access to its
    system at that moment, or by its own holder (S3.2c), oldest first.

    Who and when come from the records: the creation is the grant's provisioned_by and
    provisioned_at; every later change is a row of the grant's history, with the person it names
    (changes made by the portal itself, at night, name nobody and do not count). Whether the person
    held end-user access then is read from their grants' dates and history
    (`_held_end_user_access_at`): as exact as those records, to the instant."""
    found: dict[tuple[int, int], AdministeredAccount] = {}

    def note(person_id: int, grant: Grant, act: AccountAct) -> None:
        key = (person_id, grant.pk)
        if key not in found:
            found[key] = AdministeredAccount(person=User.objects.get(pk=person_id), grant=grant)
        found[key].acts.append(act)

    held_when_created = Grant.objects.filter(
        _live_at(OuterRef("provisioned_at")), person=OuterRef("provisioned_by"), system=OuterRef("system"),
    ).exclude(pk=OuterRef("pk"))
    created = Grant.objects.filter(Q(provisioned_by=F("person")) | Exists(held_when_created))
    for grant in created.select_related("person", "system"):
        own = grant.provisioned_by_id == grant.person_id
        as_end_user = _held_end_user_access_at(person_id=grant.provisioned_by_id, system_id=grant.system_id,
                                               at=grant.provisioned_at, besides=grant.pk)
        if own or as_end_user:
            note(grant.provisioned_by_id, grant, AccountAct("created", grant.provisioned_at, own, as_end_user))

    History = Grant.history.model
    held_when_changed = Grant.objects.filter(
        _live_at(OuterRef("history_date")), person=OuterRef("history_user"), system=OuterRef("system"),
    ).exclude(pk=OuterRef("id"))
    changes = (
        History.objects.exclude(history_type="+").filter(history_user__isnull=False)
        .filter(Q(history_user=F("person")) | Exists(held_when_changed))
    )
    grants = {}
    for row in changes.order_by("history_date", "history_id"):
        verb = _verb(row, row.prev_record)
        if verb is None:
            continue
        own = row.history_user_id == row.person_id
        as_end_user = _held_end_user_access_at(person_id=row.history_user_id, system_id=row.system_id,
                                               at=row.history_date, besides=row.id)
        if own or as_end_user:
            if row.id not in grants:
                grants[row.id] = Grant.objects.select_related("person", "system").get(pk=row.id)
            note(row.history_user_id, grants[row.id], AccountAct(verb, row.history_date, own, as_end_user))

    accounts = list(found.values())
    for account in accounts:
        account.acts.sort(key=lambda act: act.at)
    return sorted(accounts, key=lambda account: (account.acts[0].at, account.person.pk, account.grant.pk))


def _administered_findings_scan() -> tuple[int, int]:
    """Keep each administered account as a finding, once per person and account, open while its
    conflict lasts; resolve the open ones whose conflict is gone. The caller holds the scan's lock."""
    now = timezone.now()
    accounts = {(a.person.pk, a.grant.pk): a for a in administered_accounts()}
    findings = SodFinding.objects.filter(stage=SodFinding.Stage.ADMINISTERED)
    known, gone = set(), []
    for pk, person_id, grant_id, resolution in findings.values_list("pk", "person_id", "grant_id", "resolution"):
        known.add((person_id, grant_id))
        account = accounts.get((person_id, grant_id))
        if resolution == SodFinding.Resolution.OPEN and (account is None or not account.conflict_lasts()):
            gone.append(pk)
    resolved = SodFinding.objects.filter(pk__in=gone).update(resolution=SodFinding.Resolution.RESOLVED,
                                                             resolved_at=now)
    new = []
    for key, account in accounts.items():
        if key in known:
            continue
        lasts = account.conflict_lasts()
        new.append(SodFinding(
            person=account.person, system=account.grant.system, department_id=account.person.department_id,
            stage=SodFinding.Stage.ADMINISTERED, grant=account.grant, detail=str(account), found_at=now,
            resolution=SodFinding.Resolution.OPEN if lasts else SodFinding.Resolution.RESOLVED,
            resolved_at=None if lasts else now,
        ))
    SodFinding.objects.bulk_create(new)
    return len(new), resolved
