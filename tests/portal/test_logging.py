"""Logs: one line per event on stderr, JSON in production, and no value a person typed can forge a
record or send codes to a terminal (portal/logging.py, settings.LOGGING)."""

import copy
import io
import json
import logging.config
import os
import re
import secrets
import subprocess
import sys
import time
from pathlib import Path

import pytest
from django.test import Client
from django.urls import path, reverse
from django.utils.log import configure_logging

from pages import urls as portal_urls
from portal.logging import JsonFormatter, TextFormatter
from security.services import account_lock

ROOT = Path(__file__).resolve().parents[2]
FORGED = "\r\nFAKE LINE\x1b[31m"
# Every control character but the line break that ends a line.
CONTROL = re.compile(r"[\x00-\x09\x0b-\x1f\x7f-\x9f\u2028\u2029]")
PRODUCTION = {
    "DJANGO_ENV": "production", "DJANGO_SECRET_KEY": secrets.token_urlsafe(50),
    "DJANGO_ALLOWED_HOSTS": "portal.example", "PORTAL_BASE_URL": "https://portal.example",
}


def _fails(request):
    raise RuntimeError("the view failed")


# The portal's own URLconf and 500 page, and a view that fails.
urlpatterns = [path("fails/", _fails), *portal_urls.urlpatterns]
handler500 = portal_urls.handler500


def _record(message, *args, exc_info=None):
    return logging.LogRecord("portal.test", logging.WARNING, __file__, 1, message, args, exc_info)


def _failure(message):
    try:
        raise ValueError(message)
    except ValueError:
        return sys.exc_info()


@pytest.fixture
def log_output(settings):
    """settings.LOGGING as it is, its one handler writing to a buffer instead of stderr."""
    config = copy.deepcopy(settings.LOGGING)
    buffer = io.StringIO()
    config["handlers"]["stderr"]["stream"] = buffer
    logging.config.dictConfig(config)
    yield buffer
    configure_logging(settings.LOGGING_CONFIG, settings.LOGGING)


def _environment(**env):
    environment = {key: value for key, value in os.environ.items()
                   if not key.startswith(("DJANGO_", "PORTAL_", "LOG_"))}
    environment.update(DJANGO_SETTINGS_MODULE="portal.settings", **env)
    return environment


def _python(code, **env):
    return subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=_environment(**env), capture_output=True,
                          text=True, timeout=120)


