"""The documents cannot be turned against the server (issue 4, "Safety").

WeasyPrint fetches what a document links to: stylesheets, images, objects, attachments. The
portal's fetcher serves only its own static files, so a name or a justification that carries
markup cannot make the server read a local file, call an address on its network, or embed a file
in the PDF; the templates escape user text, so that markup is printed as the words it is. Every
render is bounded in time.

Each test here that renders a document watches a loopback HTTP server that counts every
connection made to it, and reads the PDF back with pypdf: its text, its annotations and every
object in the file.
"""

import http.server
import io
import multiprocessing
import os
import threading
import time
import unicodedata
from pathlib import Path
from urllib.request import urlopen

import pytest
from conftest import PASSWORD, pdf_text, provisioned
from django.conf import settings as django_settings
from django.contrib.staticfiles import finders
from django.utils import timezone
from pypdf import PdfReader
from pypdf.generic import ArrayObject, DictionaryObject, IndirectObject

from access_requests.models import WrittenRequest
from audits.documents import attestation_document
from reports.metrics import Period
from reports.models import PublishedReport
from reports.services import report_document
from reports.selectors import report_tables
from audits.services import open_due_validations, validation_item_decide, validation_sign_off
from portal.errors import RuleViolation
from portal.pdf import STATIC_BASE, RenderFailed, StaticFilesOnly, UnsafeURL, html_to_pdf, static_file

Kind = PublishedReport.Kind
PASSWD = Path("/etc/passwd")


# --- A server that counts every connection made to it ---------------------------------------------

class CountingServer(http.server.ThreadingHTTPServer):
    """Counts connections, not just complete requests: a fetch that only opens a socket shows too."""

    daemon_threads = True

    def __init__(self):
        super().__init__(("127.0.0.1", 0), CountingHandler)
        self.connections = 0
        self.paths = []
        self._lock = threading.Lock()

    def verify_request(self, request, client_address):
        with self._lock:
            self.connections += 1
        return True

    @property
    def port(self) -> int:
        return self.server_address[1]


