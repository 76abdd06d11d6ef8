"""The figures of the annual department report (S2.5b) and the biannual citywide report (S2.5c),
computed on a known data set and compared with values counted by hand; the public copy of the
tables (S2.6) names nobody and hides small counts.

The data set covers 2024 in the city's time zone (America/Chicago by default). The services set
their times to now, outside 2024, so what they make counts only where the test moves its dates
into 2024 with .update() on the main tables (their history tables are append-only).
"""

import json
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from conftest import provisioned
from django.conf import settings

from access_requests.models import AccessRequest, StatusChange
from access_requests.services import access_request_provision, status_change_report
from accounts.models import Grant, SodFinding, User
from reports.metrics import Figures, Period, city_figures, department_figures, public_tables, public_value
from audits.models import Validation
from audits.services import user_audit_open, validation_item_decide

YEAR = 2024
PERIOD = Period.year(YEAR)
CITY_TZ = ZoneInfo(settings.TIME_ZONE)

# The labels of Table 1's uses that the data set names.
DETECTION = "Public safety: Detection of crime"
INVESTIGATIONS = "Public safety: Criminal investigations"


def _at(y, m, d, hh=9, mm=0):
    """A moment in the city's time zone."""
    return datetime(y, m, d, hh, mm, tzinfo=CITY_TZ)


def _grant(city, *, person, system, role="end_user", department=None, uses=(), provisioned_at, ended_at=None):
    grant = Grant.objects.create(
        person=person, system=system, department=department or city.police, role=role,
        status=Grant.Status.REMOVED if ended_at else Grant.Status.ACTIVE, account_name=f"acct-{person.pk}-{role}",
        provisioned_at=provisioned_at, ended_at=ended_at, provisioned_by=city.itsa,
    )
    grant.permissible_uses.set(uses)
    return grant


def _request(city, reference, *, action="add", status, submitted, approved=None, processed=None, person=None,
             system=None, department=None):
    return AccessRequest.objects.create(
        reference=reference, department=department or city.police, person=person or city.officer,
        system=system or city.vms, action=action, role="end_user", justification="Case work.",
        written_text=reference, written_sha256="0" * 64, status=status, requested_by=city.requester,
        submitted_at=submitted, approved_at=approved, processed_at=processed,
    )


def _end(grant, at):
    """Move a grant a service ended into 2024."""
    Grant.objects.filter(pk=grant.pk).update(provisioned_at=_at(YEAR - 1, 1, 2), ended_at=at)


