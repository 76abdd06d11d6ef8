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
    # Before Django's own reset pages (mounted after these): the same address, through the outbox,
    # rate-limited and audited.
    path("password_reset/", views.forgot_password, name="forgot_password"),
    path("set-password/<uidb64>/<token>/", views.set_password, name="set_password"),
    path("reset-password/<uidb64>/<token>/", views.reset_password, name="reset_password"),
    path("people/<int:pk>/invite/", views.invite, name="invite"),
    path("people/<int:pk>/authenticator/reset/", views.authenticator_reset, name="authenticator_reset"),
    path("oversight/", views.oversight_list, name="oversight_list"),
    path("oversight/new/", views.oversight_new, name="oversight_new"),
    path("oversight/<int:pk>/", views.oversight_detail, name="oversight"),
    path("oversight/<int:pk>/decide/", views.oversight_decide, name="oversight_decide"),
    path("oversight/<int:pk>/withdraw/", views.oversight_withdraw, name="oversight_withdraw"),
    path("oversight/<int:pk>/end/", views.oversight_end, name="oversight_end"),
]
