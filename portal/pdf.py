"""PDF documents through WeasyPrint, safely.

Every document is a Django template rendered to HTML (user text escaped by the template engine)
and turned into a PDF here. Two guards apply to every render:

- The URL fetcher serves only the portal's own static files, addressed under `STATIC_BASE`.
  Nothing else is fetched: no `file://`, no network address, no `data:` URL, so nothing a user
  typed can make the server read a file or call a URL.
- The render runs in a forked child process that is killed when it takes longer than
  `settings.PDF_RENDER_SECONDS`: a pathological document cannot hold a worker.
"""

import gc
import hashlib
import logging
import mimetypes
import multiprocessing
import posixpath
import threading
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


def _child(html: str, sender) -> None:
    # The collector would walk every object inherited from the parent (a big heap in a web worker or a
    # test run) and copy its pages: only what the render allocates is the child's to collect.
    gc.freeze()
    try:
        sender.send_bytes(_write_pdf(html))
    except BaseException as exc:  # the parent turns any failure into RenderFailed
        sender.send_bytes(b"ERROR:" + repr(exc)[:500].encode())
    finally:
        sender.close()


_warm_lock = threading.Lock()
_warm = False


def _warm_up() -> None:
    """Load the fonts once in this process, so that every forked render starts with them: it halves
    the time of a one-page document. Done under a lock and before any fork, so no render is forked
    while this process is inside the font library."""
    global _warm
    if _warm:
        return
    with _warm_lock:
        if not _warm:
            _write_pdf('<html><head><link rel="stylesheet" href="print/document.css"></head><body><p>.</p></body></html>')
            _warm = True


def html_to_pdf(html: str, *, seconds: float | None = None) -> bytes:
    """Turn HTML into PDF bytes, within `seconds` (settings.PDF_RENDER_SECONDS by default)."""
    limit = settings.PDF_RENDER_SECONDS if seconds is None else seconds
    _warm_up()
    context = multiprocessing.get_context("fork")
    receiver, sender = context.Pipe(duplex=False)
    process = context.Process(target=_child, args=(html, sender), daemon=True)
    process.start()
    sender.close()
    try:
        if not receiver.poll(limit):
            raise RenderFailed(
                f"The document took longer than {limit:g} seconds to prepare and was stopped. "
                "Try a shorter period, or ask ITSA to run the report from the command line."
            )
        try:
            data = receiver.recv_bytes()
        except EOFError:
            raise RenderFailed("The document could not be prepared. Try again; if it keeps failing, tell ITSA.") from None
    finally:
        receiver.close()
        if process.is_alive():
            process.kill()
        process.join(5)
    if data.startswith(b"ERROR:"):
        logger.error("PDF render failed: %s", data[6:].decode(errors="replace"))
        raise RenderFailed("The document could not be prepared. Try again; if it keeps failing, tell ITSA.")
    return data


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
