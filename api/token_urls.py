"""The pages around the API, under /integrations/ (pages.urls mounts them): not under /api/, whose
paths are the API's own."""

from django.urls import path

from . import views

app_name = "api_tokens"
urlpatterns = [
    path("tokens/", views.token_list, name="list"),
    path("tokens/new/", views.token_new, name="new"),
    path("tokens/<int:pk>/revoke/", views.token_revoke, name="revoke"),
    path("api/", views.api_docs, name="docs"),
]
