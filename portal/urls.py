from django.contrib import admin
from django.urls import include, path

from requests.views import dashboard

from . import views

urlpatterns = [
    path("", dashboard, name="home"),
    path("healthz", views.healthz, name="healthz"),
    path("accounts/", include("django.contrib.auth.urls")),
    path("people/", include("accounts.urls")),
    path("requests/", include("requests.urls")),
    path("validations/", include("audits.urls")),
    path("admin/", admin.site.urls),
]