class CountingHandler(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        self.server.paths.append(self.path)
        body = b"body { color: red }"
        self.send_response(200)
        self.send_header("Content-Type", "text/css")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


@pytest.fixture
def loopback():
    server = CountingServer()
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()
    thread.join(5)


def hostile_strings(port: int) -> dict[str, str]:
    return {
        "img-file": '<img src="file:///etc/passwd">',
        "link-metadata": '<a href="http://169.254.169.254/latest/meta-data/">x</a>',
        "style-import": f'<style>@import url("http://127.0.0.1:{port}/x.css");</style>',
        "stylesheet": f'<link rel="stylesheet" href="http://127.0.0.1:{port}/y.css">',
        "object": f'<object data="http://127.0.0.1:{port}/o">',
        "attachment": '<link rel="attachment" href="file:///etc/passwd">',
        "css-url": "url(file:///etc/passwd)",
        "template": "{{ settings.SECRET_KEY }}",
    }


HOSTILE_KINDS = list(hostile_strings(0))


# --- Reading a PDF back ------------------------------------------------------------------------

def flat(text: str) -> str:
    """The text without any whitespace: pypdf breaks lines where the layout wrapped them."""
    return "".join(unicodedata.normalize("NFKC", text).split())


def pdf_objects(reader: PdfReader):
    """Every object reachable from the trailer, each indirect object once."""
    seen, stack = set(), [reader.trailer]
    while stack:
        obj = stack.pop()
        if isinstance(obj, IndirectObject):
            if (obj.idnum, obj.generation) in seen:
                continue
            seen.add((obj.idnum, obj.generation))
            obj = obj.get_object()
        yield obj
        if isinstance(obj, DictionaryObject):  # streams too
            stack.extend(obj.values())
        elif isinstance(obj, ArrayObject):
            stack.extend(obj)


FORBIDDEN_KEYS = {"/EmbeddedFile", "/EmbeddedFiles", "/JavaScript", "/JS", "/Launch", "/AA", "/OpenAction"}
FORBIDDEN_VALUES = {"/EmbeddedFile", "/Filespec", "/JavaScript", "/Launch", "/GoToR", "/ImportData", "/SubmitForm"}


def unsafe_parts(content: bytes, *, port: int) -> list[str]:
    """What a document must never hold: embedded files, scripts, launch actions, images, and links
    to the metadata address, the loopback server or a local file."""
    reader = PdfReader(io.BytesIO(content))
    found = [f"attachment {name}" for name in reader.attachments]
    for obj in pdf_objects(reader):
        if not isinstance(obj, DictionaryObject):
            continue
        found += [f"key {key}" for key in obj if key in FORBIDDEN_KEYS]
        found += [f"{key} {value}" for key, value in obj.items()
                  if key in ("/Type", "/S", "/Subtype") and value in FORBIDDEN_VALUES]
        if obj.get("/Subtype") == "/Image":
            found.append("an image XObject")
    for number, page in enumerate(reader.pages, 1):
        for annotation in page.get("/Annots") or []:
            annotation = annotation.get_object()
            action = annotation.get("/A")
            target = str(action.get_object().get("/URI", "")) if action is not None else ""
            if any(mark in target for mark in ("169.254", f":{port}", "file:")):
                found.append(f"page {number}: link to {target}")
    return found


def passwd_lines() -> list[str]:
    lines = [line for line in PASSWD.read_text().splitlines() if line.strip()] if PASSWD.exists() else []
    return lines or ["root:x:0:0"]


# --- The fetcher --------------------------------------------------------------------------------

@pytest.mark.parametrize("url", [
    "file:///etc/passwd",
    "http://169.254.169.254/latest/meta-data/",
    "http://127.0.0.1:8000/",
    "http://localhost/print/document.css",
    "data:text/css;base64,Ym9keXt9",
    "data:image/svg+xml,<svg xmlns='http://www.w3.org/2000/svg'/>",
    "ftp://static.portal.invalid/print/document.css",
    "http://static.portal.invalid/print/document.css",
    "https://static.portal.invalid.example.com/print/document.css",
    "https://user@static.portal.invalid/print/document.css",
    "https://static.portal.invalid:8443/print/document.css",
    "https://static.portal.invalid/../../etc/passwd",
    "https://static.portal.invalid/print/../../../etc/passwd",
    "https://static.portal.invalid/%2e%2e/%2e%2e/etc/passwd",
    "https://static.portal.invalid/%2E%2E%2F%2E%2E%2Fetc%2Fpasswd",
    "https://static.portal.invalid/print/%2e%2e/%2e%2e/%2e%2e/etc/passwd",
    "https://static.portal.invalid//etc/passwd",
    "https://static.portal.invalid/print/document.css%00.png",
    "https://static.portal.invalid/print/document.css?v=1",
    "https://static.portal.invalid/print/document.css#top",
    "https://static.portal.invalid/",
    "https://static.portal.invalid/no-such-file.css",
])
def test_the_fetcher_refuses_anything_but_the_portals_static_files(url):
    """Safety: no file://, no network address, no data: URL, no escape from the static files."""
    with pytest.raises(UnsafeURL):
        static_file(url)


def test_a_folder_of_the_static_files_is_refused_like_any_other_url():
    """The contract: everything but a static file raises UnsafeURL (a folder is not a file)."""
    with pytest.raises(UnsafeURL):
        static_file(STATIC_BASE + "print")


def test_the_fetcher_gives_the_bytes_of_a_static_file():
    expected = Path(finders.find("print/document.css")).read_bytes()

    assert static_file(STATIC_BASE + "print/document.css") == expected
    response = StaticFilesOnly().fetch(STATIC_BASE + "print/document.css")
    assert response.read() == expected
    assert response.content_type == "text/css"


def test_the_fetcher_has_no_way_to_open_a_file_or_a_socket():
    """Even called around its own check, the fetcher's urllib machinery holds no handler at all."""
    fetcher = StaticFilesOnly()

    assert fetcher.handlers == []
    with pytest.raises(UnsafeURL):
        fetcher.open("file:///etc/passwd")


# --- Hostile text in every free-text field, through every document -------------------------------

def _save(obj, **fields):
    for name, value in fields.items():
        setattr(obj, name, value)
    obj.save(update_fields=list(fields))


@pytest.fixture
def hostile_city(city, loopback, request):
    """The city with the hostile string, tagged by field, in every free text that reaches a document."""
    payload = hostile_strings(loopback.port)[request.param]

    def tagged(field):
        return f"{field} {payload}"

    _save(city.police, name=tagged("department"))
    _save(city.vms, name=tagged("system"))
    _save(city.crime_detection, name=tagged("use"))
    intended = city.crime_detection.intended_use
    _save(intended, name=tagged("intended"), conditions=intended.conditions + "\n" + tagged("condition"))
    city.crime_detection.refresh_from_db()
    for person, field in ((city.officer, "officer"), (city.analyst, "analyst"), (city.requester, "requester"),
                          (city.head, "head")):
        _save(person, full_name=tagged(field))
    _save(city.officer, title=tagged("title"))
    city.tagged = tagged
    return city


def _documents(city) -> dict[str, tuple[bytes, list[str]]]:
    """Every document, made through the services, with the tagged fields each one prints."""
    officer = provisioned(city, justification=city.tagged("justification"))
    provisioned(city, person=city.analyst, justification=city.tagged("justification"))
    written = WrittenRequest.objects.get(request=officer)

    [validation] = open_due_validations()
    items = {item.grant.person_id: item for item in validation.items.select_related("grant")}
    validation_item_decide(item=items[city.officer.pk], decision="keep", reason=city.tagged("keep"), by=city.head)
    validation_item_decide(item=items[city.analyst.pk], decision="revoke", reason=city.tagged("revoke"),
                           by=city.head)
    validation = validation_sign_off(validation=validation, by=city.head, password=PASSWORD)

    today = timezone.localdate()
    year, half = Period.year(today.year), Period.half(today.year, 1 if today.month <= 6 else 2)
    department_report = report_document(
        kind=Kind.DEPARTMENT_ANNUAL, department=city.police, period=year,
        tables=report_tables(kind=Kind.DEPARTMENT_ANNUAL, department=city.police, period=year))
    city_report = report_document(
        kind=Kind.CITY_BIANNUAL, department=None, period=half,
        tables=report_tables(kind=Kind.CITY_BIANNUAL, department=None, period=half))

    return {
        "written request": (bytes(written.pdf), [
            "justification", "officer", "title", "requester", "head", "department", "system", "use", "intended",
            "condition"]),
        "attestation": (attestation_document(validation=validation).content, [
            "officer", "analyst", "head", "department", "system", "use", "keep", "revoke"]),
        "department report": (department_report.content, ["department", "system", "use", "intended"]),
        "city report": (city_report.content, ["system", "use", "intended"]),
    }


@pytest.mark.parametrize("hostile_city", HOSTILE_KINDS, indirect=True)
def test_hostile_text_in_every_field_is_printed_as_text_and_fetches_nothing(hostile_city, loopback):
    """S3.4d S2.6 Safety: markup typed into names, titles, justifications and reasons, and into the
    names of departments, systems and Table 1's uses, reaches no file and no address, embeds nothing,
    and is printed as the very characters typed (escaped, never interpreted)."""
    city = hostile_city

    documents = _documents(city)

    assert loopback.connections == 0, loopback.paths
    for name, (content, fields) in documents.items():
        text = pdf_text(content, layout=True)
        assert content.startswith(b"%PDF-"), name
        assert unsafe_parts(content, port=loopback.port) == [], name
        for line in passwd_lines():
            assert line not in text, f"{name} holds a line of /etc/passwd"
        for field in fields:
            assert flat(city.tagged(field)) in flat(text), f"{name}: the {field} is not printed as typed"


@pytest.mark.parametrize("hostile_city", ["template"], indirect=True)
def test_a_template_tag_in_user_text_is_printed_literally_and_the_secret_key_never(hostile_city, loopback):
    """S3.4d Safety: user text is data for the template, never part of it."""
    documents = _documents(hostile_city)

    for name, (content, _fields) in documents.items():
        text = pdf_text(content, layout=True)
        assert flat("{{ settings.SECRET_KEY }}") in flat(text), name
        assert django_settings.SECRET_KEY not in text, name
        assert flat(django_settings.SECRET_KEY) not in flat(text), name


def test_even_unescaped_markup_reaches_no_file_and_no_address(loopback):
    """Safety, beneath the templates: were a template ever to print user text unescaped, the
    fetcher would still refuse every stylesheet, image, object and attachment it names."""
    port = loopback.port
    html = (
        '<!DOCTYPE html><html><head><link rel="stylesheet" href="print/document.css">'
        + "".join(hostile_strings(port).values())
        + f'<link rel="stylesheet" href="http://127.0.0.1:{port}/z.css">'
        + f'<style>body {{ background: url("http://127.0.0.1:{port}/bg.png") }}</style></head><body>'
        + '<h1>Raw</h1><img src="file:///etc/passwd" alt=""><img src="/etc/passwd" alt="">'
        + f'<img src="http://127.0.0.1:{port}/i.png" alt=""><embed src="http://127.0.0.1:{port}/e">'
        + f'<iframe src="http://127.0.0.1:{port}/f"></iframe>'
        + f'<a rel="attachment" href="http://127.0.0.1:{port}/a">attached</a>'
        + '<a rel="attachment" href="file:///etc/passwd">passwd</a>'
        + '<svg xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink" width="40" height="40">'
        + f'<image href="file:///etc/passwd" width="40" height="40"/><image xlink:href="http://127.0.0.1:{port}/s.png"'
        + ' width="40" height="40"/></svg></body></html>'
    )

    content = html_to_pdf(html, seconds=60)

    assert loopback.connections == 0, loopback.paths
    reader = PdfReader(io.BytesIO(content))
    assert list(reader.attachments) == []
    problems = [part for part in unsafe_parts(content, port=port) if not part.startswith("page ")]
    assert problems == []
    text = pdf_text(content, layout=True)
    assert "Raw" in text
    assert not any(line in text for line in passwd_lines())


def test_the_counting_server_does_see_a_fetch(loopback):
    """The control for the tests above: a fetch from this process to the server is counted."""
    with urlopen(f"http://127.0.0.1:{loopback.port}/probe.css", timeout=5) as response:
        assert response.status == 200

    assert loopback.connections == 1
    assert loopback.paths == ["/probe.css"]


def test_the_pdf_checks_do_find_an_attachment_an_image_and_an_outside_link(loopback):
    """The control for `unsafe_parts`: markup the portal's own static files allow, written straight
    into the HTML (never from user text), shows every kind of finding the tests above look for."""
    content = html_to_pdf(
        '<!DOCTYPE html><html><head><link rel="attachment" href="print/document.css"></head><body>'
        '<img src="uswds/img/us_flag_small.png" alt="">'
        f'<a href="http://169.254.169.254/latest/meta-data/">metadata</a><a href="http://127.0.0.1:{loopback.port}/">'
        'loopback</a></body></html>', seconds=60)

    found = unsafe_parts(content, port=loopback.port)

    assert "attachment document.css" in found
    assert "/Type /EmbeddedFile" in found
    assert "an image XObject" in found
    assert "page 1: link to http://169.254.169.254/latest/meta-data/" in found
    assert f"page 1: link to http://127.0.0.1:{loopback.port}/" in found
    assert loopback.connections == 0

def test_a_url_the_fetcher_refuses_is_never_fetched_by_another_handler(loopback):
    """The refusal happens before urllib: nothing connects even when the URL is well-formed."""
    with pytest.raises(UnsafeURL):
        StaticFilesOnly().fetch(f"http://127.0.0.1:{loopback.port}/direct.css")

    assert loopback.connections == 0


# --- The time bound -------------------------------------------------------------------------------

def _slow_html() -> str:
    # Enough table rows to keep WeasyPrint busy far longer than the limit below.
    rows = "".join(f"<tr><td>{n}</td><td>{'word ' * 40}</td></tr>" for n in range(40_000))
    return f"<!DOCTYPE html><html><body><table>{rows}</table></body></html>"


def test_a_render_that_runs_too_long_is_stopped_and_leaves_no_process(settings):
    """Safety: a render is bounded in time. The child process is killed and reaped; the caller gets
    RenderFailed, a RuleViolation the pages turn into a message."""
    settings.PDF_RENDER_SECONDS = 0.5
    before = _children()
    html = _slow_html()

    started = time.monotonic()
    with pytest.raises(RenderFailed) as stopped:
        html_to_pdf(html)
    elapsed = time.monotonic() - started

    assert isinstance(stopped.value, RuleViolation)
    assert "longer than 0.5 seconds" in str(stopped.value)
    assert elapsed < 5, "the render was not stopped at its limit"
    assert _children() - before == set()


def test_a_render_within_its_limit_gives_a_pdf(settings):
    settings.PDF_RENDER_SECONDS = 60
    content = html_to_pdf('<!DOCTYPE html><html><body><p>Within the limit.</p></body></html>')

    assert content.startswith(b"%PDF-")
    assert "Within the limit." in pdf_text(content, layout=True)


def _children() -> set[int]:
    """This process's child processes, zombies included (a render left unreaped shows here)."""
    mine = os.getpid()
    found = set()
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == mine:
            found.add(int(stat.parent.name))
    return found


def _render_in_a_daemonic_process(queue) -> None:
    try:
        queue.put(html_to_pdf("<!DOCTYPE html><html><body><p>From a pool child.</p></body></html>", seconds=60))
    except BaseException as exc:
        queue.put(repr(exc))


def test_a_render_works_inside_a_daemonic_process_like_a_prefork_worker_child():
    """A Celery prefork child is a daemonic process, and multiprocessing refuses to start children from
    one ("daemonic processes are not allowed to have children"): the render must not depend on it."""
    context = multiprocessing.get_context("fork")
    queue = context.Queue()
    process = context.Process(target=_render_in_a_daemonic_process, args=(queue,), daemon=True)
    process.start()
    result = queue.get(timeout=120)
    process.join(10)

    assert isinstance(result, bytes), result
    assert "From a pool child." in pdf_text(result, layout=True)

