"""Random sequences of the access lifecycle never break separation of duties and never leave a
grant without the approved request behind it (S3.2a, S3.2b, S3.5).

Hypothesis drives the real services in any order: filing add, change, suspend and remove requests
for end users and staff roles, the head's approvals and declines, withdrawals, ITSA's provisioning
and returns, status changes (leave, transfer, leaving the city), deactivation and the nightly grant
check that follows it, and user audits whose items the head revokes or moves to another role. A step
the rules refuse (RuleViolation) is a legitimate outcome; any other exception fails the test. After
every step both invariants must hold.
"""

from collections import defaultdict

from conftest import build_city
from django.db import transaction
from django.utils import timezone
from hypothesis import HealthCheck, event, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    precondition,
    rule,
    run_state_machine_as_test,
)

from access_requests.hygiene import grant_hygiene_run
from accounts.models import DESIGNEE_GROUP, ITSA_GROUP, Grant, User
from accounts.sod import sod_violations
from audits.models import ValidationItem
from audits.services import user_audit_open, validation_item_decide
from portal.errors import RuleViolation
from access_requests.models import AccessRequest, StatusChange
from access_requests.services import (
    access_request_approve,
    access_request_decline,
    access_request_provision,
    access_request_return,
    access_request_submit,
    access_request_withdraw,
    status_change_report,
)

# Written out here rather than taken from Grant.STAFF_ROLES, so the check does not share the code it checks.
STAFF = {"administrator", "monitor", "auditor"}
LIVE = ["active", "suspended"]
ROLES = ["end_user", "administrator", "monitor", "auditor"]
# "add" twice: most filings ask for new access, and they make the states the other steps need.
ACTIONS = ["add", "add", "change", "suspend", "remove"]

# Who works where in the `city` fixture; "outsider" heads the Streets Department.
POLICE_PEOPLE = ["officer", "analyst", "requester", "head"]
STREETS_PEOPLE = ["streets_worker", "outsider"]
SYSTEMS = ["vms", "lpr", "traffic"]
USES = ["crime_detection", "investigations", "traffic_monitoring"]
PICK = st.integers(min_value=0, max_value=1000)

AWAITING_HEAD, WITH_ITSA, COMPLETED = "awaiting_head", "with_itsa", "completed"


def _pick(rows: list, index: int):
    return rows[index % len(rows)]