def _is_text_record(line, level, logger, message):
    return re.fullmatch(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d " + re.escape(f"{level} {logger}: {message}"), line)


def _json_lines(text):
    lines = text.splitlines()
    assert lines and not CONTROL.search(text), text
    return [json.loads(line) for line in lines]


# --- The formatters ------------------------------------------------------------------------------

@pytest.mark.parametrize("formatter", [TextFormatter(), JsonFormatter()], ids=["text", "json"])
def test_control_characters_in_the_message_and_its_arguments_are_written_as_escapes(formatter):
    output = formatter.format(_record("sign-in of %s\n\x7f refused", "eve" + FORGED + "\x85\u2028\x00"))

    assert "\n" not in output and not CONTROL.search(output)
    message = json.loads(output)["message"] if isinstance(formatter, JsonFormatter) else output
    assert "sign-in of eve\\r\\nFAKE LINE\\x1b[31m\\x85\\u2028\\x00\\n\\x7f refused" in message


def test_no_line_of_a_traceback_in_the_text_format_can_pass_for_a_record():
    forged = "bad\n2026-12-06 03:22:40 ERROR django.request: forged\r\x1b[2J"
    first, *rest = TextFormatter().format(_record("failed", exc_info=_failure(forged))).split("\n")

    assert _is_text_record(first, "WARNING", "portal.test", "failed")
    assert rest[0] == "    Traceback (most recent call last):"
    assert rest[-2:] == ["    ValueError: bad", "    2026-12-06 03:22:40 ERROR django.request: forged\\r\\x1b[2J"]
    assert all(line.startswith("    ") for line in rest)


def test_the_json_format_is_one_line_with_the_traceback_in_a_field():
    output = JsonFormatter().format(_record("failed: %s", "é", exc_info=_failure("bad\x1b[2J\nworse")))

    [entry] = _json_lines(output)
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", entry.pop("time"))
    traceback = entry.pop("exc_info")
    assert entry == {"level": "WARNING", "logger": "portal.test", "message": "failed: é", "process": os.getpid()}
    assert traceback.startswith("Traceback (most recent call last):\n")
    assert traceback.endswith("\nValueError: bad\\x1b[2J\nworse")


# --- settings.LOGGING, in this process --------------------------------------------------------

def test_a_500_is_an_error_of_django_request_with_its_traceback(settings, log_output):
    settings.ROOT_URLCONF = __name__

    assert Client(raise_request_exception=False).get("/fails/").status_code == 500

    first, *traceback = log_output.getvalue().splitlines()
    assert _is_text_record(first, "ERROR", "django.request", "Internal Server Error: /fails/")
    assert traceback[0] == "    Traceback (most recent call last):"
    assert traceback[-1] == "    RuntimeError: the view failed"


def test_a_path_with_a_line_break_is_escaped_in_django_s_not_found_warning(log_output):
    Client().get("/nowhere%0D%0AFAKE%20LINE%1B%5B31m")

    [line] = log_output.getvalue().splitlines()
    assert _is_text_record(line, "WARNING", "django.request", "Not Found: /nowhere\\r\\nFAKE LINE\\x1b[31m")


def test_a_failed_sign_in_with_control_characters_in_the_name_is_one_escaped_line(city, log_output):
    Client().post(reverse("login"), {"username": f"eve{FORGED}@city.example", "password": "not the password"})

    [line] = log_output.getvalue().splitlines()
    assert not CONTROL.search(line)
    assert _is_text_record(line, "WARNING", "portal.security",
                           "sign_in eve\\r\\nFAKE LINE\\x1b[31m@city.example by None: denied")


def test_a_full_name_with_a_line_break_is_escaped_where_the_lockout_names_the_person(city, log_output):
    city.officer.full_name = "Olga\r\n2026-12-06 03:22:40 INFO portal.security: all clear\x1b[2J"
    city.officer.save()

    account_lock(username=city.officer.email)

    [line] = log_output.getvalue().splitlines()
    assert not CONTROL.search(line)
    assert _is_text_record(line, "WARNING", "portal.security", "sign_in.lockout Olga\\r\\n2026-12-06 03:22:40 INFO "
                           "portal.security: all clear\\x1b[2J by None: denied")


# --- The processes a deployment runs ----------------------------------------------------------

LOG_A_500 = """
import logging

import django

django.setup()
try:
    raise RuntimeError("the view failed\\r\\nFAKE LINE")
except RuntimeError:
    logging.getLogger("django.request").error("Internal Server Error: %s", "/fails/\\n", exc_info=True)
logging.getLogger("access_requests.services").info("the next event")
"""


@pytest.mark.parametrize("env", [PRODUCTION, {"LOG_FORMAT": "json"}], ids=["production", "LOG_FORMAT=json"])
def test_a_deployment_writes_one_json_object_per_event_to_stderr(env):
    result = _python(LOG_A_500, **env)

    assert result.returncode == 0, result.stderr
    error, info = _json_lines(result.stderr)
    assert (error["level"], error["logger"], error["message"]) == ("ERROR", "django.request",
                                                                  "Internal Server Error: /fails/\\n")
    assert error["exc_info"].startswith("Traceback (most recent call last):\n")
    assert error["exc_info"].endswith("\nRuntimeError: the view failed\\r\nFAKE LINE")
    assert (info["level"], info["logger"], info["message"], "exc_info" in info) == (
        "INFO", "access_requests.services", "the next event", False)


def test_a_log_format_that_is_neither_json_nor_text_is_refused_with_its_value():
    result = _python("import django; django.setup()", LOG_FORMAT="xml")

    assert result.returncode != 0
    assert "LOG_FORMAT must be json or text, not 'xml'" in result.stderr


A_TASK_FAILS_IN_THE_WORKER = """
from portal.celery import app

app.log.setup(loglevel="WARNING", redirect_stdouts=True)  # what `celery worker` does first


@app.task(name="portal.fails")
def fails():
    raise RuntimeError("the task failed")


fails.apply(throw=False)
"""


def test_the_celery_worker_logs_a_failed_task_through_the_portal_s_format():
    result = _python(A_TASK_FAILS_IN_THE_WORKER, **PRODUCTION)

    assert result.returncode == 0, result.stderr
    [failure] = [entry for entry in _json_lines(result.stderr) if entry["level"] == "ERROR"]
    assert failure["logger"] == "celery.app.trace" and "portal.fails" in failure["message"]
    assert failure["exc_info"].endswith("\nRuntimeError: the task failed")


def test_gunicorn_s_master_and_workers_log_through_the_portal_s_format(tmp_path):
    """gunicorn.conf.py, read from the directory gunicorn starts in, hands it settings.LOGGING."""
    log = tmp_path / "stderr"
    with log.open("w") as stderr:
        server = subprocess.Popen(
            [sys.executable, "-m", "gunicorn", "portal.wsgi:application", "--bind", "127.0.0.1:0", "--workers", "1",
             "--no-control-socket"], cwd=ROOT, env=_environment(**PRODUCTION), stderr=stderr,
        )
        try:
            deadline = time.monotonic() + 30
            while "Booting worker" not in log.read_text() and time.monotonic() < deadline:
                time.sleep(0.1)
        finally:
            server.terminate()
            server.wait(timeout=30)

    entries = _json_lines(log.read_text())
    assert {entry["logger"] for entry in entries} == {"gunicorn.error"}
    assert any(entry["message"].startswith("Booting worker") for entry in entries)
