"""The figures of the reports (2.5): the annual department report to the Mayor and the biannual
citywide report to the public, computed from the data.

Every figure is counted in the database (grouped counts, conditional counts), so a report takes
the same few queries whatever the size of the city; only the times from request to account are
fetched, as pairs, to take their percentiles.

How each figure is counted:
- Grants: those live at the period's end: provisioned before it and not ended before it (a
  suspended grant is still live). By system and by permissible use only the non-zero rows are
  listed (a grant counts once under each of its uses); by role every role is listed.
- Requests: filed (submitted in the period), approved (approved in the period and not declined:
  a decline is stored in the same field, `approved_at`, as the head's decision), declined (declined
  in the period), returned and completed (processed by ITSA in the period), and the filed ones by
  action.
- Time to account: the completed "add" requests processed in the period, from filing to ITSA's
  completion, in days. The median is the middle value (the mean of the two middle ones for an
  even count); the 90th percentile uses the nearest-rank method: the value at rank ⌈0.9 × n⌉ of
  the sorted times, so it is always one of the measured times.
- Validations: the annual validations due in the period, by whether the head signed off on or
  before the due date (in the city's time zone), after it, or not yet.
- Revocations: the grants ended in the period, each under one cause, in this order of precedence:
  a status change (the person left, transferred or went on leave), a validation or user audit that
  revoked it, a removal the department asked for; anything else (ended outside the requests) is
  "Other". The causes always sum to the total.
- Separation-of-duties findings: those found in the period, by their resolution today.

`public_tables` prepares the tables for the public (2.6): no row names a person, and every count
from 1 to 4 is replaced by None ("fewer than 5"), since so few could single someone out. A count of
0 stays: it describes nobody. The median and 90th percentile are hidden when fewer than 5
accounts were measured, since with 2 measured they would reveal each person's time.
"""

import copy
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from django.db.models import Case, Count, DurationField, ExpressionWrapper, F, Q, TextChoices, Value, When
from django.db.models.functions import TruncDate
from django.utils import timezone

from access_requests.models import AccessRequest
from accounts.models import Department, Grant, SodFinding
from portal.models import PermissibleUse

from audits.models import Validation, ValidationItem

SUPPRESS_BELOW = 5
SUPPRESSED_TEXT = "fewer than 5"
# A figure with nothing to measure (no account made in the period): not a count held back.
NO_DATA_TEXT = "none"

MONTHS = ("January", "February", "March", "April", "May", "June", "July", "August", "September", "October",
          "November", "December")


class Cause(TextChoices):
    """Why a grant ended (see the module docstring for the order of precedence)."""

    DEPARTMENT = "department", "Removed at the department's request"
    VALIDATION = "validation", "Revoked in a validation or user audit"
    STATUS_CHANGE = "status_change", "Person left, transferred or on leave"
    OTHER = "other", "Other"


# The rows of the summary table.
GRANTS_TOTAL = "Grants at the end of the period"
REQUESTS_FILED = "Requests filed"
REQUESTS_APPROVED = "Requests approved"
REQUESTS_DECLINED = "Requests declined"
REQUESTS_RETURNED = "Requests returned"
REQUESTS_COMPLETED = "Requests completed"
ACCOUNTS_MEASURED = "Accounts measured"
MEDIAN_DAYS = "Median days to account"
P90_DAYS = "90th percentile days to account"
VALIDATIONS_DUE = "Validations due"
VALIDATIONS_ON_TIME = "Validations on time"
VALIDATIONS_LATE = "Validations late"
VALIDATIONS_NOT_SIGNED_OFF = "Validations not signed off"
REVOCATIONS = "Revocations"
SOD_FINDINGS = "Separation-of-duties findings"
TIMES = (MEDIAN_DAYS, P90_DAYS)


def _month_day(day: date) -> tuple[int, int]:
    return day.month, day.day


