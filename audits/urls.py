from django.urls import path

from . import views

app_name = "audits"
urlpatterns = [
    path("", views.validation_list, name="list"),
    path("user-audits/new/", views.user_audit_new, name="user_audit_new"),
    path("<int:pk>/", views.validation, name="validation"),
    path("<int:pk>/attestation.pdf", views.attestation, name="attestation"),
    path("<int:pk>/attestation/", views.attestation_status, name="attestation_status"),
    path("<int:pk>/items/<int:item_pk>/decide/", views.decide, name="decide"),
    path("<int:pk>/keep-all/", views.keep_all, name="keep_all"),
    path("<int:pk>/sign-off/", views.sign_off, name="sign_off"),
]
