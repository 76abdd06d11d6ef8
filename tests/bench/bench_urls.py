"""The site's URLs with the benchmark's two reference pages, as a deployment with BENCH_BASELINE
set routes them (pages.urls), for the tests of bench/crawl.py's references."""

from django.urls import path

from pages.urls import urlpatterns as site_urlpatterns
from portal import views

urlpatterns = [
    *site_urlpatterns,
    path("bench/baseline", views.bench_baseline, name="bench_baseline"),
    path("bench/signed-in", views.bench_signed_in, name="bench_signed_in"),
]
