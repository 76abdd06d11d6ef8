"""Separation of duties (3.2): the one home of the rule.

On one system, nobody holds an end-user grant and a staff grant (administrator, monitor,
auditor) at once. Called by the request services when a request is filed, approved and
provisioned, by the form preview, and by `sod_scan`.
"""

from collections.abc import Iterable
from dataclasses import dataclass

from django.db.models import Count, Q

from .models import Grant, SurveillanceSystem, User


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
