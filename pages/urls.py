"""The portal's URLconf, at the top of the apps: it mounts every app's pages. The person, grant and
department pages live here but keep their names in the accounts namespace, beside the people list."""

from django.conf import settings
from django.contrib import admin
from django.urls import include, path

from accounts import urls as accounts_urls
from portal import views as portal_views
from security.views import SignInView

from . import views

people_patterns = [
    *accounts_urls.urlpatterns,
    path("<int:pk>/", views.person, name="person"),
    path("grants/<int:pk>/", views.grant, name="grant"),
    path("departments/<int:pk>/", views.department, name="department"),
    path("departments/<int:pk>/people.csv", views.department_people_csv, name="department_people_csv"),
    path("systems/<int:pk>/roster.csv", views.system_roster_csv, name="system_roster_csv"),
]

urlpatterns = [
    path("", views.home, name="home"),
    path("healthz", portal_views.healthz, name="healthz"),
    path("favicon.ico", portal_views.favicon, name="favicon"),
    path("accounts/login/", SignInView.as_view(), name="login"),
    path("accounts/", include("security.urls")),
    path("accounts/", include("django.contrib.auth.urls")),
    path("people/", include((people_patterns, accounts_urls.app_name))),
    path("requests/", include("access_requests.urls")),
    path("validations/", include("audits.urls")),
    path("reports/", include("reports.urls")),
    path("transparency/", include("transparency.urls")),
    path("external-systems/", include("external.urls")),
    path("agreements/", include("agreements.urls")),
    path("waivers/", include("waivers.urls")),
    path("incidents/", include("incidents.urls")),
    path("retention/", include("retention.urls")),
    path("kpis/", include("kpis.urls")),
    path("import/", include("adoption.urls")),
    path("api/v1/", include("api.urls")),
    path("integrations/", include("api.token_urls")),
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
        path("bench/baseline", portal_views.bench_baseline, name="bench_baseline"),
        path("bench/signed-in", portal_views.bench_signed_in, name="bench_signed_in"),
    ]
if settings.SMOKE_ROUTES:
    urlpatterns.append(path("smoke/server-error", portal_views.smoke_server_error, name="smoke_server_error"))