@pytest.fixture
def data(city):
    """The 2024 data set. Police grants ended by each cause go through the services first."""
    S = AccessRequest.Status

    # Revocations of the Police Department, one per cause, ended in 2024.
    removed_on_request = provisioned(city, person=city.officer).grant
    provisioned(city, person=city.officer, action="remove", uses=[], by=city.head)
    _end(removed_on_request, _at(YEAR, 2, 15))

    revoked_in_audit = provisioned(city, person=city.analyst).grant
    audit = user_audit_open(by=city.itsa, department=city.police)
    item = audit.items.get(grant=revoked_in_audit)
    item = validation_item_decide(item=item, decision="revoke", reason="No longer on the unit.", by=city.head)
    access_request_provision(request=item.follow_up, by=city.itsa)
    _end(revoked_in_audit, _at(YEAR, 5, 15))

    person_left = provisioned(city, person=city.requester, by=city.head).grant
    status_change_report(person=User.objects.get(pk=city.requester.pk), kind=StatusChange.Kind.LEFT,
                         effective_date=date(YEAR, 8, 1), note="", by=city.head)
    access_request_provision(request=AccessRequest.objects.get(grant=person_left, action="remove"), by=city.itsa)
    _end(person_left, _at(YEAR, 8, 1))

    # Grants made directly, with their dates.
    _grant(city, person=city.officer, system=city.vms, uses=[city.crime_detection, city.investigations],
           provisioned_at=_at(YEAR, 2, 1))                                          # G1: live
    _grant(city, person=city.analyst, system=city.vms, uses=[city.crime_detection],
           provisioned_at=_at(YEAR - 1, 6, 1), ended_at=_at(YEAR + 1, 1, 1, 0, 0))  # G2: ends at the first moment after
    _grant(city, person=city.requester, system=city.lpr, role="administrator", uses=[city.investigations],
           provisioned_at=_at(YEAR, 12, 31, 23, 30))                                # G3: in on the last evening
    _grant(city, person=city.head, system=city.vms, role="monitor", uses=[city.crime_detection],
           provisioned_at=_at(YEAR + 1, 1, 1, 0, 0))                                # G4: the next year
    _grant(city, person=city.officer, system=city.lpr, uses=[city.crime_detection],
           provisioned_at=_at(YEAR - 1, 1, 1), ended_at=_at(YEAR, 12, 31, 23, 30))  # G5: ended, no request
    _grant(city, person=city.streets_worker, system=city.traffic, department=city.streets,
           uses=[city.traffic_monitoring], provisioned_at=_at(YEAR, 3, 1))          # G6: Streets, live
    _grant(city, person=city.streets_worker, system=city.lpr, department=city.streets,
           provisioned_at=_at(YEAR - 1, 1, 1), ended_at=_at(YEAR, 9, 1))            # G7: Streets, ended

    # Requests (submitted → approved or declined → processed by ITSA).
    _request(city, "AR-1", status=S.COMPLETED, submitted=_at(YEAR, 1, 10), approved=_at(YEAR, 1, 10, 15),
             processed=_at(YEAR, 1, 11))                                     # 1 day
    _request(city, "AR-2", status=S.COMPLETED, submitted=_at(YEAR, 2, 1), approved=_at(YEAR, 2, 2),
             processed=_at(YEAR, 2, 3))                                      # 2 days
    _request(city, "AR-3", status=S.COMPLETED, submitted=_at(YEAR, 3, 1), approved=_at(YEAR, 3, 2),
             processed=_at(YEAR, 3, 4))                                      # 3 days
    _request(city, "AR-4", status=S.COMPLETED, submitted=_at(YEAR, 4, 1), approved=_at(YEAR, 4, 2),
             processed=_at(YEAR, 4, 11))                                     # 10 days
    _request(city, "AR-5", status=S.COMPLETED, submitted=_at(YEAR - 1, 12, 20), approved=_at(YEAR - 1, 12, 21),
             processed=_at(YEAR, 1, 9))                                      # 20 days, filed the year before
    _request(city, "AR-6", action="change", status=S.COMPLETED, submitted=_at(YEAR, 5, 1),
             approved=_at(YEAR, 5, 2), processed=_at(YEAR, 5, 3))            # a change: not timed
    _request(city, "AR-7", status=S.DECLINED, submitted=_at(YEAR, 6, 1), approved=_at(YEAR, 6, 2))
    _request(city, "AR-8", status=S.RETURNED, submitted=_at(YEAR, 7, 1), approved=_at(YEAR, 7, 2),
             processed=_at(YEAR, 7, 5))
    _request(city, "AR-9", action="remove", status=S.AWAITING_HEAD, submitted=_at(YEAR, 12, 31, 23, 30))
    _request(city, "AR-10", status=S.AWAITING_HEAD, submitted=_at(YEAR + 1, 1, 1, 0, 0))
    _request(city, "AR-11", status=S.COMPLETED, submitted=_at(YEAR, 11, 1), approved=_at(YEAR, 11, 2),
             processed=_at(YEAR + 1, 1, 3))                                  # completed the year after
    _request(city, "AR-12", action="suspend", status=S.WITH_ITSA, submitted=_at(YEAR - 1, 6, 1),
             approved=_at(YEAR, 1, 5))                                       # filed the year before
    _request(city, "AR-S1", status=S.COMPLETED, submitted=_at(YEAR, 3, 1), approved=_at(YEAR, 3, 2),
             processed=_at(YEAR, 3, 6), person=city.streets_worker, system=city.traffic,
             department=city.streets)                                        # Streets, 5 days

    # Annual validations.
    V = Validation.Status
    _validation(city.police, due=date(YEAR, 3, 31), status=V.COMPLETE,
                signed=_at(YEAR, 3, 31, 23, 0))                               # V1: 23:00 on the due date
    _validation(city.police, due=date(YEAR, 6, 30), status=V.COMPLETE, signed=_at(YEAR, 7, 1, 10))  # V2
    _validation(city.police, due=date(YEAR, 12, 31), status=V.OPEN)                                # V3
    _validation(city.police, due=date(YEAR + 1, 1, 15), status=V.COMPLETE, signed=_at(YEAR + 1, 1, 10))  # V4
    _validation(city.police, due=date(YEAR, 5, 1), status=V.COMPLETE, signed=_at(YEAR, 4, 1),
                kind=Validation.Kind.USER_AUDIT)                              # V5: a user audit
    _validation(city.streets, due=date(YEAR, 8, 1), status=V.COMPLETE, signed=_at(YEAR, 7, 20))     # V6

    # Separation-of-duties findings.
    R = SodFinding.Resolution
    _finding(city, city.officer, R.PREVENTED, _at(YEAR, 2, 1))                       # F1
    _finding(city, city.analyst, R.OPEN, _at(YEAR, 5, 1))                            # F2
    _finding(city, city.officer, R.RESOLVED, _at(YEAR, 3, 1), resolved=_at(YEAR, 4, 1))  # F3
    _finding(city, city.head, R.PREVENTED, _at(YEAR - 1, 12, 31))                    # F4: the year before
    _finding(city, city.streets_worker, R.PREVENTED, _at(YEAR, 7, 1), system=city.traffic)  # F5: Streets
    return city


