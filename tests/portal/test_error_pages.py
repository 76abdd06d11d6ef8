"""The error pages (400, 403, 404, 500) are the portal's own, in its layout, never Django's; the 500
page renders even when the database or the request is what failed."""

import re

from django.core.exceptions import BadRequest, PermissionDenied
from django.db import OperationalError
from django.test import Client, RequestFactory, override_settings
from django.urls import path, reverse
from django.utils.functional import SimpleLazyObject

from pages import urls as portal_urls
from portal.models import AuditEvent
from portal.views import server_error


def _refuse(request):
    raise PermissionDenied("not for you")


def _garble(request):
    raise BadRequest("garbled")


def _fail(request):
    raise RuntimeError("a bug")


# The portal's own URLconf, handlers included, plus three views that fail on purpose.
urlpatterns = [
    path("test-errors/403", _refuse),
    path("test-errors/400", _garble),
    path("test-errors/500", _fail),
    *portal_urls.urlpatterns,
]
handler403 = portal_urls.handler403
handler500 = portal_urls.handler500

with_failing_views = override_settings(ROOT_URLCONF=__name__)


def _assert_portal_page(response, status, heading):
    page = response.content.decode()
    assert response.status_code == status
    assert response["Content-Type"].startswith("text/html")
    assert "Skip to main content" in page and 'class="usa-header' in page and 'class="usa-footer' in page
    assert re.findall(r"<h1[^>]*>(.*?)</h1>", page) == [heading]
    assert 'href="/">Go to the home page</a>' in page
    policy = response.headers["Content-Security-Policy"]
    assert "default-src 'self'" in policy and "unsafe-inline" not in policy
    return page


def test_an_unknown_address_answers_404_with_the_portals_page(db):
    response = Client().get("/no-such-page/")

    page = _assert_portal_page(response, 404, "Page not found")
    assert "The requested resource was not found on this server" not in page


def test_a_signed_in_person_meets_the_404_page_inside_their_own_navigation(city, client):
    client.force_login(city.head)

    response = client.get("/no-such-page/")

    page = _assert_portal_page(response, 404, "Page not found")
    assert "Sign out" in page and city.head.full_name in page


def test_a_page_hidden_from_the_person_answers_the_same_404_page(city, client):
    client.force_login(city.officer)

    response = client.get(reverse("audit_log"))

    _assert_portal_page(response, 404, "Page not found")


@with_failing_views
def test_a_refusal_answers_403_with_the_portals_page_and_is_on_the_audit_trail(city, client):
    client.force_login(city.officer)

    response = client.get("/test-errors/403")

    page = _assert_portal_page(response, 403, "Not allowed")
    assert "ask your department head or ITSA" in page
    assert AuditEvent.objects.filter(action="permission.denied", actor=city.officer).exists()


def test_a_form_sent_without_its_token_answers_403_with_the_portals_page(db):
    response = Client(enforce_csrf_checks=True).post(reverse("login"), {"username": "x@y.example", "password": "z"})

    page = _assert_portal_page(response, 403, "This form could not be sent")
    assert "Nothing was changed" in page
    assert "CSRF verification failed" not in page


@with_failing_views
def test_a_garbled_request_answers_400_with_the_portals_page(db):
    response = Client().get("/test-errors/400")

    page = _assert_portal_page(response, 400, "The portal could not read this request")
    assert "Bad Request (400)" not in page


@with_failing_views
def test_a_failing_view_answers_500_with_the_portals_page_and_without_the_persons_navigation(city, client):
    client.force_login(city.head)
    client.raise_request_exception = False

    response = client.get("/test-errors/500")

    page = _assert_portal_page(response, 500, "Something went wrong on our side")
    assert "Server Error (500)" not in page
    # Nothing about the person: their session and roles may be what failed.
    assert city.head.full_name not in page and "Sign out" not in page


def _database_down():
    raise OperationalError("connection refused")


def test_the_500_page_needs_neither_the_database_nor_the_request(db, django_assert_num_queries):
    request = RequestFactory().get("/")
    request.user = SimpleLazyObject(_database_down)

    with django_assert_num_queries(0):
        response = server_error(request)

    assert response.status_code == 500
    assert "Something went wrong on our side" in response.content.decode()
    assert "Skip to main content" in response.content.decode()


@with_failing_views
def test_the_500_page_falls_back_to_plain_html_when_the_layout_itself_fails(db, settings, tmp_path, caplog):
    # A deployment whose static files were never collected: every {% static %} of the layout fails.
    settings.STATIC_ROOT = tmp_path
    settings.STORAGES = {**settings.STORAGES, "staticfiles": {
        "BACKEND": "django.contrib.staticfiles.storage.ManifestStaticFilesStorage"}}
    client = Client(raise_request_exception=False)

    response = client.get("/test-errors/500")

    page = response.content.decode()
    assert response.status_code == 500
    assert re.findall(r"<h1[^>]*>(.*?)</h1>", page) == ["Something went wrong on our side"]
    assert 'href="/">Go to the home page</a>' in page
    assert "The error page could not be rendered" in caplog.text

