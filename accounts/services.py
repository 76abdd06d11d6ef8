"""Changes of state for people, departments, requester lists and grants.

Each function checks who may act, checks the rule, writes the change (history records it) and
the audit event in one transaction. Grant functions lock the person's row first: every change to
one person's grants is serialized, so two conflicting provisionings cannot both pass the
separation-of-duties check.
"""

from datetime import date

from django.contrib.auth.models import Group
from django.db.models import Value
from django.utils import timezone
from guardian.shortcuts import assign_perm, get_users_with_perms, remove_perm

from portal.audit import audit_record, audit_refusal, service_transaction
from portal.errors import NotAllowed, RuleViolation

from .models import AuthorizedRequester, Department, Grant, SurveillanceSystem, User, account_name_key
from .signals import portal_role_given
from .sod import sod_conflict

DEPARTMENT_PERM = "accounts.act_for_department"

def department_sync_permissions(*, department: Department) -> None:
    """Give the head and the current authorized requesters the department's object permission,
    and take it from everybody else."""
    wanted = set(
        AuthorizedRequester.objects.current().filter(department=department).values_list("person", flat=True)
    )
    if department.head_id:
        wanted.add(department.head_id)
    holders = set(
        get_users_with_perms(department, only_with_perms_in=["act_for_department"], with_superusers=False,
                             with_group_users=False).values_list("pk", flat=True)
    )
    for user in User.objects.filter(pk__in=holders - wanted):
        remove_perm(DEPARTMENT_PERM, user, department)
    for user in User.objects.filter(pk__in=wanted - holders):
        assign_perm(DEPARTMENT_PERM, user, department)


def _require_itsa(by: User, what: str) -> None:
    if not by.roles.is_itsa:
        audit_refusal(actor=by, action=what)
        raise NotAllowed("Only ITSA administrators can do this.")


@service_transaction
def department_set_head(*, department: Department, head: User | None, by: User) -> Department:
    _require_itsa(by, "department.set_head")
    department = Department.objects.select_for_update().get(pk=department.pk)
    if department.head_id == (head.pk if head else None):
        return department
    if head is not None and not head.is_active:
        raise RuleViolation(f"{head} is deactivated and cannot head {department}.", field="head")
    department.head = head
    department._change_reason = f"head set by {by}"
    department.save(update_fields=["head"])
    department_sync_permissions(department=department)
    audit_record(actor=by, action="department.set_head", target=department, detail=f"head: {head}")
    if head is not None:
        portal_role_given.send(sender=User, person=head, by=by)
    return department


def out_of_scope_problem(*, department: Department, lock: bool = False) -> str | None:
    """Why `department` cannot be given access, or None: the order covers only departments, boards
    and commissions under the Mayor (S1). With `lock`, the department's row is locked first, so a
    change of scope (department_set_scope) cannot pass between this check and the access it guards."""
    if lock:
        department = Department.objects.select_for_update().get(pk=department.pk)
    if department.in_scope:
        return None
    return (f"{department} is outside the order's scope: Section 1 covers only departments, boards and "
            "commissions under the Mayor, so it cannot be given access to surveillance systems.")


def _live_access_of(department: Department) -> list[str]:
    """What the department still holds: live grants and granted department access."""
    held = []
    grants = Grant.objects.filter(department=department, status__in=Grant.LIVE_STATUSES).count()
    if grants:
        held.append(f"{grants} live grant{'s' if grants != 1 else ''}")
    # Department access is kept by the access requests app, a layer above: read through the relation.
    systems = department.system_access.filter(status="granted").count()
    if systems:
        held.append(f"granted department access to {systems} system{'s' if systems != 1 else ''}")
    return held


@service_transaction
def department_set_scope(*, department: Department, in_scope: bool, by: User) -> Department:
    """ITSA records whether a body is under the Mayor (S1). A body with access still in place is not
    taken out of scope: its grants and department access are ended first, through their own rules."""
    _require_itsa(by, "department.set_scope")
    department = Department.objects.select_for_update().get(pk=department.pk)
    if department.in_scope == in_scope:
        return department
    if not in_scope:
        held = _live_access_of(department)
        if held:
            message = (f"{department} still holds {' and '.join(held)}. Remove that access before marking it "
                       "outside the order's scope (Section 1).")
            audit_refusal(actor=by, action="department.set_scope", target=department, outcome="refused",
                          detail=message)
            raise RuleViolation(message, field="in_scope")
    department.in_scope = in_scope
    department._change_reason = f"scope set by {by}"
    department.save(update_fields=["in_scope"])
    audit_record(actor=by, action="department.set_scope", target=department,
                 detail="under the Mayor (in scope)" if in_scope else "outside the order's scope")
    return department


