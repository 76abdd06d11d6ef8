"""The benchmark's reference pages (bench/load.py): routed only when BENCH_BASELINE is set, so a
deployment never serves them and the permission matrix never sees them."""

import pytest
from django.contrib.auth.models import AnonymousUser
from django.test import RequestFactory
from django.urls import NoReverseMatch, reverse

from portal import views

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("name", ["bench_baseline", "bench_signed_in"])
def test_the_benchmark_pages_are_not_routed_unless_the_benchmark_asks(settings, name):
    assert settings.BENCH_BASELINE is False
    with pytest.raises(NoReverseMatch):
        reverse(name)


def test_the_signed_in_floor_asks_an_anonymous_visitor_to_sign_in():
    request = RequestFactory().get("/bench/signed-in")
    request.user = AnonymousUser()

    response = views.bench_signed_in(request)

    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


def test_the_signed_in_floor_is_the_layout_of_a_signed_in_page_and_nothing_of_its_own(city):
    request = RequestFactory().get("/bench/signed-in")
    request.user = city.head

    response = views.bench_signed_in(request)

    body = response.content.decode()
    assert response.status_code == 200
    assert "<h1>Benchmark</h1>" in body
    assert city.head.full_name in body  # the navigation of a signed-in person
    assert reverse("logout") in body


def test_the_smoke_runs_failing_page_is_not_routed_unless_the_smoke_run_asks(client):
    """bin/smoke sets SMOKE_ROUTES to find a deliberate server error's traceback in the logs; a
    deployment never routes it."""
    assert client.get("/smoke/server-error").status_code == 404
