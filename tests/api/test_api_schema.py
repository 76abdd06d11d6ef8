"""The OpenAPI schema (/api/v1/schema/) says what the API answers: every operation's real answers,
the rows and the problems alike, validate against the schema it serves (JSON Schema 2020-12, as
OpenAPI 3.1 uses it), no answer has a field or a status the schema does not name, and every route
of the API is in it."""

import copy
import re

import pytest
from api_support import PROBLEM, bearer, fresh_call_counts, token_for  # noqa: F401
from conftest import file_request, open_validation
from django.urls import get_resolver
from django.utils import timezone
from jsonschema import Draft202012Validator
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012
from rest_framework.test import APIClient

from access_requests.services import access_request_approve
from accounts.models import Grant
from api.models import Scope
from api.throttling import PerTokenThrottle

BASE = "urn:portal-api"


def _pointer(*parts):
    return "/".join(str(part).replace("~", "~0").replace("/", "~1") for part in parts)


class Schema:
    """The served schema, every object of it closed (no field it does not name), as a registry
    against which a response is validated."""

    def __init__(self, document):
        self.document = copy.deepcopy(document)
        for component in self.document["components"]["schemas"].values():
            if component.get("type") == "object" and "properties" in component:
                component.setdefault("additionalProperties", False)
        resource = Resource.from_contents(self.document, default_specification=DRAFT202012)
        self.registry = Registry().with_resource(BASE, resource)
        self.checked = set()

    def check(self, template, method, response):
        operation = self.document["paths"][template][method]
        code = str(response.status_code)
        assert code in operation["responses"], f"{method.upper()} {template} answered {code}, not in the schema"
        media = response["Content-Type"].split(";")[0]
        content = operation["responses"][code]["content"]
        assert media in content, f"{method.upper()} {template} {code} answered {media}, the schema says {list(content)}"
        ref = f"{BASE}#/" + _pointer("paths", template, method, "responses", code, "content", media, "schema")
        validator = Draft202012Validator({"$ref": ref}, registry=self.registry,
                                         format_checker=Draft202012Validator.FORMAT_CHECKER)
        errors = sorted(validator.iter_errors(response.json()), key=lambda error: list(error.path))
        assert not errors, f"{method.upper()} {template} {code}: " + "; ".join(
            f"{list(error.path)}: {error.message}" for error in errors[:5])
        self.checked.add((template, method, int(code)))


@pytest.fixture
def served(city):
    """The schema as a caller fetches it."""
    _, secret = token_for(city, Scope.READ)
    response = bearer(secret).get("/api/v1/schema/")
    assert response.status_code == 200
    document = response.json()
    assert document["openapi"].startswith("3.1")
    Draft202012Validator.check_schema({"$defs": document["components"]["schemas"]})
    return Schema(document)


def _approved(city, **kwargs):
    request = file_request(city, **kwargs)
    return access_request_approve(request=request, by=city.head) if request.is_awaiting_head else request