@dataclass(frozen=True)
class Period:
    """The days a report covers, from `start` to `end`, both included, in the city's time zone."""

    start: date
    end: date

    def __post_init__(self):
        if self.end < self.start:
            raise ValueError("A period ends on or after the day it starts.")

    @classmethod
    def year(cls, year: int) -> "Period":
        return cls(date(year, 1, 1), date(year, 12, 31))

    @classmethod
    def half(cls, year: int, half: int) -> "Period":
        if half == 1:
            return cls(date(year, 1, 1), date(year, 6, 30))
        if half == 2:
            return cls(date(year, 7, 1), date(year, 12, 31))
        raise ValueError("A year has two halves: 1 (January–June) or 2 (July–December).")

    @property
    def label(self) -> str:
        same_year = self.start.year == self.end.year
        span = (_month_day(self.start), _month_day(self.end))
        if same_year and span == ((1, 1), (12, 31)):
            return str(self.start.year)
        if same_year and span == ((1, 1), (6, 30)):
            return f"January–June {self.start.year}"
        if same_year and span == ((7, 1), (12, 31)):
            return f"July–December {self.start.year}"
        return f"{_long_date(self.start)} – {_long_date(self.end)}"

    @property
    def start_at(self) -> datetime:
        return _midnight(self.start)

    @property
    def end_at(self) -> datetime:
        """Midnight at the start of the day after `end`: the first moment outside the period."""
        return _midnight(self.end + timedelta(days=1))


def _long_date(day: date) -> str:
    return f"{day.day} {MONTHS[day.month - 1]} {day.year}"


def _midnight(day: date) -> datetime:
    return timezone.make_aware(datetime.combine(day, time.min), timezone.get_default_timezone())


@dataclass
class Figures:
    """The figures of one report. `department` is None for the citywide report."""

    period: Period
    department: Department | None
    grants_by_system: list[tuple[str, int]]
    grants_by_use: list[tuple[str, int]]
    grants_by_role: list[tuple[str, int]]
    grants_total: int
    requests_filed: int
    requests_approved: int
    requests_declined: int
    requests_returned: int
    requests_completed: int
    requests_by_action: list[tuple[str, int]]
    accounts_measured: int
    median_days_to_account: float | None
    p90_days_to_account: float | None
    validations_due: int
    validations_on_time: int
    validations_late: int
    validations_not_signed_off: int
    revocations: int
    revocations_by_cause: list[tuple[str, int]]
    sod_findings_total: int
    sod_findings_by_resolution: list[tuple[str, int]]

    def tables(self) -> list[dict]:
        """The report's tables, JSON-serialisable: a summary of the single figures, then each
        breakdown. Rows have a label and a value (int, float rounded to one decimal, or None)."""
        summary = [
            (GRANTS_TOTAL, self.grants_total),
            (REQUESTS_FILED, self.requests_filed),
            (REQUESTS_APPROVED, self.requests_approved),
            (REQUESTS_DECLINED, self.requests_declined),
            (REQUESTS_RETURNED, self.requests_returned),
            (REQUESTS_COMPLETED, self.requests_completed),
            (ACCOUNTS_MEASURED, self.accounts_measured),
            (MEDIAN_DAYS, self.median_days_to_account),
            (P90_DAYS, self.p90_days_to_account),
            (VALIDATIONS_DUE, self.validations_due),
            (VALIDATIONS_ON_TIME, self.validations_on_time),
            (VALIDATIONS_LATE, self.validations_late),
            (VALIDATIONS_NOT_SIGNED_OFF, self.validations_not_signed_off),
            (REVOCATIONS, self.revocations),
            (SOD_FINDINGS, self.sod_findings_total),
        ]
        return [
            _table("summary", "Summary", "Figure", "Value", summary),
            _table("grants_by_system", "Grants by system", "System", "Grants", self.grants_by_system),
            _table("grants_by_use", "Grants by permissible use", "Permissible use", "Grants", self.grants_by_use),
            _table("grants_by_role", "Grants by role", "Role", "Grants", self.grants_by_role),
            _table("requests_by_action", "Access requests filed, by action", "Action", "Requests",
                   self.requests_by_action),
            _table("revocations_by_cause", "Grants ended, by cause", "Cause", "Grants ended",
                   self.revocations_by_cause),
            _table("sod_findings_by_resolution", "Separation-of-duties findings, by resolution", "Resolution",
                   "Findings", self.sod_findings_by_resolution),
        ]


def _table(key: str, title: str, label_heading: str, value_heading: str, rows) -> dict:
    return {
        "key": key, "title": title, "label_heading": label_heading, "value_heading": value_heading, "unit": "",
        "rows": [{"label": str(label), "value": _json_value(value)} for label, value in rows],
    }


def _json_value(value):
    return round(value, 1) if isinstance(value, float) else value


def department_figures(*, department: Department, period: Period) -> Figures:
    """The figures of a department's annual report to the Mayor (2.5)."""
    return _figures(period=period, department=department)


def city_figures(*, period: Period) -> Figures:
    """The figures of every department together, for the citywide report (2.5)."""
    return _figures(period=period, department=None)