@service_transaction
def department_change(*, department: Department, head: User | None, in_scope: bool, by: User) -> Department:
    """The admin's change of a department's head and scope: both are saved, or neither."""
    stored = Department.objects.select_for_update().get(pk=department.pk)
    if stored.head_id != (head.pk if head else None):
        stored = department_set_head(department=stored, head=head, by=by)
    if stored.in_scope != in_scope:
        stored = department_set_scope(department=stored, in_scope=in_scope, by=by)
    return stored


@service_transaction
def authorized_requester_add(
    *, department: Department, person: User, by: User, start_date: date | None = None, end_date: date | None = None
) -> AuthorizedRequester:
    """Put a person on the department's list of authorized requesters (3.3)."""
    _require_itsa(by, "requester.add")
    start_date = start_date or timezone.localdate()
    if end_date is not None and end_date < start_date:
        raise RuleViolation("The end date must be on or after the start date.", field="end_date")
    if not person.is_active:
        raise RuleViolation(f"{person} is deactivated and cannot file requests.", field="person")
    if person.department_id != department.pk:
        raise RuleViolation(
            f"{person} does not work for {department}. Only the department's own people can file its requests.",
            field="person",
        )
    overlapping = AuthorizedRequester.objects.filter(department=department, person=person).exclude(
        end_date__lte=start_date
    )
    if end_date is not None:
        overlapping = overlapping.filter(start_date__lt=end_date)
    if overlapping.exists():
        raise RuleViolation(f"{person} is already on the list of {department} for those dates.", field="person")
    entry = AuthorizedRequester.objects.create(
        department=department, person=person, start_date=start_date, end_date=end_date, added_by=by
    )
    department_sync_permissions(department=department)
    audit_record(actor=by, action="requester.add", target=entry)
    portal_role_given.send(sender=User, person=entry.person, by=by)
    return entry


@service_transaction
def authorized_requester_end(*, entry: AuthorizedRequester, by: User, end_date: date | None = None) -> AuthorizedRequester:
    """Take a person off the list from `end_date` (today by default: at once); the past stays on record."""
    _require_itsa(by, "requester.end")
    entry = AuthorizedRequester.objects.select_for_update().get(pk=entry.pk)
    end_date = end_date or timezone.localdate()
    if end_date < entry.start_date:
        raise RuleViolation("The end date must be on or after the start date.", field="end_date")
    if entry.end_date is not None and entry.end_date <= end_date:
        return entry
    entry.end_date = end_date
    entry.save(update_fields=["end_date"])
    department_sync_permissions(department=entry.department)
    audit_record(actor=by, action="requester.end", target=entry, detail=f"off the list from {end_date}")
    return entry


def is_authorized_requester(*, person: User, department: Department, on: date | None = None) -> bool:
    return AuthorizedRequester.objects.current(on).filter(person=person, department=department).exists()


def lock_person(person: User) -> User:
    """Serialize every grant change of one person (see the module docstring)."""
    return User.objects.select_for_update().get(pk=person.pk)


def third_party_access_problem(*, person: User, under_agreement: bool, role: str) -> str | None:
    """Why `person` may not hold `role` (under an information sharing agreement or not), or None. A
    third party's person holds only view-only end-user access under an information sharing agreement,
    and an agreement gives access to nobody else (S2.3, S3.7). Checked when a grant is opened and when
    its role changes."""
    if not person.is_third_party and not under_agreement:
        return None
    if not under_agreement:
        return (f"{person} works for a third party ({person.organization}): they can only be given "
                "view-only access under an information sharing agreement (Section 3.7).")
    if not person.is_third_party:
        return f"{person} is city staff: access under a sharing agreement is for the third party's people only."
    if role != Grant.Role.END_USER:
        return "A third party gets view-only end-user access, never a staff role (Section 3.7)."
    return None