class Lifecycle(RuleBasedStateMachine):
    """One example is a fresh copy of the city and up to `stateful_step_count` steps on it."""

    city = None  # the city the test built; each example starts from it again

    def __init__(self):
        super().__init__()
        # Each example runs inside an atomic block that teardown rolls back, as Django's TestCase does
        # for each test: the next example finds the city exactly as built. Rebuilding the city for each
        # example would cost more than the steps themselves, and flushing tables would throw away the
        # transaction pytest-django holds around the test.
        self._atomic = transaction.atomic()
        self._atomic.__enter__()
        self.ids = {name: getattr(self.city, name).pk for name in
                    [*POLICE_PEOPLE, *STREETS_PEOPLE, "itsa", "itsa2", "designee"]}
        self.itsa = set(User.objects.filter(groups__name=ITSA_GROUP).values_list("pk", flat=True))
        self.designees = set(User.objects.filter(groups__name=DESIGNEE_GROUP).values_list("pk", flat=True))
        self._statuses = None

    def teardown(self):
        transaction.set_rollback(True)
        self._atomic.__exit__(None, None, None)

    def person(self, name: str) -> User:
        # Fresh from the database for every step, as a page would load it: an earlier step may have
        # deactivated the person or changed their employment status.
        return User.objects.get(pk=self.ids[name])

    def attempt(self, what: str, step) -> None:
        """Run one service call; the rules may refuse it, nothing else may go wrong."""
        self._statuses = None
        try:
            step()
        except RuleViolation:
            event(f"{what}: refused")
        else:
            event(f"{what}: done")

    def has(self, *statuses) -> bool:
        """Whether requests in these statuses exist: one query per step, however many rules ask."""
        if self._statuses is None:
            self._statuses = set(AccessRequest.objects.values_list("status", flat=True).distinct())
        return bool(self._statuses.intersection(statuses))

    def requests(self, *statuses) -> list[AccessRequest]:
        return list(AccessRequest.objects.filter(status__in=statuses).order_by("pk"))

    # --- Steps ------------------------------------------------------------------------------------

    @initialize(seed=st.lists(st.tuples(st.sampled_from(POLICE_PEOPLE), st.sampled_from(ROLES)), max_size=2))
    def start_with_grants(self, seed):
        """Some police people already hold grants on the VMS, given the ordinary way (any that
        conflict are refused like any other request)."""
        for who, role in seed:
            self.file(self.city.police, who, "vms", "add", role, ["crime_detection"], "head")
            for request in self.requests(AWAITING_HEAD):
                self.attempt("approve", lambda: access_request_approve(request=request, by=self.person("designee")))
            for request in self.requests(WITH_ITSA):
                self.attempt("provision", lambda: access_request_provision(
                    request=request, by=self.person("itsa"), account_name=f"acct-{request.pk}"))

    @rule(who=st.sampled_from(POLICE_PEOPLE), action=st.sampled_from(ACTIONS), role=st.sampled_from(ROLES),
          uses=st.sampled_from([["crime_detection"], ["investigations"], ["crime_detection", "investigations"]]),
          by=st.sampled_from(["requester", "head"]))
    def file_police_request(self, who, action, role, uses, by):
        """The common case: the police department, authorized for the VMS, files for its own people."""
        self.file(self.city.police, who, "vms", action, role, uses, by)

    @rule(who=st.sampled_from([*STREETS_PEOPLE, *POLICE_PEOPLE]), system=st.sampled_from(SYSTEMS),
          action=st.sampled_from(ACTIONS), role=st.sampled_from(ROLES),
          uses=st.sets(st.sampled_from(USES), max_size=2), by=st.sampled_from(["outsider", "outsider", "requester", "officer"]))
    def file_any_request(self, who, system, action, role, uses, by):
        """Anything else: the streets department on its traffic cameras, people of another department,
        systems a department may not use, uses outside its access, filers not on the list."""
        self.file(self.city.streets, who, system, action, role, sorted(uses), by)

    def file(self, department, who, system, action, role, uses, by):
        self.attempt("file", lambda: access_request_submit(
            department=department, person=self.person(who), system=getattr(self.city, system), action=action,
            role=role, permissible_uses=[getattr(self.city, use) for use in uses],
            justification="Needs it for the cases assigned.", by=self.person(by),
            condition_statement="Case 26-001234, an active investigation, until the case closes.",
        ))

    @precondition(lambda self: self.has(AWAITING_HEAD))
    @rule(which=PICK, approver=st.sampled_from(["head", "designee", "outsider", "itsa"]))
    def approve(self, which, approver):
        request = _pick(self.requests(AWAITING_HEAD), which)
        self.attempt("approve", lambda: access_request_approve(request=request, by=self.person(approver)))

    @precondition(lambda self: self.has(AWAITING_HEAD))
    @rule(which=PICK, approver=st.sampled_from(["head", "designee"]))
    def decline(self, which, approver):
        request = _pick(self.requests(AWAITING_HEAD), which)
        self.attempt("decline", lambda: access_request_decline(request=request, reason="Not needed.",
                                                               by=self.person(approver)))

    @precondition(lambda self: self.has(AWAITING_HEAD, WITH_ITSA))
    @rule(which=PICK, by=st.sampled_from(["requester", "head"]))
    def withdraw(self, which, by):
        request = _pick(self.requests(AWAITING_HEAD, WITH_ITSA), which)
        self.attempt("withdraw", lambda: access_request_withdraw(request=request, by=self.person(by)))

    @precondition(lambda self: self.has(WITH_ITSA))
    @rule(which=PICK, by=st.sampled_from(["itsa", "itsa2"]))
    def provision(self, which, by):
        request = _pick(self.requests(WITH_ITSA), which)
        self.attempt("provision", lambda: access_request_provision(request=request, by=self.person(by),
                                                                   account_name=f"acct-{request.pk}"))

    @precondition(lambda self: self.has(WITH_ITSA))
    @rule(which=PICK)
    def return_to_department(self, which):
        request = _pick(self.requests(WITH_ITSA), which)
        self.attempt("return", lambda: access_request_return(request=request, reason="Missing signature.",
                                                             by=self.person("itsa")))

    @rule(who=st.sampled_from(POLICE_PEOPLE), kind=st.sampled_from(StatusChange.Kind.values),
          by=st.sampled_from(["head", "outsider"]))
    def report_status_change(self, who, kind, by):
        """Leave, transfer or leaving the city: the person's grants go to ITSA's queue."""
        self.attempt("status change", lambda: status_change_report(
            person=self.person(who), kind=kind, effective_date=timezone.localdate(), note="", by=self.person(by)
        ))

    @rule(who=st.sampled_from(["officer", "analyst", "requester", "streets_worker"]), nightly_check=st.booleans())
    def deactivate(self, who, nightly_check):
        """ITSA unticks "active" in the admin (no service deactivates a person; the admin saves the
        model). The nightly grant check then suspends the person's grants and queues their removal."""
        person = self.person(who)
        person.is_active = False
        person.save(update_fields=["is_active"])
        if nightly_check:
            self.attempt("grant check", lambda: grant_hygiene_run(suspend=True))

    @rule(system=st.sampled_from([None, *SYSTEMS]))
    def open_user_audit(self, system):
        self.attempt("user audit", lambda: user_audit_open(by=self.person("itsa"), department=self.city.police,
                                                           system=getattr(self.city, system) if system else None))

    @rule(which=PICK, decision=st.sampled_from(["revoke", "change_role", "keep"]), new_role=st.sampled_from(ROLES))
    def decide_audit_item(self, which, decision, new_role):
        """The head revokes an access or moves it to another role: the change goes straight to ITSA."""
        items = list(ValidationItem.objects.filter(decision=ValidationItem.Decision.PENDING).order_by("pk"))
        if items:
            item = _pick(items, which)
            self.attempt("audit decision", lambda: validation_item_decide(
                item=item, decision=decision, reason="Reviewed.", new_role=new_role, by=self.person("head")))

    # --- Invariants -------------------------------------------------------------------------------

    @invariant()
    def nobody_is_end_user_and_staff_of_one_system(self):
        """S3.2a, S3.2b: by the portal's own scan and by an independent count of live grants."""
        assert sod_violations() == []
        sides = defaultdict(set)
        for person, system, role in Grant.objects.filter(status__in=LIVE).values_list("person", "system", "role"):
            sides[person, system].add("staff" if role in STAFF else "end user")
        assert all(len(held) == 1 for held in sides.values()), dict(sides)

    @invariant()
    def every_live_grant_traces_to_an_approved_request(self):
        """S3.5: a live grant was created by one add request that its department's head (or the
        Mayor's designee) approved and ITSA then provisioned, and its role is the one the last
        completed add or change asked for. Every request carried out on it was processed by ITSA;
        nobody provisioned their own access, nor approved their own new access or role."""
        grants = list(Grant.objects.filter(status__in=LIVE).select_related("department"))
        done = defaultdict(list)
        for request in AccessRequest.objects.filter(grant__in=grants, status=COMPLETED).order_by("processed_at", "pk"):
            done[request.grant_id].append(request)
        for grant in grants:
            requests = done[grant.pk]
            where = f"grant {grant.pk} ({grant.role}, {grant.status}): {[(r.action, r.role) for r in requests]}"
            for request in requests:
                assert (request.person_id, request.system_id) == (grant.person_id, grant.system_id), where
                assert request.processed_by_id in self.itsa and request.processed_by_id != grant.person_id, where
                if request.action in ("add", "change"):
                    assert request.approved_by_id in {grant.department.head_id, *self.designees}, where
                    assert request.approved_by_id != grant.person_id, where
                    assert request.approved_at <= request.processed_at, where
            added = [r for r in requests if r.action == "add"]
            assert len(added) == 1 and added[0].processed_by_id == grant.provisioned_by_id, where
            assert [r for r in requests if r.action in ("add", "change")][-1].role == grant.role, where


def test_random_lifecycles_keep_separation_of_duties_and_a_request_behind_every_grant(db):
    """S3.2a, S3.2b, S3.5"""
    Lifecycle.city = build_city()
    run_state_machine_as_test(Lifecycle, settings=settings(
        max_examples=50,
        stateful_step_count=20,
        deadline=None,  # a step is a database transaction: its time says nothing about the code
        suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    ))