def _within(field: str, period: Period) -> Q:
    return Q(**{f"{field}__gte": period.start_at, f"{field}__lt": period.end_at})


def _live_at(moment: datetime, prefix: str = "") -> Q:
    return Q(**{f"{prefix}provisioned_at__lt": moment}) & (
        Q(**{f"{prefix}ended_at__isnull": True}) | Q(**{f"{prefix}ended_at__gte": moment})
    )


def _figures(*, period: Period, department: Department | None) -> Figures:
    scope = Q(department=department) if department is not None else Q()
    grant_scope = Q(grants__department=department) if department is not None else Q()

    live_grants = Count("grants", filter=_live_at(period.end_at, "grants__") & grant_scope)
    # The live grants by system and role in one grouped query (a grouped query drops the models'
    # default ordering: each sets its own); a system without one is not listed.
    system_counts: dict[tuple[int, str], int] = {}
    role_counts: dict[str, int] = {}
    for system_id, name, role, count in (
        Grant.objects.filter(scope, _live_at(period.end_at)).values_list("system_id", "system__name", "role")
        .annotate(count=Count("pk")).order_by()
    ):
        system_counts[system_id, name] = system_counts.get((system_id, name), 0) + count
        role_counts[role] = role_counts.get(role, 0) + count
    by_system = sorted(((name, count) for (_, name), count in system_counts.items()),
                       key=lambda row: (row[0].casefold(), row[0]))
    by_use = [(str(use), use.count) for use in
              PermissibleUse.objects.select_related("intended_use").annotate(count=live_grants).filter(count__gt=0)
              .order_by("intended_use__position", "intended_use__name", "position")]
    by_role = [(role.label, role_counts.get(role.value, 0)) for role in Grant.Role]

    requests = _request_counts(period, scope)
    # The accounts measured are the "add" requests completed in the period: already counted.
    days = _days_to_account(period, scope, measured=requests[f"completed_{AccessRequest.Action.ADD.value}"])
    validations = _validation_counts(period, scope)
    causes = _revocation_causes(period, scope)
    findings = dict(
        SodFinding.objects.filter(scope, _within("found_at", period)).values_list("resolution")
        .annotate(count=Count("pk")).order_by()
    )
    by_resolution = [(resolution.label, findings.get(resolution.value, 0)) for resolution in SodFinding.Resolution]

    return Figures(
        period=period,
        department=department,
        grants_by_system=by_system,
        grants_by_use=by_use,
        grants_by_role=by_role,
        grants_total=sum(count for _, count in by_role),
        requests_filed=requests["filed"],
        requests_approved=requests["approved"],
        requests_declined=requests["declined"],
        requests_returned=requests["returned"],
        requests_completed=requests["completed"],
        requests_by_action=[(action.label, requests[f"filed_{action.value}"]) for action in AccessRequest.Action],
        accounts_measured=days.measured,
        median_days_to_account=days.median,
        p90_days_to_account=days.p90,
        validations_due=validations["due"],
        validations_on_time=validations["on_time"],
        validations_late=validations["late"],
        validations_not_signed_off=validations["not_signed_off"],
        revocations=sum(causes.values()),
        revocations_by_cause=[(cause.label, causes[cause.value]) for cause in Cause],
        sod_findings_total=sum(findings.values()),
        sod_findings_by_resolution=by_resolution,
    )


def _request_counts(period: Period, scope: Q) -> dict[str, int]:
    Status = AccessRequest.Status
    filed = _within("submitted_at", period)
    decided = _within("approved_at", period)
    processed = _within("processed_at", period)
    names = ("filed", "approved", "declined", "returned", "completed")
    counts = dict.fromkeys(names, 0) | {f"{name}_{action.value}": 0 for action in AccessRequest.Action
                                        for name in ("filed", "completed")}
    # One row an action: the filed ones by action come with the other counts, which add up.
    for row in AccessRequest.objects.filter(scope).values("action").annotate(
        filed=Count("pk", filter=filed),
        approved=Count("pk", filter=decided & ~Q(status=Status.DECLINED)),
        declined=Count("pk", filter=decided & Q(status=Status.DECLINED)),
        returned=Count("pk", filter=processed & Q(status=Status.RETURNED)),
        completed=Count("pk", filter=processed & Q(status=Status.COMPLETED)),
    ).order_by():
        for name in names:
            counts[name] += row[name]
        counts[f"filed_{row['action']}"] = row["filed"]
        counts[f"completed_{row['action']}"] = row["completed"]
    return counts


