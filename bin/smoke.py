"""The production smoke run, started by bin/smoke once PostgreSQL and Redis are up.

It starts the processes of docker-compose.yml through the same command lines (deploy/run): migrate,
gunicorn, a Celery worker with the prefork pool, beat, an SMTP server on loopback, and Caddy
terminating TLS in front of gunicorn (deploy/Caddyfile, `tls internal`), all with
DJANGO_ENV=production. Then, through HTTPS only and with a real HTTP client, it walks what a city does
on its first day and prints each step; the first step that fails stops the run with exit code 1.

    python bin/smoke.py              # DATABASE_URL and REDIS_URL must point at empty services
    python bin/smoke.py --keep       # leave the logs folder behind
    python bin/smoke.py smtp-sink PORT MAILDIR DELAY   # (used by the run) the SMTP server
"""

import asyncio
import base64
import hashlib
import hmac
import json
import mailbox
import os
import re
import secrets
import shutil
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import time
from email import message_from_bytes
from email.policy import default as default_policy
from html import unescape
from pathlib import Path
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parent.parent
HOST = "localhost"
HTTPS_PORT = int(os.environ.get("SMOKE_HTTPS_PORT", "8448"))
HTTP_PORT = int(os.environ.get("SMOKE_HTTP_PORT", "8088"))
WEB_PORT = int(os.environ.get("SMOKE_WEB_PORT", "8011"))
SMTP_PORT = int(os.environ.get("SMOKE_SMTP_PORT", "2526"))
BASE_URL = f"https://{HOST}:{HTTPS_PORT}"
# The demo city's logins (seed_demo; README, "Demo logins").
DEMO_PASSWORD = "demo-city-2026"
DEMO_KEY = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"
REQUESTER, HEAD, ITSA = "police.requester@city.example", "police.head@city.example", "itsa@city.example"
BATCH = 60  # mails queued when the worker is killed
CLIENT_ADDRESS = "127.0.0.2"  # the people's address; Caddy reaches gunicorn from 127.0.0.1
STARTED = time.monotonic()


class SmokeFailed(Exception):
    pass


def step(text: str) -> None:
    print(f"[{time.monotonic() - STARTED:6.1f} s] {text}", flush=True)


def check(condition, message: str) -> None:
    if not condition:
        raise SmokeFailed(message)


def wait_for(what: str, probe, timeout: float, every: float = 0.25):
    deadline = time.monotonic() + timeout
    while True:
        result = probe()
        if result:
            return result
        if time.monotonic() > deadline:
            raise SmokeFailed(f"gave up waiting {timeout:g} s for {what}")
        time.sleep(every)


