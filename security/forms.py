"""The shape of the sign-in input. Rules stay in the services."""

from django import forms
from django.contrib.auth.forms import AuthenticationForm

from accounts.forms import PageForm
from accounts.models import User

from . import services

LOCKED_MESSAGE = ("This account is locked after repeated failed sign-ins. "
                  "Ask ITSA to release it; they will check it was you.")


class SignInForm(AuthenticationForm):
    """E-mail and password; a locked account is refused before its password is checked."""

    error_messages = {
        **AuthenticationForm.error_messages,
        "locked": LOCKED_MESSAGE,
    }

    def clean(self):
        username = (self.cleaned_data.get("username") or "").strip()
        # An e-mail address is at most 254 characters; anything longer names nobody.
        person = User.objects.filter(email__iexact=username).first() if 0 < len(username) <= 254 else None
        if person is not None and services.open_lock(person, request=self.request) is not None:
            raise forms.ValidationError(self.error_messages["locked"], code="locked")
        return super().clean()


class CodeForm(PageForm):
    code = forms.CharField(
        label="Code", max_length=40, strip=True,
        help_text="The 6-digit code from your authenticator app, or one of your recovery codes.",
        widget=forms.TextInput(attrs={"autocomplete": "one-time-code", "inputmode": "text",
                                      "autocapitalize": "off", "spellcheck": "false"}),
    )


class EnrolForm(PageForm):
    code = forms.CharField(
        label="Code from your app", max_length=12, strip=True,
        help_text="After adding the account to your app, enter the 6-digit code it shows.",
        widget=forms.TextInput(attrs={"autocomplete": "one-time-code", "inputmode": "numeric"}),
    )


class PasswordForm(PageForm):
    password = forms.CharField(
        label="Password", strip=False, max_length=4096,
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
    )


class SetPasswordForm(PageForm):
    """A new password, twice; the password rules are checked by the service."""

    new_password1 = forms.CharField(
        label="New password", strip=False, max_length=4096,
        help_text="At least 12 characters; not a common password, nor one like your name or e-mail address.",
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
    )
    new_password2 = forms.CharField(
        label="New password again", strip=False, max_length=4096,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
    )

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("new_password1") and cleaned.get("new_password2") \
                and cleaned["new_password1"] != cleaned["new_password2"]:
            self.add_error("new_password2", "The two passwords are not the same.")
        return cleaned


class ForgotPasswordForm(PageForm):
    email = forms.EmailField(label="E-mail address", max_length=254,
                             widget=forms.EmailInput(attrs={"autocomplete": "username"}))
