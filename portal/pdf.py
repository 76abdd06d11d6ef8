"""PDF documents through WeasyPrint, safely.

Every document is a Django template rendered to HTML (user text escaped by the template engine)
and turned into a PDF here. Two guards apply to every render:

- The URL fetcher serves only the portal's own static files, addressed under `STATIC_BASE`.
  Nothing else is fetched: no `file://`, no network address, no `data:` URL, so nothing a user
  typed can make the server read a file or call a URL.
- The render runs in a forked child process that is killed when it takes longer than
  `settings.PDF_RENDER_SECONDS`: a pathological document cannot hold a worker.
"""

import contextlib
import gc
import hashlib
import logging
import mimetypes
import os
import posixpath
import select
import signal
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import unquote, urlsplit
from urllib.request import OpenerDirector

import weasyprint
from django.conf import settings
from django.contrib.staticfiles import finders
from django.template.loader import render_to_string
from weasyprint.urls import URLFetcher, URLFetcherResponse

from .errors import RuleViolation

logger = logging.getLogger(__name__)

# The documents' base URL: a reserved name (RFC 2606) that never resolves, mapped to the static files.
STATIC_BASE = "https://static.portal.invalid/"


class UnsafeURL(ValueError):
    """A document asked for something other than the portal's own static files."""


class RenderFailed(RuleViolation):
    """The PDF could not be made; the message says what to do."""


class StaticFilesOnly(URLFetcher):
    """WeasyPrint's URL fetcher: the portal's static files, and nothing else.

    No urllib handler is installed at all, so even a mistake here cannot open a file or a socket."""

    def __init__(self):
        OpenerDirector.__init__(self)  # deliberately without URLFetcher's handlers
        self._fail_on_errors = False
        self._request = None

    def fetch(self, url, headers=None):
        return URLFetcherResponse(url, body=static_file(url), headers={"Content-Type": _content_type(url)})


def _content_type(url: str) -> str:
    return mimetypes.guess_type(urlsplit(url).path)[0] or "application/octet-stream"


def static_file(url: str) -> bytes:
    """The bytes of one of the portal's static files, named by a URL under STATIC_BASE; else UnsafeURL."""
    parts = urlsplit(url)
    if parts.scheme != "https" or parts.netloc != urlsplit(STATIC_BASE).netloc or parts.query or parts.fragment:
        logger.warning("PDF render refused to fetch %.200r", url)
        raise UnsafeURL(f"Only the portal's own static files may be used in a document, not {url[:200]!r}.")
    path = posixpath.normpath(unquote(parts.path)).lstrip("/")
    if not path or path.startswith("..") or "\x00" in path:
        raise UnsafeURL(f"Not a static file: {url[:200]!r}.")
    found = finders.find(path)
    if not found and settings.STATIC_ROOT and (Path(settings.STATIC_ROOT) / path).is_file():
        found = Path(settings.STATIC_ROOT) / path
    if not found or not Path(found).is_file():
        raise UnsafeURL(f"No such static file: {path[:200]!r}.")
    with open(found, "rb") as handle:
        return handle.read()


def _write_pdf(html: str) -> bytes:
    return weasyprint.HTML(string=html, base_url=STATIC_BASE, url_fetcher=StaticFilesOnly()).write_pdf()


def _child(html: str, write_fd: int) -> None:
    """The forked render: writes b"OK" and the PDF, or b"ER" and the failure, then leaves at once."""
    try:
        # The collector would walk every object inherited from the parent (a big heap in a web worker or
        # a test run) and copy its pages: only what the render allocates is the child's to collect.
        gc.freeze()
        try:
            payload = b"OK" + _write_pdf(html)
        except BaseException as exc:  # the parent turns any failure into RenderFailed
            payload = b"ER" + repr(exc)[:500].encode()
        view = memoryview(payload)
        while view:
            view = view[os.write(write_fd, view):]
    finally:
        # Never return into the parent's code (a gunicorn or Celery loop, pytest): no atexit, no
        # finalizers closing the parent's database connection.
        os._exit(0)


_warm_lock = threading.Lock()
_warm = False


def _warm_up() -> None:
    """Load the fonts once in this process, so that every forked render starts with them rather than
    loading its own. Under a lock, so no render forks while this process is inside the font library."""
    global _warm
    if _warm:
        return
    with _warm_lock:
        if not _warm:
            _write_pdf('<html><head><link rel="stylesheet" href="print/document.css"></head><body><p>.</p></body></html>')
            _warm = True


def html_to_pdf(html: str, *, seconds: float | None = None) -> bytes:
    """Turn HTML into PDF bytes, within `seconds` (settings.PDF_RENDER_SECONDS by default).

    A plain fork, not multiprocessing: a Celery prefork child is a daemonic process, and
    multiprocessing refuses to start children from one."""
    limit = settings.PDF_RENDER_SECONDS if seconds is None else seconds
    _warm_up()
    read_fd, write_fd = os.pipe()
    pid = os.fork()
    if pid == 0:
        os.close(read_fd)
        _child(html, write_fd)
    os.close(write_fd)
    chunks: list[bytes] = []
    finished = False
    try:
        deadline = time.monotonic() + limit
        while True:
            left = deadline - time.monotonic()
            if left <= 0 or not select.select([read_fd], [], [], left)[0]:
                break
            chunk = os.read(read_fd, 1 << 20)
            if not chunk:
                finished = True
                break
            chunks.append(chunk)
    finally:
        os.close(read_fd)
        if not finished:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        os.waitpid(pid, 0)
    if not finished:
        raise RenderFailed(
            f"The document took longer than {limit:g} seconds to prepare and was stopped. "
            "Try a shorter period, or ask ITSA to run the report from the command line."
        )
    data = b"".join(chunks)
    if not data.startswith(b"OK"):
        logger.error("PDF render failed: %s", data[2:].decode(errors="replace") or "the render process died")
        raise RenderFailed("The document could not be prepared. Try again; if it keeps failing, tell ITSA.")
    return data[2:]


@dataclass(frozen=True)
class Document:
    """A rendered PDF and its fingerprint."""

    content: bytes
    sha256: str


def render_document(template_name: str, context: dict, *, seconds: float | None = None) -> Document:
    """Render a `templates/pdf/` template to a PDF and its SHA-256."""
    html = render_to_string(template_name, context)
    content = html_to_pdf(html, seconds=seconds)
    return Document(content=content, sha256=hashlib.sha256(content).hexdigest())


def stored_file_matches(field_file, sha256: str) -> bool:
    """A file written once and kept (a published report, a signed attestation) still has the SHA-256
    taken when it was written."""
    if not field_file or not sha256:
        return False
    digest = hashlib.sha256()
    try:
        with field_file.open("rb") as handle:
            for chunk in iter(lambda: handle.read(1 << 16), b""):
                digest.update(chunk)
    except (FileNotFoundError, ValueError):
        return False
    return digest.hexdigest() == sha256
