"""The audit log's targets named as people read them. Most entries keep the target's name as it was
when they were written; an attempt to open a record one may not see keeps only "person 12", since the
record was not read. The log's readers (ITSA and oversight) see every record, so the page names it:
"Olive Officer (person 12)". The CSV keeps the entry as written."""

import re

from access_requests.models import AccessRequest, DepartmentAccess
from accounts.models import AuthorizedRequester, Department, Grant, User
from adoption.models import Upload
from agreements.models import SharingAgreement
from audits.models import Validation, ValidationItem
from external.models import ExternalConnection
from incidents.models import Incident
from kpis.models import Kpi
from portal.audit_labels import action_label
from reports.models import PublishedReport
from retention.models import RetentionExtension
from security.models import OversightAppointment
from waivers.models import Waiver

MODELS = {
    "person": User, "grant": Grant, "department": Department, "access request": AccessRequest,
    "request": AccessRequest, "department access": DepartmentAccess, "requester": AuthorizedRequester,
    "validation": Validation, "validation item": ValidationItem, "waiver": Waiver, "incident": Incident,
    "kpi": Kpi, "agreement": SharingAgreement, "sharing agreement": SharingAgreement,
    "external connection": ExternalConnection, "retention extension": RetentionExtension,
    "extension": RetentionExtension, "report": PublishedReport, "oversight appointment": OversightAppointment,
    "import upload": Upload,
}
BARE_TARGET = re.compile(r"^(?P<what>[a-z_ ]+) (?P<pk>\d{1,18})$", re.IGNORECASE)


def audit_entries_label(entries) -> None:
    """Give each entry of a page `action_label` and `target_label`: one query per kind of record."""
    wanted: dict[str, set[int]] = {}
    bare = []  # (entry, kind, pk) of the entries that name a record by its number only
    for entry in entries:
        entry.action_label = action_label(entry.action)
        entry.target_label = entry.target
        match = BARE_TARGET.match(entry.target or "")
        if match and match["what"].lower() in MODELS:
            what, pk = match["what"].lower(), int(match["pk"])
            wanted.setdefault(what, set()).add(pk)
            bare.append((entry, what, pk))
    names = {}
    for what, pks in wanted.items():
        for obj in MODELS[what]._default_manager.filter(pk__in=pks):
            names[(what, obj.pk)] = str(obj)
    for entry, what, pk in bare:
        if (what, pk) in names:
            entry.target_label = f"{names[(what, pk)]} ({entry.target})"