def _validation(department, *, due, status, signed=None, kind=Validation.Kind.ANNUAL):
    period = due - timedelta(days=30)
    return Validation.objects.create(kind=kind, department=department, period=period, due_date=due, status=status,
                                     signed_off_at=signed)


def _finding(city, person, resolution, found, *, resolved=None, system=None):
    return SodFinding.objects.create(person=person, system=system or city.vms, department=person.department,
                                     stage=SodFinding.Stage.FILING, detail="conflict", found_at=found,
                                     resolution=resolution, resolved_at=resolved)


def test_grants_are_counted_as_they_stand_at_the_end_of_the_year(data):
    """S2.5b: grants by system, permissible use and role."""
    figures = department_figures(department=data.police, period=PERIOD)

    # Live at the end of 2024: G1 (officer, VMS), G2 (analyst, VMS; ends 1 January 2025 00:00),
    # G3 (requester, plate readers, from 31 December 23:30). Not G4 (1 January 2025 00:00), G5
    # (ended 31 December 23:30), nor the three grants the services ended during the year.
    assert figures.grants_by_system == [("Citywide VMS", 2), ("Plate Readers", 1)]  # VMS: G1 G2; plates: G3
    assert figures.grants_by_use == [(DETECTION, 2), (INVESTIGATIONS, 2)]  # detection: G1 G2; investigations: G1 G3
    assert figures.grants_by_role == [("End user", 2), ("Administrator", 1), ("Monitor", 0), ("Auditor", 0)]
    assert figures.grants_total == 3


def test_requests_are_counted_by_the_date_of_each_step(data):
    """S2.5b: requests filed, approved, declined, returned, completed."""
    figures = department_figures(department=data.police, period=PERIOD)

    assert figures.requests_filed == 9       # AR-1 2 3 4 6 7 8 9 (31 Dec 23:30) 11; not AR-5, AR-12, AR-10 (2025)
    assert figures.requests_approved == 8    # AR-1 2 3 4 6 8 11 12; not AR-5 (2023) nor AR-7 (declined)
    assert figures.requests_declined == 1    # AR-7
    assert figures.requests_returned == 1    # AR-8
    assert figures.requests_completed == 6   # AR-1 2 3 4 5 6; not AR-11 (2025)
    assert figures.requests_by_action == [
        ("Add access", 7),                   # AR-1 2 3 4 7 8 11
        ("Change role or uses", 1),          # AR-6
        ("Remove access", 1),                # AR-9
        ("Suspend access", 0),               # AR-12 was filed in 2023
        ("Reinstate access", 0),             # filed only by a return from leave
    ]


