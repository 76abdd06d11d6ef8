"""Information sharing agreements (3.7, Table 2)."""

from django.urls import path

from . import views

app_name = "agreements"
urlpatterns = [
    path("", views.agreement_list, name="list"),
    path("new/", views.agreement_new, name="new"),
    path("<int:pk>/", views.agreement_detail, name="detail"),
    path("<int:pk>/decide/", views.agreement_decide, name="decide"),
    path("<int:pk>/end/", views.agreement_end, name="end"),
    path("<int:pk>/people/", views.agreement_add_person, name="add_person"),
]