def totp(key: str, at: float | None = None) -> str:
    """RFC 6238, as an authenticator app computes it."""
    counter = int((time.time() if at is None else at) // 30)
    digest = hmac.new(base64.b32decode(key), struct.pack(">Q", counter), hashlib.sha1).digest()
    offset = digest[-1] & 0x0F
    return f"{(struct.unpack('>I', digest[offset:offset + 4])[0] & 0x7FFFFFFF) % 1_000_000:06d}"


# --- The processes ---------------------------------------------------------------------------------

class Stack:
    def __init__(self, folder: Path, env: dict):
        self.folder, self.env, self.processes = folder, env, {}
        (folder / "logs").mkdir(parents=True, exist_ok=True)

    def log(self, name: str) -> Path:
        return self.folder / "logs" / f"{name}.log"

    def start(self, name: str, command: list[str], env: dict | None = None) -> subprocess.Popen:
        handle = open(self.log(name), "ab")
        process = subprocess.Popen(command, cwd=ROOT, env={**self.env, **(env or {})}, stdout=handle,
                                   stderr=subprocess.STDOUT, start_new_session=True)
        self.processes[name] = process
        return process

    def run(self, name: str, command: list[str], timeout: float = 300) -> str:
        result = subprocess.run(command, cwd=ROOT, env=self.env, capture_output=True, text=True, timeout=timeout)
        self.log(name).write_text(result.stdout + result.stderr)
        check(result.returncode == 0, f"{' '.join(command)} failed:\n{result.stdout[-2000:]}{result.stderr[-3000:]}")
        return result.stdout

    def kill(self, name: str) -> None:
        """SIGKILL to the whole process group, as a crashed container or a lost machine would."""
        process = self.processes.pop(name)
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(10)

    def alive(self, name: str) -> bool:
        return self.processes[name].poll() is None

    def stop_all(self) -> None:
        for process in self.processes.values():
            if process.poll() is None:
                try:
                    os.killpg(process.pid, signal.SIGTERM)
                except ProcessLookupError:
                    continue
        deadline = time.monotonic() + 10
        for process in self.processes.values():
            try:
                process.wait(max(deadline - time.monotonic(), 0.1))
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait(5)


def environment(folder: Path) -> dict:
    for name in ("DATABASE_URL", "REDIS_URL"):
        check(os.environ.get(name), f"{name} is not set: run bin/smoke, which starts PostgreSQL and Redis")
    env = {key: value for key, value in os.environ.items()
           if not key.startswith(("DJANGO_", "PORTAL_", "CELERY_", "OUTGOING_EMAIL_", "LOG_"))}
    env.update({
        "DJANGO_ENV": "production",
        "DJANGO_SECRET_KEY": secrets.token_urlsafe(50),
        "AUDIT_CHAIN_KEY": secrets.token_urlsafe(50),
        "DJANGO_ALLOWED_HOSTS": HOST,
        "PORTAL_BASE_URL": BASE_URL,
        "PORTAL_TRUSTED_PROXIES": "127.0.0.1",
        "CELERY_BROKER_URL": os.environ["REDIS_URL"],
        "EMAIL_URL": f"smtp://127.0.0.1:{SMTP_PORT}",
        "PRIVATE_MEDIA_ROOT": str(folder / "private"),
        "STATIC_ROOT": str(folder / "static"),
        "GUNICORN_BIND": f"127.0.0.1:{WEB_PORT}",
        "GUNICORN_WORKERS": "2",
        "CELERY_HOSTNAME": "worker@smoke",
        "CELERY_BEAT_SCHEDULE_FILE": str(folder / "celerybeat-schedule"),
        # The sweep of unsent mail, every 5 s instead of every minute, so the run fits in minutes.
        "OUTGOING_EMAIL_SWEEP_AFTER": "5",
        "OUTGOING_EMAIL_SWEEP_EVERY": "5",
        "SMOKE_ROUTES": "1",
        # Caddy (deploy/Caddyfile).
        "PORTAL_SITE_ADDRESS": HOST,
        "PORTAL_UPSTREAM": f"127.0.0.1:{WEB_PORT}",
        "PORTAL_TLS": "internal",
        "CADDY_BIND": "127.0.0.1",
        "CADDY_HTTP_PORT": str(HTTP_PORT),
        "CADDY_HTTPS_PORT": str(HTTPS_PORT),
        "XDG_DATA_HOME": str(folder / "caddy-data"),
        "XDG_CONFIG_HOME": str(folder / "caddy-config"),
        "HOME": str(folder),
        # deploy/run calls python, gunicorn and celery by name: this interpreter's.
        "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}",
    })
    return env


# --- The browser stand-in --------------------------------------------------------------------------

class Person:
    """One person's HTTPS session: cookies, the CSRF token of the last form, the Referer a browser sends."""

    def __init__(self, httpx, ca: Path, email: str):
        self.email = email
        # From 127.0.0.2, so the audit trail can show it recorded the client, not the proxy (127.0.0.1).
        self.client = httpx.Client(base_url=BASE_URL, verify=str(ca), follow_redirects=True, timeout=60,
                                   transport=httpx.HTTPTransport(verify=str(ca), local_address=CLIENT_ADDRESS))
        self.page_url = BASE_URL + "/"
        self.html = ""

    def get(self, path: str, expect: int = 200):
        response = self.client.get(path)
        check(response.status_code == expect,
              f"GET {path} as {self.email}: {response.status_code}, expected {expect}\n{response.text[:1500]}")
        check(str(response.url).startswith("https://"), f"GET {path} left HTTPS: {response.url}")
        if "text/html" in response.headers.get("content-type", ""):
            self.page_url, self.html = str(response.url), response.text
        return response

    def post(self, path: str, data: dict, files=None, expect: int = 200):
        token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', self.html)
        check(token, f"no form with a CSRF token on {self.page_url}")
        response = self.client.post(path, data={"csrfmiddlewaretoken": token.group(1), **data}, files=files,
                                    headers={"Referer": self.page_url})
        check(response.status_code == expect,
              f"POST {path} as {self.email}: {response.status_code}, expected {expect}\n{response.text[:1500]}")
        if "text/html" in response.headers.get("content-type", ""):
            self.page_url, self.html = str(response.url), response.text
        return response

    def sign_in(self, *, with_code: bool) -> None:
        self.get("/accounts/login/")
        self.post("/accounts/login/", {"username": self.email, "password": DEMO_PASSWORD})
        if with_code:
            check("/accounts/verify/" in self.page_url, f"{self.email} was not asked for a code: {self.page_url}")
            self.post("/accounts/verify/", {"code": totp(DEMO_KEY)})
        check(urlsplit(self.page_url).path == "/", f"{self.email} did not reach the dashboard: {self.page_url}")
        check("Sign out" in self.html or "sign out" in self.html.lower(), f"{self.email} is not signed in")

    def messages(self) -> str:
        """The page's alerts and field errors, for a failure's message."""
        blocks = re.findall(r'class="(?:usa-alert__text|usa-error-message)"[^>]*>(.*?)</', self.html, re.S)
        return " / ".join(" ".join(unescape(re.sub(r"<[^>]+>", " ", block)).split()) for block in blocks)


def options(html: str, name: str) -> list[tuple[str, str]]:
    select = re.search(rf'<select[^>]*name="{name}"[^>]*>(.*?)</select>', html, re.S)
    check(select, f"no <select name={name}> on the page")
    return [(value, unescape(" ".join(re.sub(r"<[^>]+>", "", label).split())))
            for value, label in re.findall(r'<option value="([^"]*)"[^>]*>(.*?)</option>', select.group(1), re.S)
            if value]


def radios(html: str, name: str) -> list[tuple[str, str]]:
    """The choices a person search offered: its radio buttons and their labels."""
    return [(value, unescape(" ".join(re.sub(r"<[^>]+>", "", label).split())))
            for value, label in re.findall(
                rf'<input[^>]*type="radio"[^>]*name="{name}"[^>]*value="([^"]+)"[^>]*>\s*<label[^>]*>(.*?)</label>',
                html, re.S)]


def hidden_fields(html: str) -> dict:
    return {name: unescape(value) for name, value in re.findall(
        r'<input type="hidden" name="([^"]+)" value="([^"]*)"', html) if name != "csrfmiddlewaretoken"}


def checkbox_values(html: str, name: str) -> list[str]:
    return re.findall(rf'<input type="checkbox" name="{name}" value="([^"]+)"', html)


# --- Reading the database and the mailbox, as an operator would --------------------------------

def sql(query: str, *args):
    import psycopg

    url = os.environ["DATABASE_URL"]
    with psycopg.connect(url) as connection:
        return connection.execute(query, args).fetchall()


def received(maildir: Path) -> list:
    return [message_from_bytes(bytes(message), policy=default_policy) for message in mailbox.Maildir(maildir)]


# --- The journeys ----------------------------------------------------------------------------------

def main() -> int:
    import httpx

    keep = "--keep" in sys.argv
    folder = Path(tempfile.mkdtemp(prefix="portal-smoke-"))
    env = environment(folder)
    stack = Stack(folder, env)
    maildir = folder / "maildir"
    ok = False
    try:
        step("prepare: migrate and check --deploy (deploy/run migrate), collectstatic, the demo city")
        collect = subprocess.Popen([sys.executable, "manage.py", "collectstatic", "--noinput", "-v0"], cwd=ROOT,
                                   env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        stack.run("migrate", ["deploy/run", "migrate"])
        step("   migrated; loading the demo city")
        stack.run("seed", [sys.executable, "manage.py", "seed_demo", "--force"])
        output = collect.communicate(timeout=300)[0]
        check(collect.returncode == 0, f"collectstatic failed:\n{output[-3000:]}")

        step(f"start: SMTP on 127.0.0.1:{SMTP_PORT}, gunicorn on 127.0.0.1:{WEB_PORT}, the prefork worker, beat, "
             f"Caddy on https://{HOST}:{HTTPS_PORT}")
        stack.start("smtp", [sys.executable, __file__, "smtp-sink", str(SMTP_PORT), str(maildir), "0.2"])
        stack.start("web", ["deploy/run", "web"])
        stack.start("worker", ["deploy/run", "worker"])
        stack.start("beat", ["deploy/run", "beat"])
        stack.start("caddy", ["caddy", "run", "--config", "deploy/Caddyfile", "--adapter", "caddyfile"])
        ca = folder / "caddy-data" / "caddy" / "pki" / "authorities" / "local" / "root.crt"
        wait_for("Caddy's certificate authority", ca.exists, 30)
        wait_for("the worker to be ready", lambda: b"ready." in stack.log("worker").read_bytes(), 60)
        for name in ("web", "worker", "beat", "caddy", "smtp"):
            check(stack.alive(name), f"{name} stopped:\n{stack.log(name).read_text()[-3000:]}")

        step("health: deploy/run healthcheck-web and healthcheck-worker, as docker-compose.yml checks them")
        wait_for("gunicorn's health page", lambda: subprocess.run(["deploy/run", "healthcheck-web"], cwd=ROOT,
                                                                   env=env).returncode == 0, 30, every=0.5)
        check(subprocess.run(["deploy/run", "healthcheck-worker"], cwd=ROOT, env=env).returncode == 0,
              "the worker did not answer its health check")

        step("HTTPS: the health page through Caddy, and plain HTTP is sent to HTTPS")
        anonymous = httpx.Client(verify=str(ca), timeout=30)
        health = wait_for("the health page over HTTPS",
                          lambda: _try(lambda: anonymous.get(f"{BASE_URL}/healthz")), 30, every=0.5)
        check(health.status_code == 200 and health.text == "ok", f"/healthz over HTTPS: {health.status_code}")
        check("max-age=" in health.headers.get("strict-transport-security", ""), "no HSTS header over HTTPS")
        plain = httpx.get(f"http://{HOST}:{HTTP_PORT}/healthz", follow_redirects=False, timeout=10)
        check(plain.status_code in (301, 308) and plain.headers["location"].startswith("https://"),
              f"plain HTTP was not redirected to HTTPS: {plain.status_code} {plain.headers.get('location')}")

        step("sign in: the requester with a password, the head and ITSA with a password and a TOTP code")
        requester, head, itsa = (Person(httpx, ca, email) for email in (REQUESTER, HEAD, ITSA))
        requester.sign_in(with_code=False)
        head.sign_in(with_code=True)
        itsa.sign_in(with_code=True)

        events = sql("select distinct host(ip_address) from portal_auditevent a join accounts_user u "
                     "on u.id = a.actor_id where a.action like 'sign_in%%' and u.email = any(%s)",
                     [REQUESTER, HEAD, ITSA])
        check(events == [(CLIENT_ADDRESS,)],
              f"the audit trail recorded the sign-ins from {events}, not the client's {CLIENT_ADDRESS}")

        step("file: the requester files an add request, with a signed copy attached")
        reference, request_pk = file_a_request(requester)
        step(f"approve: the head approves {reference}")
        head.get(f"/requests/{request_pk}/")
        head.post(f"/requests/{request_pk}/approve/", {})
        check("with ITSA" in head.html, f"{reference} is not with ITSA after the approval: {head.messages()}")
        step(f"provision: ITSA records the account of {reference}")
        itsa.get(f"/requests/{request_pk}/")
        itsa.post(f"/requests/{request_pk}/provision/", {"account_name": "lramos-smoke"})
        check("Completed by ITSA" in itsa.html, f"{reference} was not completed: {itsa.messages()}")
        check(sql("select count(*) from accounts_grant where account_name = %s and status = 'active'",
                  "lramos-smoke")[0][0] == 1, "no active grant with the recorded account name")

        step("api: ITSA makes a read token on its page; the roster comes over HTTPS with it; no token is a 401 problem")
        the_api_with_a_token(itsa, httpx, ca)

        step("import: ITSA uploads a city's files; the prefork worker checks them, then imports them on confirmation")
        import_through_the_page(itsa)

        step("validation: the prefork worker makes a copy of the decisions so far; the head keeps every grant and "
             "signs off; the worker keeps the attestation")
        validation_pk = sign_off_a_validation(head)
        kept = wait_for("the kept attestation", lambda: sql(
            "select attestation_sha256 from audits_validation where id = %s and attestation_sha256 <> ''",
            validation_pk), 90, every=0.5)
        pdf = head.get(f"/validations/{validation_pk}/attestation.pdf")
        check(pdf.content.startswith(b"%PDF-"), "the attestation is not a PDF")
        check(hashlib.sha256(pdf.content).hexdigest() == kept[0][0],
              "the downloaded attestation is not the file the worker kept")
        check(not re.search(rb"daemonic processes", stack.log("worker").read_bytes()),
              "the worker logged 'daemonic processes are not allowed to have children'")

        step("mail: the head's notice of the filed request reached the SMTP server; its link works")
        notice = wait_for("the head's mail about the request", lambda: next(
            (m for m in received(maildir) if HEAD in m["To"] and reference in m.get_body(("plain",)).get_content()),
            None), 60)
        links = re.findall(r"https?://\S+", notice.get_body(("plain",)).get_content())
        check(links and all(link.startswith(BASE_URL + "/") for link in links),
              f"the mail's links do not start with PORTAL_BASE_URL {BASE_URL}: {links}")
        check(notice["Message-ID"] and HOST in notice["Message-ID"], f"no Message-ID on {HOST}: {notice['Message-ID']}")
        page = head.get(urlsplit(links[0]).path)
        check(reference in page.text, f"the mail's link {links[0]} does not show {reference}")

        step("errors: a server error on the smoke route answers the portal's 500 page; its traceback is logged")
        error = requester.client.get("/smoke/server-error")
        check(error.status_code == 500, f"/smoke/server-error answered {error.status_code}")
        check("Traceback" not in error.text and "RuntimeError" not in error.text, "the 500 page shows the traceback")
        wait_for("the traceback in gunicorn's log", lambda: traceback_logged(stack.log("web")), 10)

        step("limits: a 40 MB upload answers 413 at the proxy, and the portal refuses it from its declared length")
        too_big = requester.client.post(f"/requests/{request_pk}/documents/", content=b"0" * (40 << 20),
                                        headers={"Content-Type": "application/octet-stream"})
        check(too_big.status_code == 413, f"a 40 MB body answered {too_big.status_code}, not 413")
        check("gunicorn" not in too_big.headers.get("server", ""), "the proxy forwarded the 40 MB body to gunicorn")
        check(not re.search(rb'"POST /requests/\d+/documents/ HTTP/1.1" 413', stack.log("web").read_bytes()),
              "gunicorn saw the 40 MB body the proxy should have refused")
        refused = declared_length_refusal(f"/requests/{request_pk}/documents/", 40 << 20)
        check(refused.startswith(b"HTTP/1.1 413"), f"gunicorn answered a declared 40 MB body with {refused[:40]!r}")
        check(re.search(rb'"POST /requests/\d+/documents/ HTTP/1.1" 413', stack.log("web").read_bytes()),
              "the portal did not refuse the declared 40 MB body itself (413 in gunicorn's access log)")

        step(f"crash: {BATCH} mails queued, the worker killed with SIGKILL mid-queue, started again")
        kill_the_worker_mid_queue(stack, env, maildir)
        ok = True
        step("the smoke run passed")
        return 0
    except SmokeFailed as failure:
        print(f"\nSMOKE RUN FAILED: {failure}", file=sys.stderr, flush=True)
        for name in ("web", "worker", "beat", "caddy", "smtp"):
            if stack.log(name).exists():
                print(f"\n--- last lines of the {name} log ---\n{stack.log(name).read_text(errors='replace')[-2500:]}",
                      file=sys.stderr)
        return 1
    finally:
        stack.stop_all()
        if ok and not keep:
            shutil.rmtree(folder, ignore_errors=True)
        else:
            print(f"logs kept in {folder / 'logs'}", file=sys.stderr)


def _try(call):
    try:
        return call()
    except Exception:
        return None


def file_a_request(requester: Person) -> tuple[str, int]:
    """Files an add request for the first person, system and use the rules allow (the demo city holds
    grants already), and returns its reference and id."""
    page = requester.get("/requests/new/")
    form = page.text
    # The form lists nobody: a person is found by searching, as htmx asks it (the demo city's e-mails
    # all end in .example); then the form again, whose CSRF token and address the filing posts from.
    check('name="person_q"' in form, "the request form has no person search")
    found = requester.get("/requests/new/?find=person&person_q=.example").text
    requester.get("/requests/new/")
    people = [value for value, label in radios(found, "person") if "head@" not in label]
    systems = options(form, "system")
    uses = checkbox_values(form, "permissible_uses")
    check(people and systems and uses, "the request form offers no person, system or permissible use")
    refusals = []
    for system, label in systems:
        for person in people:
            response = requester.post("/requests/new/", {
                **hidden_fields(form), "person": person, "system": system, "action": "add", "role": "end_user",
                "permissible_uses": uses[:1], "justification": "Smoke run: detective work on open cases.",
                # A use of public safety states how its condition of Table 1 is met (T1c).
                "condition_statement": "Case 26-000001, an active criminal investigation, until it closes.",
            }, files=[("documents", ("signed-request.pdf", one_page_pdf(), "application/pdf"))])
            found = re.search(r"^/requests/(\d+)/$", urlsplit(str(response.url)).path)
            if found:
                check("Awaiting the head" in response.text, "the filed request is not awaiting the head")
                check("signed-request.pdf" in response.text, "the attached document is not on the request")
                reference = sql("select reference from access_requests_accessrequest where id = %s",
                                int(found.group(1)))[0][0]
                return reference, int(found.group(1))
            refusals.append(f"{label}: {requester.messages()}")
            requester.get("/requests/new/")
            if len(refusals) >= 40:
                break
    raise SmokeFailed("every filing was refused:\n" + "\n".join(refusals[:10]))


def the_api_with_a_token(itsa: Person, httpx, ca: Path) -> None:
    from datetime import date, timedelta

    itsa.get("/integrations/tokens/")
    form = {"name": "Smoke run", "scopes": ["read"], "system": "",
            "expires_on": (date.today() + timedelta(days=30)).isoformat()}
    itsa.post("/integrations/tokens/new/", form)
    if "/accounts/confirm-password/" in itsa.page_url:
        itsa.post(itsa.page_url, {"password": DEMO_PASSWORD})
        itsa.get("/integrations/tokens/")
        itsa.post("/integrations/tokens/new/", form)
    secret = re.search(r'id="token-secret" type="text" value="(sap_[^"]+)"', itsa.html)
    check(secret, f"ITSA's token page showed no secret: {itsa.messages()}")
    api = httpx.Client(base_url=BASE_URL, verify=str(ca), timeout=30)
    accounts, url = [], "/api/v1/grants/?status=active"
    while url:
        page = api.get(url, headers={"Authorization": f"Bearer {secret.group(1)}"})
        check(page.status_code == 200 and page.headers["content-type"].startswith("application/json"),
              f"GET {url} with the token: {page.status_code} {page.text[:500]}")
        accounts += [row["account_name"] for row in page.json()["results"]]
        url = page.json()["next"]
    check("lramos-smoke" in accounts, "the API's roster does not hold the account ITSA just provisioned")
    refused = api.get("/api/v1/grants/")
    check(refused.status_code == 401 and refused.headers["content-type"] == "application/problem+json",
          f"a call without a token answered {refused.status_code} {refused.headers.get('content-type')}")


SMOKE_CITY = {
    "departments.csv": "code,name,kind,head_employee_id\nsmoke,Smoke Test Board,board,S0001\n",
    "people.csv": "employee_id,email,full_name,title,department_code,organization\n"
                  "S0001,smoke.chair@city.example,Sam Smoke,Chair,smoke,\n"
                  "S0002,smoke.clerk@city.example,Sue Smoke,Clerk,smoke,\n",
    "systems.csv": "code,name,kind,description,uses_biometrics,biometric_retention_days,is_license_plate_reader,"
                   "is_third_party,has_public_feed,owner_department_code\n"
                   "smoke-cams,Smoke Test Cameras,vms,Cameras of the smoke run.,no,,no,no,no,smoke\n",
    "accounts.csv": "system_code,employee_id,account_name,role,department_code,permissible_uses,ends_on\n"
                    "smoke-cams,S0002,ssmoke,end_user,smoke,building-protection,\n",
}


def import_through_the_page(itsa: Person) -> None:
    itsa.get("/import/")
    files = [(name.removesuffix(".csv"), (name, text.encode(), "text/csv")) for name, text in SMOKE_CITY.items()]
    itsa.post("/import/", {}, files=files)
    upload = re.search(r"^/import/uploads/(\d+)/$", urlsplit(itsa.page_url).path)
    check(upload, f"the upload did not lead to its page: {itsa.page_url} {itsa.messages()}")
    path = f"/import/uploads/{upload.group(1)}/"
    wait_for("the worker's check of the upload", lambda: "What the import would do" in itsa.get(path).text, 60,
             every=0.5)
    check("Import 5 rows" in itsa.html, f"the preview does not offer the 5 rows: {itsa.messages()}")
    itsa.post(f"{path}import/", {})
    if "/accounts/confirm-password/" in itsa.page_url:
        itsa.post(itsa.page_url, {"password": DEMO_PASSWORD})
        itsa.get(path)
        itsa.post(f"{path}import/", {})
    wait_for("the worker's import of the upload", lambda: "import batch" in itsa.get(path).text, 90, every=0.5)
    check(sql("select count(*) from accounts_grant where account_name = %s and status = 'active'", "ssmoke")[0][0]
          == 1, "the imported account is not a live grant")


def one_page_pdf() -> bytes:
    from io import BytesIO

    from pypdf import PdfWriter

    writer = PdfWriter()
    writer.add_blank_page(width=612, height=792)
    out = BytesIO()
    writer.write(out)
    return out.getvalue()


def sign_off_a_validation(head: Person) -> int:
    page = head.get("/validations/")
    pks = sorted({int(pk) for pk in re.findall(r'href="/validations/(\d+)/"', page.text)})
    check(pks, "the head has no validation to sign")
    pk = pks[0]
    head.get(f"/validations/{pk}/")
    # Open: a copy of the decisions so far, asked for on its page and made by the prefork worker.
    head.get(f"/validations/{pk}/attestation/")
    head.post(f"/validations/{pk}/attestation/", {})
    wait_for("the copy of the decisions so far", lambda: sql(
        "select 1 from audits_attestationcopy where validation_id = %s and made_at is not null", pk), 90, every=0.5)
    head.get(f"/validations/{pk}/attestation/")
    check("Download the copy of the decisions made by" in head.html, "the attestation page offers no copy")
    copy = head.get(f"/validations/{pk}/attestation.pdf")
    check(copy.content.startswith(b"%PDF-"), "the copy of the decisions so far is not a PDF")
    head.get(f"/validations/{pk}/")
    head.post(f"/validations/{pk}/keep-all/", {"confirm": "on"})
    head.post(f"/validations/{pk}/sign-off/", {"password": DEMO_PASSWORD})
    check(sql("select signed_off_at is not null from audits_validation where id = %s", pk) == [(True,)],
          f"validation {pk} was not signed: {head.messages()}")
    return pk


def declared_length_refusal(path: str, length: int) -> bytes:
    """What gunicorn answers a post that declares `length` bytes and sends none of them.

    Straight to gunicorn, as the proxy would forward it: with no body on the wire the answer cannot
    be lost to a reset, so this shows the portal refusing from the declared length alone.
    """
    with socket.create_connection(("127.0.0.1", WEB_PORT), timeout=30) as conn:
        conn.sendall((f"POST {path} HTTP/1.1\r\nHost: {HOST}\r\nX-Forwarded-Proto: https\r\n"
                      f"Content-Type: application/octet-stream\r\nContent-Length: {length}\r\nConnection: close\r\n\r\n").encode())
        answer = b""
        while chunk := conn.recv(65536):
            answer += chunk
        return answer


def traceback_logged(log: Path) -> bool:
    for line in log.read_text(errors="replace").splitlines():
        try:
            record = json.loads(line)
        except ValueError:
            continue
        text = json.dumps(record)
        if record.get("logger") == "django.request" and "Traceback" in text and "Deliberate server error" in text:
            return True
    return False


def kill_the_worker_mid_queue(stack: Stack, env: dict, maildir: Path) -> None:
    # The mails are written through the portal's own outbox helper in one transaction, as any change
    # writes them; on commit each one is handed to the worker through Redis.
    script = (
        "from django.db import transaction\n"
        "from portal.emails import email_send\n"
        "from access_requests.models import DepartmentAccess\n"
        "access = DepartmentAccess.objects.order_by('pk').first()\n"
        "with transaction.atomic():\n"
        f"    mails = [email_send('department-access-decided', to=[f'smoke{{n}}@city.example'],"
        " context={'access': access}) for n in range(" + str(BATCH) + ")]\n"
        "print(min(m.pk for m in mails), max(m.pk for m in mails))\n"
    )
    before = len(received(maildir))
    output = subprocess.run([sys.executable, "manage.py", "shell", "-c", script], cwd=ROOT, env=env,
                            capture_output=True, text=True, timeout=120)
    check(output.returncode == 0, f"queueing the mails failed:\n{output.stderr[-3000:]}")
    first, last = map(int, output.stdout.split()[-2:])
    # The SMTP server holds each mail 0.2 s at MAIL, so the queue takes seconds to drain. Kill once a
    # few went, at a moment both worker processes are held there (see smtp_sink).
    waiting = maildir.with_name("smtp-waiting")
    wait_for("the worker to work through the queue and both its processes to wait at MAIL",
             lambda: len(received(maildir)) >= before + 4 and waiting.read_text() == "2", 60, every=0.01)
    stack.kill("worker")
    sent_before = sql("select count(*) from portal_outgoingemail where id between %s and %s and sent_at is not null",
                      first, last)[0][0]
    step(f"   killed with {sent_before} of {BATCH} sent; starting the worker again")
    check(sent_before < BATCH, "every mail was sent before the kill: nothing was tested")
    stack.start("worker", ["deploy/run", "worker"])
    wait_for(f"all {BATCH} mails sent", lambda: sql(
        "select count(*) from portal_outgoingemail where id between %s and %s and sent_at is null", first, last
    )[0][0] == 0, 90, every=0.5)
    time.sleep(2)  # a duplicate would arrive now, if there were one
    counts: dict[str, int] = {}
    for message in received(maildir):
        counts[message["Message-ID"]] = counts.get(message["Message-ID"], 0) + 1
    ours = {key: value for key, value in counts.items()
            if (found := re.match(r"<outbox-(\d+)\.", key or "")) and first <= int(found.group(1)) <= last}
    check(len(ours) == BATCH, f"{BATCH - len(ours)} of the {BATCH} mails never reached the SMTP server")
    twice = sorted(key for key, value in ours.items() if value > 1)
    check(not twice, f"mails delivered more than once: {twice}")
    step(f"   every one of the {BATCH} mails reached the SMTP server exactly once")


# --- The SMTP server ---------------------------------------------------------------------------------

def smtp_sink(port: int, folder: str, delay: float) -> None:
    """An SMTP server on loopback that keeps each message in a Maildir, slowly enough that a queue of
    mail takes seconds to drain."""
    from aiosmtpd.controller import Controller

    box = mailbox.Maildir(folder, create=True)

    status = Path(folder).with_name("smtp-waiting")
    status.write_text("0")

    class Handler:
        """Slow in the conversation, quick once the message is whole, like a busy mail server.

        A client that dies after the final dot but before it reads "250" has its mail delivered and
        sends it again (RFC 1047): no outbox can close that window, only keep it short (here, the
        commit of one row) and give the repeat the same Message-ID. The file `smtp-waiting` counts
        the clients held at MAIL, so the run can kill the worker outside that window."""

        waiting = 0

        async def handle_MAIL(self, server, session, envelope, address, mail_options):
            Handler.waiting += 1
            status.write_text(str(Handler.waiting))
            try:
                await asyncio.sleep(delay)
            finally:
                Handler.waiting -= 1
                status.write_text(str(Handler.waiting))
            envelope.mail_from = address
            envelope.mail_options.extend(mail_options)
            return "250 OK"

        async def handle_DATA(self, server, session, envelope):
            box.add(envelope.original_content or envelope.content)
            return "250 OK"

    controller = Controller(Handler(), hostname="127.0.0.1", port=port)
    controller.start()
    signal.sigwait({signal.SIGTERM, signal.SIGINT})
    controller.stop()


if __name__ == "__main__":
    if sys.argv[1:2] == ["smtp-sink"]:
        signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGTERM, signal.SIGINT})
        smtp_sink(int(sys.argv[2]), sys.argv[3], float(sys.argv[4]))
    else:
        sys.exit(main())