def test_the_time_to_an_account_has_its_median_and_nearest_rank_90th_percentile(data):
    """S2.5b: the completed "add" requests of the year, from filing to the account."""
    figures = department_figures(department=data.police, period=PERIOD)

    assert figures.accounts_measured == 5             # AR-1 2 3 4 5 (AR-6 is a change)
    assert figures.median_days_to_account == 3.0      # [1, 2, 3, 10, 20]: the third
    assert figures.p90_days_to_account == 20.0        # rank ⌈0.9 × 5⌉ = 5: 20


def test_validations_are_on_time_when_signed_on_the_due_date_in_the_citys_time_zone(data):
    """S2.5b: annual validations due in the year, done on time or not."""
    figures = department_figures(department=data.police, period=PERIOD)

    assert figures.validations_due == 3              # V1 V2 V3; not V4 (due 2025) nor V5 (a user audit)
    assert figures.validations_on_time == 1          # V1: 31 March 23:00 local is 1 April in UTC
    assert figures.validations_late == 1             # V2
    assert figures.validations_not_signed_off == 1   # V3


def test_every_grant_ended_in_the_year_counts_under_exactly_one_cause(data):
    """S2.5b: revocations."""
    figures = department_figures(department=data.police, period=PERIOD)

    assert figures.revocations == 4  # the three the services ended, and G5; not G2 (2025)
    assert figures.revocations_by_cause == [
        ("Removed at the department's request", 1),   # the officer's removal request
        ("Revoked in a validation or user audit", 1),  # the analyst's, revoked in the user audit
        ("Person left, transferred or on leave", 1),   # the requester's, after the status change
        ("Other", 1),                                  # G5, ended without a request
    ]
    assert sum(count for _, count in figures.revocations_by_cause) == figures.revocations


def test_separation_of_duties_findings_are_counted_by_resolution(data):
    """S2.5b: separation-of-duties findings and how they were resolved."""
    figures = department_figures(department=data.police, period=PERIOD)

    assert figures.sod_findings_total == 3  # F1 F2 F3; not F4 (2023) nor F5 (Streets)
    assert figures.sod_findings_by_resolution == [
        ("Refused: the access was not given", 1),       # F1
        ("Open: both roles still held", 1),             # F2
        ("Resolved: one of the roles was removed", 1),  # F3
    ]


def test_another_departments_data_stays_out_of_a_department_report_but_counts_citywide(data):
    """S2.5b S2.5c: the Streets Department's G6, G7, AR-S1, V6 and F5."""
    streets = department_figures(department=data.streets, period=PERIOD)
    city = city_figures(period=PERIOD)

    assert (streets.grants_total, streets.requests_filed, streets.revocations) == (1, 1, 1)
    assert city.department is None
    assert city.grants_by_system == [("Citywide VMS", 2), ("Plate Readers", 1), ("Traffic Cameras", 1)]
    assert city.grants_by_use == [(DETECTION, 2), (INVESTIGATIONS, 2), (str(data.traffic_monitoring), 1)]
    assert city.grants_by_role == [("End user", 3), ("Administrator", 1), ("Monitor", 0), ("Auditor", 0)]
    assert city.grants_total == 4                     # G1 G2 G3 G6
    assert (city.requests_filed, city.requests_approved, city.requests_completed) == (10, 9, 7)  # police + AR-S1
    assert city.accounts_measured == 6                # [1, 2, 3, 5, 10, 20]
    assert city.median_days_to_account == 4.0         # (3 + 5) / 2
    assert city.p90_days_to_account == 20.0           # rank ⌈0.9 × 6⌉ = 6
    assert (city.validations_due, city.validations_on_time) == (4, 2)  # V1 V2 V3 V6; V1 V6
    assert city.revocations == 5                      # police 4, G7
    assert dict(city.revocations_by_cause)["Other"] == 2  # G5 G7
    assert city.sod_findings_total == 4               # F1 F2 F3 F5
    assert dict(city.sod_findings_by_resolution)["Refused: the access was not given"] == 2  # F1 F5


