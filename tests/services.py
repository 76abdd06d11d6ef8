"""Helpers for tests that need real services (PostgreSQL, Redis, Chromium).

Outside CI a missing service skips the test; in CI (``CI=true``) it fails it,
so a misconfigured pipeline cannot pass by silently skipping.
"""

import os
import shutil
import time

import pytest

CHROMIUM_ARGS = [
    "--no-sandbox",
    "--headless",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]

DEFAULT_REDIS_URL = "redis://127.0.0.1:6379/0"


def in_ci() -> bool:
    return os.environ.get("CI") == "true"


def _unavailable(message: str):
    if in_ci():
        pytest.fail(message, pytrace=False)
    pytest.skip(message)


def require_postgres() -> None:
    """Fail (CI) or skip unless the default database is PostgreSQL."""
    from django.db import connection

    if connection.vendor != "postgresql":
        _unavailable(
            "PostgreSQL is required in CI for this test "
            f"(default database is {connection.vendor!r}; set DATABASE_URL)."
        )


def require_redis(url: str | None = None) -> str:
    """Fail (CI) or skip unless Redis answers PING; returns the URL used."""
    import redis

    url = url or os.environ.get("REDIS_URL") or DEFAULT_REDIS_URL
    try:
        client = redis.Redis.from_url(url, socket_connect_timeout=1, socket_timeout=1)
        try:
            client.ping()
        finally:
            client.close()
    except redis.exceptions.RedisError as exc:
        _unavailable(f"Redis is required for this test but {url} did not answer: {exc}")
    return url


def chromium_path() -> str:
    """Path of the Chromium executable for Playwright; fail (CI) or skip if absent."""
    configured = os.environ.get("CHROMIUM_PATH")
    candidates = [configured] if configured else [
        "/usr/bin/chromium",
        shutil.which("chromium") or "",
        shutil.which("chromium-browser") or "",
    ]
    for path in candidates:
        if path and os.path.isfile(path) and os.access(path, os.X_OK):
            return path
    where = f"CHROMIUM_PATH={configured}" if configured else "/usr/bin/chromium"
    _unavailable(f"Chromium is required for this test but was not found ({where}).")
    raise AssertionError("unreachable")  # pytest.skip/fail raise


def eventually(check, seconds: float = 20):
    """Poll until `check()` returns something truthy, for at most `seconds` (a real worker takes
    its time); return its last answer."""
    deadline = time.monotonic() + seconds
    while True:
        answer = check()
        if answer or time.monotonic() > deadline:
            return answer
        time.sleep(0.1)