@dataclass(frozen=True)
class DaysToAccount:
    """How long accounts took, from the written request to the account, in days: how many were
    measured, their median and their 90th percentile (nearest rank). The database sorts the times and
    hands over only the ranks asked for: a city's half-year is thousands of accounts."""

    measured: int
    median: float | None
    p90: float | None


def _days_to_account(period: Period, scope: Q, *, measured: int) -> DaysToAccount:
    """`measured`: how many times there are, as _request_counts counted them (the completed "add"
    requests processed in the period)."""
    times = (
        AccessRequest.objects.filter(scope, _within("processed_at", period), action=AccessRequest.Action.ADD,
                                     status=AccessRequest.Status.COMPLETED)
        .annotate(took=ExpressionWrapper(F("processed_at") - F("submitted_at"), output_field=DurationField()))
        .order_by("took", "pk").values_list("took", flat=True)
    )
    if not measured:
        return DaysToAccount(0, None, None)

    def at(rank: int, many: int = 1) -> list[float]:  # ranks from 0, in the sorted order
        return [took.total_seconds() / 86400 for took in times[rank:rank + many]]

    middle = measured // 2
    median = sum(at(middle - 1, 2)) / 2 if measured % 2 == 0 else at(middle)[0]  # as statistics.median
    return DaysToAccount(measured, median, at(nearest_rank_index(measured, 90))[0])


