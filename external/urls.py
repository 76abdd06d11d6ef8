"""External system connections (3.6)."""

from django.urls import path

from . import views

app_name = "external"
urlpatterns = [
    path("", views.connection_list, name="list"),
    path("new/", views.new, name="new"),
    path("<int:pk>/", views.detail, name="detail"),
    path("<int:pk>/decide/", views.decide, name="decide"),
    path("<int:pk>/withdraw/", views.withdraw, name="withdraw"),
]