def test_a_half_year_counts_only_its_own_six_months(data):
    """S2.5c: the biannual report of July–December 2024."""
    figures = city_figures(period=Period.half(YEAR, 2))

    assert figures.requests_filed == 3          # AR-8 (July), AR-9 (31 December), AR-11 (November)
    assert figures.requests_completed == 0
    assert figures.accounts_measured == 0
    assert (figures.median_days_to_account, figures.p90_days_to_account) == (None, None)
    assert figures.revocations == 3             # the requester's (August), G5 (December), G7 (September)


def test_the_periods_have_their_labels_and_bounds_in_the_citys_time_zone():
    """S2.5b S2.5c"""
    assert Period.year(2026).label == "2026"
    assert Period.half(2026, 1).label == "January–June 2026"
    assert Period.half(2026, 2).label == "July–December 2026"
    assert Period(date(2026, 3, 1), date(2026, 5, 31)).label == "1 March 2026 – 31 May 2026"
    assert Period.half(2026, 1) == Period(date(2026, 1, 1), date(2026, 6, 30))
    with pytest.raises(ValueError):
        Period.half(2026, 3)

    year = Period.year(2026)
    assert year.start_at == datetime(2026, 1, 1, tzinfo=CITY_TZ)
    assert year.end_at == datetime(2027, 1, 1, tzinfo=CITY_TZ)
    assert year.start_at <= datetime(2026, 12, 31, 23, 30, tzinfo=CITY_TZ) < year.end_at
    assert not datetime(2027, 1, 1, 0, 0, tzinfo=CITY_TZ) < year.end_at


def _figures(**changes) -> Figures:
    values = dict(
        period=PERIOD, department=None, grants_by_system=[], grants_by_use=[], grants_by_role=[], grants_total=0,
        requests_filed=0, requests_approved=0, requests_declined=0, requests_returned=0, requests_completed=0,
        requests_by_action=[], accounts_measured=0, median_days_to_account=None, p90_days_to_account=None,
        validations_due=0, validations_on_time=0, validations_late=0, validations_not_signed_off=0, revocations=0,
        revocations_by_cause=[], sod_findings_total=0, sod_findings_by_resolution=[],
    )
    return Figures(**{**values, **changes})


def _rows(tables, key):
    return {row["label"]: row["value"] for row in next(t for t in tables if t["key"] == key)["rows"]}


def test_the_public_tables_show_fewer_than_5_for_counts_from_1_to_4():
    """S2.6: a count below 5 could single a person out; 0 describes nobody and stays."""
    tables = _figures(grants_by_system=[("A", 4), ("B", 5), ("C", 0), ("D", 1)], requests_filed=4,
                      requests_approved=5, requests_declined=0).tables()

    public = public_tables(tables)

    assert _rows(public, "grants_by_system") == {"A": None, "B": 5, "C": 0, "D": None}
    summary = _rows(public, "summary")
    assert (summary["Requests filed"], summary["Requests approved"], summary["Requests declined"]) == (None, 5, 0)
    assert _rows(tables, "grants_by_system")["A"] == 4, "the report's own tables are left as they were"


@pytest.mark.parametrize("rows, shown", [
    ([("A", 3), ("B", 9), ("C", 7), ("D", 0)], {"A": None, "B": 9, "C": None, "D": 0}),
    ([("A", 3), ("B", 2), ("C", 7)], {"A": None, "B": None, "C": 7}),
    ([("A", 3), ("B", 0)], {"A": None, "B": 0}),
])
def test_a_lone_hidden_count_takes_the_smallest_other_with_it(rows, shown):
    """S2.6: with one row hidden, the total less the others would give it back (complementary suppression)."""
    public = public_tables(_figures(grants_by_role=rows, grants_total=sum(v for _, v in rows)).tables())
    assert _rows(public, "grants_by_role") == shown


