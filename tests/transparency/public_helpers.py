"""Policy versions and published reports for the tests of the public pages."""

import hashlib
from datetime import date, timedelta

from django.core.files.base import ContentFile
from django.utils import timezone

from reports.models import PublishedReport
from portal.models import PolicyVersion
from portal.policy import policy_change_add, policy_version_publish, policy_version_save

# The shape of `PublishedReport.figures`; None is a count below 5, left out of a public report.
FIGURES = [
    {"key": "grants_by_system", "title": "Accounts by system", "label_heading": "System",
     "value_heading": "Accounts", "unit": "", "rows": [{"label": "Citywide VMS", "value": 12},
                                                       {"label": "Plate Readers", "value": None}]},
    {"key": "days_to_account", "title": "Days from request to account", "label_heading": "Measure",
     "value_heading": "Days", "unit": "days", "rows": [{"label": "Median", "value": 3.5},
                                                       {"label": "90th percentile", "value": 9}]},
]


def pdf_with_text(text: str) -> bytes:
    """A one-page PDF whose page reads `text` (ASCII), small enough to write by hand."""
    stream = f"BT /F1 12 Tf 72 720 Td ({text}) Tj ET".encode()
    objects = [
        b"<</Type/Catalog/Pages 2 0 R>>",
        b"<</Type/Pages/Kids[3 0 R]/Count 1>>",
        b"<</Type/Page/Parent 2 0 R/MediaBox[0 0 612 792]/Resources<</Font<</F1 4 0 R>>>>/Contents 5 0 R>>",
        b"<</Type/Font/Subtype/Type1/BaseFont/Helvetica>>",
        b"<</Length %d>>stream\n" % len(stream) + stream + b"\nendstream",
    ]
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj" % number + body + b"endobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    out += b"trailer<</Size %d/Root 1 0 R>>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref)
    return bytes(out)


def publish_report(*, by, title="Citywide report, first half of 2026", figures=FIGURES, is_public=True,
                   content: bytes | None = None, period_start=date(2026, 1, 1), period_end=date(2026, 6, 30),
                   kind=PublishedReport.Kind.CITY_BIANNUAL, department=None) -> PublishedReport:
    """A published report as the publishing service leaves it: the PDF stored, its SHA-256 beside it."""
    content = content if content is not None else pdf_with_text(title)
    report = PublishedReport(
        kind=kind, department=department, period_start=period_start, period_end=period_end, title=title,
        figures=figures, is_public=is_public, published_by=by, published_at=timezone.now(),
        pdf_sha256=hashlib.sha256(content).hexdigest(),
    )
    report.pdf.save("report.pdf", ContentFile(content), save=False)
    report.save()
    return report


def draft_version(city, *, number="1.0", effective_on=None, approved=True, notified=True, changes=()):
    """A draft version with its change log: `changes` holds (section, description, substantive)."""
    today = timezone.localdate()
    version = policy_version_save(version=PolicyVersion(
        number=number, title=f"Surveillance policy, version {number}", summary="The City's surveillance policy.",
        effective_on=effective_on or today,
        mayor_approved_on=today - timedelta(days=10) if approved else None,
        aldermen_notified_on=today - timedelta(days=5) if notified else None,
    ), by=city.designee)
    for section, description, substantive in changes:
        policy_change_add(version=version, section=section, description=description, substantive=substantive,
                          by=city.designee)
    return version


def published_version(city, **kwargs):
    kwargs.setdefault("changes", [("2.2", "Table 1 adds public health as an intended use.", True),
                                  ("3.5", "Corrects a cross-reference.", False)])
    return policy_version_publish(version=draft_version(city, **kwargs), by=city.designee)