def account_name_holder(*, system: SurveillanceSystem, account_name: str, ignore_grant_ids=()) -> Grant | None:
    """The live grant on `system` that already uses `account_name`, or None (see account_name_problem)."""
    return (
        Grant.objects.filter(system=system, status__in=Grant.LIVE_STATUSES)
        .exclude(pk__in=list(ignore_grant_ids))
        .alias(key=account_name_key("account_name"))
        .filter(key=account_name_key(Value(account_name.strip())))
        .select_related("person")
        .order_by("pk")
        .first()
    )


def account_name_problem(
    *, system: SurveillanceSystem, account_name: str, person: User | None = None, ignore_grant_ids=(),
) -> str | None:
    """Why no live grant on `system` may be named `account_name`, or None (JC19a: individual
    accounts, one person per account on a system).

    A live grant (active, or suspended: the account still exists on the system) keeps its name from
    every other live grant on the same system. Names are compared whatever their case and without
    surrounding spaces (models.account_name_key), because the system knows a person by the name and
    its use reports are matched that way (accounts.last_use). A removed grant's name is free again;
    another system may use the same name.

    The same person's other live grants on the system count too. A grant is one account with one
    role: a role changes in place (grant_change), and removing or ending a grant asks ITSA to close
    its account, which would also cut off a second role sharing the name; the use reports could not
    tell the two roles apart either. The city's data already gives each role its own name.

    Every grant write runs in a service transaction, which takes the audit chain's lock first, so
    two provisionings cannot both pass this check; the unique constraint on Grant is the backstop.
    ITSA, who provisions, sees every grant, so the message names the holder."""
    holder = account_name_holder(system=system, account_name=account_name, ignore_grant_ids=ignore_grant_ids)
    if holder is None:
        return None
    if person is not None and holder.person_id == person.pk:
        advice = ("Each role is an account of its own on the system: enter the name of the account created "
                  "for this one.")
    else:
        advice = f"An account belongs to one person: enter the name of the account created for {person or 'them'}."
    return f"{account_name_clash(holder=holder, system=system, account_name=account_name, person=person)} {advice}"


def account_name_clash(*, holder: Grant, system: SurveillanceSystem, account_name: str, person: User | None) -> str:
    """The clash in words: which live grant already uses the name."""
    role = holder.get_role_display().lower()
    held = f"the {role} role, suspended" if holder.status == Grant.Status.SUSPENDED else f"the {role} role"
    if person is not None and holder.person_id == person.pk:
        return f"{person} already holds the account “{holder.account_name}” on {system}, for {held}."
    return (f"The account name “{account_name.strip()}” is already in use on {system}: {holder.person} holds it, "
            f"for {held}.")


def grant_open(
    *, person: User, system: SurveillanceSystem, department: Department, role: str, account_name: str,
    permissible_uses, by: User, ends_on: date | None = None, under_agreement: bool = False,
) -> Grant:
    """Create an account record. The caller holds a transaction and has checked who may act.

    `ends_on` ends a temporary grant (or one under an agreement) at 00:00, city time, that day. A
    third party's person gets only a view-only end-user grant under a sharing agreement (S2.3, S3.7),
    and a grant under an agreement is always view-only. The agreements app links the grant to its
    agreement in the same transaction."""
    lock_person(person)
    # The backstop for every way a grant opens (S1); the requests' services check it with the lock.
    problem = out_of_scope_problem(department=department) or third_party_access_problem(
        person=person, under_agreement=under_agreement, role=role)
    if problem:
        raise RuleViolation(problem)
    if ends_on is not None and ends_on <= timezone.localdate():
        raise RuleViolation(f"The access would already have ended ({ends_on:%d %B %Y}).", field="ends_on")
    problem = sod_conflict(person=person, system=system, roles=[role])
    if problem:
        raise RuleViolation(problem)
    if Grant.objects.filter(person=person, system=system, role=role, status__in=Grant.LIVE_STATUSES).exists():
        raise RuleViolation(f"{person} already holds the {Grant.Role(role).label.lower()} role on {system}.")
    account_name = (account_name or "").strip()
    problem = account_name_problem(system=system, account_name=account_name, person=person)
    if problem:
        raise RuleViolation(problem, field="account_name")
    grant = Grant(
        person=person, system=system, department=department, role=role, account_name=account_name,
        provisioned_at=timezone.now(), provisioned_by=by, ends_on=ends_on, view_only=under_agreement,
    )
    grant.full_clean(exclude=["permissible_uses"])
    grant.save()
    grant.permissible_uses.set(permissible_uses)
    return grant


