"""The API, version 1, under /api/v1/ (pages.urls mounts it)."""

from django.urls import include, path, re_path
from drf_spectacular.views import SpectacularJSONAPIView
from rest_framework.routers import SimpleRouter

from . import endpoints

router = SimpleRouter()
router.register("systems", endpoints.SystemViewSet, basename="system")
router.register("departments", endpoints.DepartmentViewSet, basename="department")
router.register("people", endpoints.PersonViewSet, basename="person")
router.register("grants", endpoints.GrantViewSet, basename="grant")
router.register("requests", endpoints.AccessRequestViewSet, basename="request")
router.register("validations", endpoints.ValidationViewSet, basename="validation")

app_name = "api"
urlpatterns = [
    path("schema/", SpectacularJSONAPIView.as_view(), name="schema"),
    path("systems/<slug:code>/uses/", endpoints.UseReportView.as_view(), name="system_uses"),
    path("requests/<int:pk>/provision/", endpoints.ProvisionView.as_view(), name="request_provision"),
    path("requests/<int:pk>/return/", endpoints.ReturnView.as_view(), name="request_return"),
    path("", include(router.urls)),
    # Last: any other URL under the API is a 404 problem, not a page.
    re_path(r"", endpoints.not_found, name="not_found"),
]
