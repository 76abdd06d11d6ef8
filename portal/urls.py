from django.conf import settings
from django.contrib import admin
from django.urls import include, path

from audits.oversight_views import home
from security.views import SignInView

from . import views

urlpatterns = [
    path("", home, name="home"),
    path("healthz", views.healthz, name="healthz"),
    path("accounts/login/", SignInView.as_view(), name="login"),
    path("accounts/", include("security.urls")),
    path("accounts/", include("django.contrib.auth.urls")),
    path("people/", include("accounts.urls")),
    path("requests/", include("access_requests.urls")),
    path("validations/", include("audits.urls")),
    path("reports/", include("audits.report_urls")),
    path("transparency/", include("audits.public_urls")),
    path("external-systems/", include("access_requests.external_urls")),
    path("agreements/", include("accounts.agreement_urls")),
    path("waivers/", include("audits.waiver_urls")),
    path("incidents/", include("audits.incident_urls")),
    path("retention/", include("audits.retention_urls")),
    path("audit-log/", views.audit_log, name="audit_log"),
    path("audit-log/export.csv", views.audit_log_export, name="audit_log_export"),
    path("admin/", admin.site.urls),
]
handler403 = "portal.views.permission_denied"
handler500 = "portal.views.server_error"

if settings.OIDC_ENABLED:
    urlpatterns.append(path("oidc/", include("mozilla_django_oidc.urls")))
if settings.BENCH_BASELINE:
    urlpatterns += [
        path("bench/baseline", views.bench_baseline, name="bench_baseline"),
        path("bench/signed-in", views.bench_signed_in, name="bench_signed_in"),
    ]
if settings.SMOKE_ROUTES:
    urlpatterns.append(path("smoke/server-error", views.smoke_server_error, name="smoke_server_error"))
