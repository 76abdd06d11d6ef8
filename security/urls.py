from django.urls import path

from . import views

app_name = "security"
urlpatterns = [
    path("verify/", views.verify, name="verify"),
    path("security/", views.overview, name="overview"),
    path("security/authenticator/", views.setup, name="setup"),
    path("security/recovery-codes/", views.recovery_codes, name="recovery_codes"),
    path("security/remove/", views.remove, name="remove"),
    path("security/sessions/end/", views.end_other_sessions, name="end_other_sessions"),
    path("confirm-password/", views.confirm_password, name="confirm_password"),
    path("locked/", views.locked, name="locked"),
    path("locked/<int:pk>/release/", views.release, name="release"),
]
