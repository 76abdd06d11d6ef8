"""The import from ITSA's page: upload the four files, see the check row by row, then import.

The page cannot do the work in the request: a city's files take longer to check and write than a
web request may last. So the upload is kept (`Upload`, with the files' bytes), a worker checks it
(the dry run of `import_plan`), and when ITSA confirms the preview a worker imports exactly the
bytes that were previewed (the same `import_plan` and `import_apply` as the command). The portal
may change between the preview and the import: the import checks the files again first, and
refuses the whole of it if any row is refused now.
"""

import csv
import hashlib
import io
import logging

from django.conf import settings
from django.db import transaction

from accounts.models import User
from portal.audit import audit_record, audit_refusal, service_transaction
from portal.errors import NotAllowed, RuleViolation
from portal.exports import csv_cell

from .models import Upload, UploadFile
from .services import CHANGE, CREATE, FILES, REFUSED, UNCHANGED, Plan, import_apply, import_plan, require_importer

log = logging.getLogger(__name__)

# How many rows the preview page shows: every refusal up to this many, then the first rows to write.
# The full row-by-row report is a CSV download.
SHOWN_ROWS = 200


def _check_file(name: str, content: bytes) -> None:
    if not content:
        raise RuleViolation(f"{name} is empty.", field=name)
    if len(content) > settings.SUPPORTING_DOCUMENT_MAX_BYTES:
        raise RuleViolation(
            f"{name} is larger than {settings.SUPPORTING_DOCUMENT_MAX_BYTES // (1024 * 1024)} MB: import a city this "
            "large with the import_city command.", field=name)
    if b"\x00" in content[:65536]:
        raise RuleViolation(f"{name} is not a CSV text file.", field=name)


@service_transaction
def upload_stage(*, files: dict[str, bytes], by: User) -> Upload:
    """Keep uploaded files and have a worker check them. ITSA only (S3.5b); every one of the four
    files is needed, each a CSV text file within the size limit."""
    require_importer(by)
    missing = [name for name in FILES if name not in files]
    if missing:
        raise RuleViolation(f"Choose {', '.join(missing)}.", field=missing[0])
    for name in FILES:
        _check_file(name, files[name])
    upload = Upload.objects.create(
        uploaded_by=by, files={name: hashlib.sha256(files[name]).hexdigest() for name in FILES})
    UploadFile.objects.bulk_create(UploadFile(upload=upload, name=name, content=files[name]) for name in FILES)
    audit_record(actor=by, action="adoption.upload", target=upload,
                 detail="; ".join(f"{name} sha256 {digest}" for name, digest in upload.files.items()))
    _after_commit("check_upload", upload.pk)
    return upload


def _after_commit(task_name: str, upload_id: int) -> None:
    def enqueue():
        from . import tasks

        getattr(tasks, task_name).delay(upload_id)

    transaction.on_commit(enqueue)


def _contents_of(upload: Upload) -> dict[str, bytes]:
    return {file.name: bytes(file.content) for file in upload.contents.all()}


def _report(plan: Plan) -> str:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["file", "line", "outcome", "row", "reason"])
    for row in plan.rows:
        writer.writerow([csv_cell(value) for value in (row.file, row.line, row.outcome, row.what, row.reason)])
    return out.getvalue()


def _keep_plan(upload: Upload, plan: Plan) -> None:
    upload.totals = plan.totals()
    per_file = {name: {CREATE: 0, CHANGE: 0, UNCHANGED: 0, REFUSED: 0} for name in FILES}
    for row in plan.rows:
        per_file[row.file][row.outcome] += 1
    upload.per_file = per_file
    refused = plan.refused[:SHOWN_ROWS]
    writes = plan.writes[:max(0, SHOWN_ROWS - len(refused))] if not plan.refused else []
    upload.shown_rows = [{"file": row.file, "line": row.line, "outcome": row.outcome, "what": row.what,
                          "reason": row.reason} for row in (*refused, *writes)]
    upload.report = _report(plan)


def upload_check(*, upload_id: int) -> Upload:
    """The worker's dry run of an upload: what would be created, changed and refused, row by row."""
    upload = Upload.objects.get(pk=upload_id)
    if upload.status != Upload.Status.CHECKING:
        return upload
    try:
        plan = import_plan(_contents_of(upload))
    except Exception:
        log.exception("adoption upload %s could not be checked", upload_id)
        upload.status = Upload.Status.FAILED
        upload.message = "The check stopped on an unexpected error. ITSA's logs have the details."
        upload.save(update_fields=["status", "message"])
        raise
    _keep_plan(upload, plan)
    upload.status = Upload.Status.CHECKED
    upload.save(update_fields=["totals", "per_file", "shown_rows", "report", "status"])
    audit_record(actor=None, action="adoption.check", target=upload,
                 detail=", ".join(f"{count} {outcome}" for outcome, count in upload.totals.items()))
    return upload


@service_transaction
def upload_import(*, upload: Upload, by: User) -> Upload:
    """ITSA confirms a checked upload: a worker imports it. Refused while it has refused rows, has
    nothing to write, or was imported (or is being imported) already."""
    require_importer(by)
    upload = Upload.objects.select_for_update().get(pk=upload.pk)
    if not upload.may_import:
        if upload.status in (Upload.Status.IMPORTING, Upload.Status.IMPORTED):
            problem = "These files are imported already." if upload.status == Upload.Status.IMPORTED else \
                "These files are being imported."
        elif upload.status == Upload.Status.CHECKING:
            problem = "The files are still being checked."
        elif upload.totals.get(REFUSED):
            problem = (f"{upload.totals[REFUSED]} row(s) are refused: correct the files and upload them again. "
                       "Nothing was imported.")
        elif upload.status == Upload.Status.FAILED:
            problem = "This upload was not imported: upload the files again."
        else:
            problem = "Nothing to import: every row is already in the portal."
        audit_refusal(actor=by, action="adoption.import", target=upload, outcome="refused", detail=problem)
        raise RuleViolation(problem)
    upload.status, upload.imported_by = Upload.Status.IMPORTING, by
    upload.save(update_fields=["status", "imported_by"])
    _after_commit("import_upload", upload.pk)
    return upload


def upload_import_run(*, upload_id: int) -> Upload:
    """The worker's import of a confirmed upload: the files are checked again (the portal may have
    changed since the preview), then written all or nothing by the same service as the command."""
    upload = Upload.objects.select_related("imported_by").get(pk=upload_id)
    if upload.status != Upload.Status.IMPORTING:
        return upload
    plan = import_plan(_contents_of(upload))
    try:
        applied = import_apply(plan, by=upload.imported_by)
    except (RuleViolation, NotAllowed) as error:
        _keep_plan(upload, plan)
        upload.status, upload.message = Upload.Status.FAILED, error.message
        upload.save(update_fields=["totals", "per_file", "shown_rows", "report", "status", "message"])
        return upload
    except Exception:
        log.exception("adoption upload %s failed", upload_id)
        upload.status = Upload.Status.FAILED
        upload.message = "The import stopped on an unexpected error: nothing was imported. ITSA's logs have the details."
        upload.save(update_fields=["status", "message"])
        raise
    upload.batch = applied.batch
    upload.validations = [validation.pk for validation in applied.validations]
    upload.status = Upload.Status.IMPORTED
    upload.message = "" if applied.batch else "Nothing to import: every row is already in the portal."
    upload.save(update_fields=["batch", "validations", "status", "message"])
    return upload