def test_every_answer_of_every_operation_is_as_the_schema_says(city, served, monkeypatch):
    """S2.6, S3.10: what the API says it answers is what it answers."""
    validation = open_validation(city)
    grant = Grant.objects.get(person=city.officer)
    to_provision = _approved(city, person=city.requester, by=city.head)
    to_return = _approved(city, action="change", uses=[city.crime_detection, city.investigations], by=city.head)
    awaiting = file_request(city, person=city.head, by=city.requester)
    secrets = {name: token_for(city, *scopes)[1] for name, scopes in (
        ("read", [Scope.READ]), ("report", [Scope.REPORT_USE]), ("provision", [Scope.PROVISION]))}
    read, report, provision = (bearer(secrets[name]) for name in ("read", "report", "provision"))
    anonymous = APIClient()
    today = str(timezone.localdate())

    reads = [
        ("/api/v1/systems/", "/api/v1/systems/", None), ("/api/v1/systems/{code}/", "/api/v1/systems/vms/", "nope"),
        ("/api/v1/departments/", "/api/v1/departments/", None),
        ("/api/v1/departments/{code}/", "/api/v1/departments/police/", "nope"),
        ("/api/v1/people/", "/api/v1/people/", None),
        ("/api/v1/people/{id}/", f"/api/v1/people/{city.officer.pk}/", "987654"),
        ("/api/v1/grants/", "/api/v1/grants/", None), ("/api/v1/grants/{id}/", f"/api/v1/grants/{grant.pk}/", "987654"),
        ("/api/v1/requests/", "/api/v1/requests/", None),
        ("/api/v1/requests/{id}/", f"/api/v1/requests/{awaiting.pk}/", "987654"),
        ("/api/v1/validations/", "/api/v1/validations/", None),
        ("/api/v1/validations/{id}/", f"/api/v1/validations/{validation.pk}/", "987654"),
    ]
    for template, url, missing in reads:
        served.check(template, "get", read.get(url))
        served.check(template, "get", anonymous.get(url))  # 401
        served.check(template, "get", report.get(url))  # 403: no read scope
        if missing:
            served.check(template, "get", read.get(url.rsplit("/", 2)[0] + f"/{missing}/"))  # 404
        else:
            served.check(template, "get", read.get(url, {"cursor": "zzz"}))  # 404: a cursor of no list
    for template, bad in (("/api/v1/grants/", {"role": "superuser"}), ("/api/v1/requests/", {"status": "nope"}),
                          ("/api/v1/people/", {"department": "a\x00b"})):
        served.check(template, "get", read.get(template, bad))  # 400

    uses = "/api/v1/systems/{code}/uses/"
    body = {"uses": [{"account_name": grant.account_name, "last_used_at": today},
                     {"account_name": "ghost", "last_used_at": today}]}
    served.check(uses, "post", report.post("/api/v1/systems/vms/uses/", body, format="json"))
    served.check(uses, "post", report.post("/api/v1/systems/vms/uses/", {"uses": [{}]}, format="json"))  # 400
    served.check(uses, "post", anonymous.post("/api/v1/systems/vms/uses/", body, format="json"))  # 401
    served.check(uses, "post", read.post("/api/v1/systems/vms/uses/", body, format="json"))  # 403
    served.check(uses, "post", report.post("/api/v1/systems/nope/uses/", body, format="json"))  # 404
    served.check(uses, "post", report.post("/api/v1/systems/vms/uses/", "uses=1",
                                           content_type="application/x-www-form-urlencoded"))  # 415

    for template, name, good, first in (
            ("/api/v1/requests/{id}/provision/", "provision", {"account_name": "rrequester"}, to_provision),
            ("/api/v1/requests/{id}/return/", "return", {"reason": "The change names no case."}, to_return)):
        def url(request_pk, name=name):
            return f"/api/v1/requests/{request_pk}/{name}/"

        served.check(template, "post", provision.post(url(first.pk), {"reason": ["x"], "account_name": ["x"]},
                                                      format="json"))  # 400
        served.check(template, "post", anonymous.post(url(first.pk), good, format="json"))  # 401
        served.check(template, "post", read.post(url(first.pk), good, format="json"))  # 403
        served.check(template, "post", provision.post(url(987654), good, format="json"))  # 404
        served.check(template, "post", provision.post(url(first.pk), good, content_type="text/plain"))  # 415
        served.check(template, "post", provision.post(url(awaiting.pk), good, format="json"))  # 422
        served.check(template, "post", provision.post(url(first.pk), good, format="json"))  # 200

    # 429: over the limit of calls.
    monkeypatch.setattr(PerTokenThrottle, "THROTTLE_RATES", {"api": "1/minute"})
    _, busy = token_for(city, Scope.READ)
    bearer(busy).get("/api/v1/systems/")
    served.check("/api/v1/systems/", "get", bearer(busy).get("/api/v1/systems/"))

    operations = {(path, method) for path, item in served.document["paths"].items() for method in item
                  if method in ("get", "post", "put", "patch", "delete")}
    exercised = {(path, method) for path, method, _ in served.checked}
    assert operations == exercised
    for operation in operations:
        codes = {code for path, method, code in served.checked if (path, method) == operation}
        assert {200, 401, 403, 404} <= codes, (operation, codes)
    seen = {code for _, _, code in served.checked}
    assert {200, 400, 401, 403, 404, 415, 422, 429} <= seen


def test_every_route_of_the_api_is_in_the_schema(served):
    resolver = get_resolver("api.urls")
    templates = set()
    for name in resolver.reverse_dict:
        if not isinstance(name, str) or name in ("schema", "not_found"):
            continue
        for pattern, params in [(possibility[0][0]) for possibility in resolver.reverse_dict.getlist(name)]:
            templates.add("/api/v1/" + pattern % {param: "{id}" if param == "pk" else "{%s}" % param
                                                   for param in params})
    assert templates == set(served.document["paths"])


def test_the_schema_tells_who_may_call_and_names_the_problem_type(served):
    schemes = served.document["components"]["securitySchemes"]
    assert schemes["token"] == {**schemes["token"], "type": "http", "scheme": "bearer"}
    assert schemes["session"]["in"] == "cookie"
    for path, item in served.document["paths"].items():
        for method, operation in item.items():
            for code, answer in operation["responses"].items():
                if code.startswith("4"):
                    assert list(answer["content"]) == [PROBLEM], (path, method, code)
    assert re.search(r"Bearer", served.document["info"]["description"])