def nearest_rank_index(count: int, percent: int) -> int:
    """Where the nearest-rank percentile of `count` sorted values is, from 0: rank ⌈percent/100 × n⌉
    from 1."""
    return max(1, (percent * count + 99) // 100) - 1  # in integers: no rounding error at the edges


def _validation_counts(period: Period, scope: Q) -> dict[str, int]:
    signed = Q(signed_off_at__isnull=False)
    on_time = Q(signed_on__lte=F("due_date"))
    return (
        Validation.objects.filter(scope, kind=Validation.Kind.ANNUAL, due_date__gte=period.start,
                                  due_date__lte=period.end)
        .alias(signed_on=TruncDate("signed_off_at", tzinfo=timezone.get_default_timezone()))
        .aggregate(
            due=Count("pk"),
            on_time=Count("pk", filter=signed & on_time),
            late=Count("pk", filter=signed & ~on_time),
            not_signed_off=Count("pk", filter=~signed),
        )
    )


def _revocation_causes(period: Period, scope: Q) -> dict[str, int]:
    # Sets of grants, not subqueries per grant: the database reads each set once, whatever the
    # number of grants and whether or not it has statistics on the tables yet.
    removals = AccessRequest.objects.filter(action=AccessRequest.Action.REMOVE, status=AccessRequest.Status.COMPLETED)
    after_status_change = removals.filter(status_change__isnull=False).values("grant")
    revoked_in_review = removals.filter(
        pk__in=ValidationItem.objects.filter(follow_up__isnull=False).values("follow_up")
    ).values("grant")
    cause = Case(
        When(pk__in=after_status_change, then=Value(Cause.STATUS_CHANGE.value)),
        When(pk__in=revoked_in_review, then=Value(Cause.VALIDATION.value)),
        When(pk__in=removals.values("grant"), then=Value(Cause.DEPARTMENT.value)),
        default=Value(Cause.OTHER.value),
    )
    # Grouped by cause: the cause's subqueries are written (and run) once, not once a count.
    counts = dict(
        Grant.objects.filter(scope, _within("ended_at", period)).annotate(cause=cause).values_list("cause")
        .annotate(count=Count("pk")).order_by()
    )
    return {code: counts.get(code, 0) for code in Cause.values}


def public_tables(tables: list[dict]) -> list[dict]:
    """A copy of the tables fit for the public (2.6): counts from 1 to 4 become None, and the
    times to account become None when fewer than 5 accounts were measured.

    In a breakdown where only one count is hidden, the smallest other count is hidden too: otherwise
    the total in the summary less the shown rows would give the hidden one back."""
    public = copy.deepcopy(tables)
    for table in public:
        measured = next((row["value"] for row in table["rows"] if row["label"] == ACCOUNTS_MEASURED), None)
        hidden = 0
        for row in table["rows"]:
            value = row["value"]
            if row["label"] in TIMES and table["key"] == "summary":
                if not measured:
                    row["value"], row["no_data"] = None, True
                elif measured < SUPPRESS_BELOW:
                    row["value"] = None
            elif _is_count(value) and 0 < value < SUPPRESS_BELOW:
                row["value"] = None
                hidden += 1
        if table["key"] != "summary" and hidden == 1:
            shown = [row for row in table["rows"] if _is_count(row["value"]) and row["value"] > 0]
            if shown:
                min(shown, key=lambda row: row["value"])["value"] = None
    return public


def _is_count(value) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def shown_value(row: dict, *, public: bool) -> str:
    """A table row's value as a report shows it: "none" where nothing was measured, "fewer than 5"
    where a public count is held back."""
    if row.get("no_data") or (row["value"] is None and not public):
        return NO_DATA_TEXT
    return public_value(row["value"])


def public_value(value) -> str:
    """A value as the public page shows it: None is a count too small to show."""
    if value is None:
        return SUPPRESSED_TEXT
    if isinstance(value, float):
        return f"{value:,.1f}"
    if isinstance(value, int):
        return f"{value:,}"
    return str(value)


# --- KPIs and impact (S2.5d) and effectiveness by intended use (S2.6b) --------------------------------
#
# These tables have several columns. They keep the shape of every other table (rows of a label and a
# value, so the open data carries them unchanged: one row a cell) and add what lays them out again as a
# grid: the table's "columns", and on each row its "row" (number), "row_label" and "column".

KPI_COLUMNS = ("System", "Intended use", "Target", "Figure for the year", "Met", "Impact verdict")
VERDICTS = ("Positive impact", "No clear impact", "Negative impact", "Too early to tell")
EFFECTIVENESS_COLUMNS = ("Departments reporting", "KPIs met", "KPIs with a figure", *VERDICTS)


def _grid(key: str, title: str, label_heading: str, columns, rows: list[tuple[str, list]]) -> dict:
    return {
        "key": key, "title": title, "label_heading": label_heading, "value_heading": "Value", "unit": "",
        "columns": list(columns),
        "rows": [{"label": f"{row_label}: {column}", "value": _json_value(value), "row": number,
                  "row_label": row_label, "column": column}
                 for number, (row_label, values) in enumerate(rows) for column, value in zip(columns, values)],
    }


def _amount(value, unit: str) -> str:
    # Without trailing zeros ("90", "2.5"), then the unit.
    text = format(value, "f")
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return f"{text} {unit}".strip()


def kpi_table(results) -> dict:
    """The department's KPIs of the year (S2.5d): per system and intended use, each KPI with its target,
    the year's figure, whether it was met, and the impact the department states."""
    rows = []
    for result in results:
        bound = "at least" if result.direction == "higher" else "at most"
        rows.append((result.kpi, [
            result.system, result.intended_use, f"{bound} {_amount(result.target, result.unit)}",
            _amount(result.value, result.unit) if result.value is not None else "not recorded",
            {True: "met", False: "not met"}.get(result.met, "no figure"),
            result.impact or "not stated",
        ]))
    return _grid("kpis", "KPIs and impact", "KPI", KPI_COLUMNS, rows)


def effectiveness_table(results) -> dict:
    """Effectiveness by intended use, across the departments (S2.5d, S2.6b): per intended use, the
    departments reporting (a figure or a verdict), the KPIs met of those with a figure, and how many
    systems' uses each verdict was given for. Counts of KPIs and of departments' statements: no person
    is counted, so none is held back."""
    uses: dict[str, dict] = {}
    for result in results:
        use = uses.setdefault(result.intended_use, {"departments": set(), "met": 0, "figures": 0, "verdicts": {}})
        if result.value is not None or result.impact:
            use["departments"].add(result.department)
        if result.value is not None:
            use["figures"] += 1
            use["met"] += bool(result.met)
        if result.impact:
            # One verdict per department, system and use, whatever the number of its KPIs.
            use["verdicts"][(result.department, result.system)] = result.impact
    rows = [
        (name, [len(use["departments"]), use["met"], use["figures"],
                *(list(use["verdicts"].values()).count(verdict) for verdict in VERDICTS)])
        for name, use in sorted(uses.items())
    ]
    return _grid("effectiveness_by_use", "Effectiveness by intended use", "Intended use", EFFECTIVENESS_COLUMNS, rows)


def kpi_year(period: Period) -> int:
    """The KPI year a citywide report speaks for: the year that ended last on or before the period's end."""
    return period.end.year if (period.end.month, period.end.day) == (12, 31) else period.end.year - 1