@pytest.mark.parametrize("measured, shown", [(4, None), (5, 3.0)])
def test_the_public_tables_hide_the_times_to_account_of_fewer_than_5_people(measured, shown):
    """S2.6: a median of 2 people's times reveals both."""
    tables = _figures(accounts_measured=measured, median_days_to_account=3.0, p90_days_to_account=3.0).tables()

    summary = _rows(public_tables(tables), "summary")

    assert (summary["Median days to account"], summary["90th percentile days to account"]) == (shown, shown)


def test_public_values_read_as_words_and_numbers():
    """S2.6"""
    assert public_value(None) == "fewer than 5"
    assert public_value(0) == "0"
    assert public_value(12345) == "12,345"
    assert public_value(3.14159) == "3.1"
    assert public_value(4.0) == "4.0"


def test_the_tables_are_json_and_name_nobody(data):
    """S2.6: open data without personal data: no name, e-mail or account name of anyone."""
    tables = city_figures(period=PERIOD).tables()
    text = json.dumps(tables) + json.dumps(public_tables(tables))

    assert [t["key"] for t in tables] == ["summary", "grants_by_system", "grants_by_use", "grants_by_role",
                                          "requests_by_action", "revocations_by_cause", "sod_findings_by_resolution"]
    assert all(set(t) == {"key", "title", "label_heading", "value_heading", "unit", "rows"} for t in tables)
    assert _rows(tables, "summary")["Median days to account"] == 4.0
    public = _rows(public_tables(tables), "summary")
    assert (public["Accounts measured"], public["Median days to account"], public["Revocations"]) == (6, 4.0, 5)
    assert public["Requests declined"] is None  # AR-7 alone
    for person in User.objects.all():
        assert person.full_name not in text and person.email not in text
    for account_name in Grant.objects.values_list("account_name", flat=True):
        assert account_name not in text


def _many(city, count):
    """`count` people, each with a grant (on varied systems, roles and uses) and its request; a third
    of the grants ended in the year on a removal request; a validation for every third person."""
    systems, roles = [city.vms, city.lpr, city.traffic], ["end_user", "administrator", "monitor", "auditor"]
    uses = [city.crime_detection, city.investigations, city.traffic_monitoring]
    for n in range(count):
        person = User.objects.create_user(email=f"p{n}@police.example", full_name=f"P {n}", department=city.police)
        ended = _at(YEAR, 6, 1) if n % 3 == 0 else None
        grant = _grant(city, person=person, system=systems[n % 3], role=roles[n % 4], uses=uses[: 1 + n % 3],
                       provisioned_at=_at(YEAR, 1, 2), ended_at=ended)
        _request(city, f"AR-N{n}", status=AccessRequest.Status.COMPLETED, submitted=_at(YEAR, 1, 1),
                 approved=_at(YEAR, 1, 1, 12), processed=_at(YEAR, 1, 2, n % 24), person=person)
        if ended:
            removal = _request(city, f"AR-R{n}", action="remove", status=AccessRequest.Status.COMPLETED,
                               submitted=_at(YEAR, 5, 1), approved=_at(YEAR, 5, 2), processed=ended, person=person)
            AccessRequest.objects.filter(pk=removal.pk).update(grant=grant)
            _validation(city.police, due=date(YEAR, 1 + n % 12, 1 + n // 12), status=Validation.Status.COMPLETE,
                        signed=_at(YEAR, 1 + n % 12, 1))
        _finding(city, person, SodFinding.Resolution.PREVENTED, _at(YEAR, 3, 1))


# Seven counts, and three for the time to an account (how many, the median's rank, the 90th percentile's).
QUERIES = 10


@pytest.mark.parametrize("count", [3, 30])
def test_the_figures_take_the_same_few_queries_whatever_the_size(city, count, django_assert_max_num_queries):
    """S2.5b S2.5c: counted in the database, never grant by grant."""
    _many(city, count)

    with django_assert_max_num_queries(QUERIES):
        figures = department_figures(department=city.police, period=PERIOD)
    with django_assert_max_num_queries(QUERIES):
        city_figures(period=PERIOD)

    ended = len(range(0, count, 3))
    assert (figures.grants_total, figures.revocations, figures.accounts_measured) == (count - ended, ended, count)
    assert figures.validations_on_time == ended