def grant_change(*, grant: Grant, role: str, permissible_uses, account_name: str, by: User) -> Grant:
    """Change a grant's role and uses in place, keeping its history."""
    lock_person(grant.person)
    grant = Grant.objects.select_for_update().get(pk=grant.pk)
    if not grant.is_live:
        raise RuleViolation("This access has already been removed; file a new request to add it again.")
    problem = third_party_access_problem(
        person=grant.person, under_agreement=grant.view_only, role=role,
    ) or sod_conflict(person=grant.person, system=grant.system, roles=[role], ignore_grant_ids=[grant.pk])
    if problem:
        raise RuleViolation(problem)
    account_name = (account_name or "").strip()
    if account_name:
        problem = account_name_problem(system=grant.system, account_name=account_name, person=grant.person,
                                       ignore_grant_ids=[grant.pk])
        if problem:
            raise RuleViolation(problem, field="account_name")
    grant.role = role
    if account_name:
        grant.account_name = account_name
    grant._change_reason = f"changed by {by}"
    grant.save(update_fields=["role", "account_name"])
    grant.permissible_uses.set(permissible_uses)
    return grant


def grant_set_end(*, grant: Grant, ends_on: date | None, by: User) -> Grant:
    """Change the day a live grant's access ends, or make it open-ended, keeping its history. The
    caller holds a transaction and has checked who may act (the adoption import's re-run)."""
    lock_person(grant.person)
    grant = Grant.objects.select_for_update().get(pk=grant.pk)
    if not grant.is_live:
        raise RuleViolation("This access has already been removed; file a new request to add it again.")
    if ends_on is not None and ends_on <= timezone.localdate():
        raise RuleViolation(f"The access would already have ended ({ends_on:%d %B %Y}).", field="ends_on")
    if ends_on is None and grant.view_only:
        raise RuleViolation("Access under a sharing agreement ends with the agreement: it needs an end date.",
                            field="ends_on")
    if grant.ends_on == ends_on:
        return grant
    grant.ends_on = ends_on
    # The warnings were about the old day; the new one is warned about in its turn.
    grant.warned_week_at = grant.warned_day_at = None
    grant._change_reason = f"end date changed by {by}"
    grant.save(update_fields=["ends_on", "warned_week_at", "warned_day_at"])
    return grant


def grant_set_status(*, grant: Grant, status: str, by: User | None, reason: str = "") -> Grant:
    """Suspend, reinstate or remove a grant. The caller holds a transaction. `reason` names who
    or what acted when no person did (a nightly check)."""
    grant = Grant.objects.select_for_update().get(pk=grant.pk)
    if grant.status == status:
        return grant
    if grant.status == Grant.Status.REMOVED:
        raise RuleViolation("This access has already been removed.")
    if status == Grant.Status.ACTIVE:
        lock_person(grant.person)
        problem = sod_conflict(person=grant.person, system=grant.system, roles=[grant.role],
                               ignore_grant_ids=[grant.pk])
        if problem:
            raise RuleViolation(problem)
        # A suspended grant keeps its name from others (JC19a, account_name_problem); asked again so a
        # clash is refused in words.
        holder = account_name_holder(system=grant.system, account_name=grant.account_name,
                                     ignore_grant_ids=[grant.pk])
        if holder is not None:
            clash = account_name_clash(holder=holder, system=grant.system, account_name=grant.account_name,
                                       person=grant.person)
            raise RuleViolation(f"{clash} Give one of the two accounts another name (a change request) before "
                                "this access is reinstated.")
    grant.status = status
    grant.ended_at = timezone.now() if status == Grant.Status.REMOVED else None
    grant._change_reason = grant_status_reason(status=status, by=by, reason=reason)
    grant.save(update_fields=["status", "ended_at"])
    return grant


def grant_status_reason(*, status: str, by: User | None, reason: str = "") -> str:
    """The change reason a grant's history keeps for a change of status."""
    return f"{status} by {by or reason or 'the portal'}"


def role_group(name: str) -> Group:
    group, _ = Group.objects.get_or_create(name=name)
    return group
