"""Sign-in pages: the second factor, recovery codes, password re-entry, locked accounts, and the
appointments that give the read-only oversight role. Thin: each calls one service."""

from base64 import b32encode

import segno
from django.conf import settings
from django.contrib import messages
from django.contrib.auth import logout
from django.contrib.auth.decorators import login_required
from django.contrib.auth.views import LoginView
from django.http import Http404, HttpResponseRedirect
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from django_otp import login as otp_login
from django_otp.plugins.otp_totp.models import TOTPDevice

from accounts.forms import OVERSIGHT_DECISIONS, OversightEndForm, OversightProposeForm
from accounts.models import User
from accounts.selectors import get_or_404_logged, require_itsa_page
from portal.errors import NotAllowed, RuleViolation
from portal.forms import DecisionForm
from portal.history import timeline
from portal.pages import carry_out, decide_view, form_error_message
from portal.pickers import find_requested, matches_response, show_matches

from portal.client_address import client_address

from . import invitations, oversight, selectors, services
from .decorators import password_recently_entered
from .forms import LOCKED_MESSAGE, CodeForm, EnrolForm, ForgotPasswordForm, PasswordForm, SetPasswordForm, SignInForm
from .models import AccountLock, OversightAppointment


class SignInView(LoginView):
    form_class = SignInForm
    redirect_authenticated_user = True


def _next(request, default: str = "home") -> str:
    """Where to go after this step: a path of this site only, never a URL name or another host."""
    target = str(request.POST.get("next") or request.GET.get("next") or "")
    if target.startswith("/") and not target.startswith("//") and url_has_allowed_host_and_scheme(
            target, allowed_hosts={request.get_host()}, require_https=request.is_secure()):
        return target
    return reverse(default)


@login_required
@require_http_methods(["GET", "POST"])
def verify(request):
    """The second step of signing in: a code from the authenticator app, or a recovery code."""
    user = request.user
    if user.is_verified():
        return HttpResponseRedirect(_next(request))
    if not services.has_authenticator(user):
        return redirect("security:setup")
    form = CodeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        check = services.second_factor_verify(request=request, token=form.cleaned_data["code"])
        if check.accepted:
            return HttpResponseRedirect(_next(request))
        if check.wait:
            # After a wrong code even the right one is refused for a moment (the device's throttle).
            form.add_error("code", f"That code is not right. Wait {check.wait} seconds before trying again.")
        else:
            form.add_error("code", "That code is not right.")
    return render(request, "security/verify.html", {"form": form, "next": _next(request)})


def _qr_svg(device: TOTPDevice) -> str:
    # segno draws the code as SVG paths: no image file, nothing fetched, nothing inline to run.
    return segno.make(device.config_url, error="m").svg_inline(scale=5, title="QR code for your authenticator app")


def _grouped(secret: str) -> str:
    return " ".join(secret[i:i + 4] for i in range(0, len(secret), 4))


def _show_codes(request, codes: list[str], *, first_time: bool):
    return render(request, "security/recovery_codes.html", {"codes": codes, "first_time": first_time,
                                                            "next": _next(request)})


@login_required
@require_http_methods(["GET", "POST"])
def setup(request):
    """Set up an authenticator app. Someone who has one must pass it (and re-enter the password)
    before replacing it: a stolen password alone cannot enrol a new authenticator."""
    user = request.user
    if services.has_authenticator(user):
        if not user.is_verified():
            return redirect("security:verify")
        if not services.password_recent(request):
            messages.info(request, "Confirm your password to replace your authenticator.")
            return redirect(f"{reverse('security:confirm_password')}?next={reverse('security:setup')}")
    key = services.authenticator_key(request.session)
    form = EnrolForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            codes = services.authenticator_confirm(user=user, key=key, token=form.cleaned_data["code"], by=user)
        except RuleViolation as problem:
            form.add_error("code", str(problem))
        else:
            request.session.pop(services.PENDING_KEY, None)
            otp_login(request, TOTPDevice.objects.get(user=user, confirmed=True))
            messages.success(request, "Your authenticator app is set up.")
            return _show_codes(request, codes, first_time=True)
    device = services.authenticator_preview(key, user)
    context = {"form": form, "qr": _qr_svg(device), "secret": _grouped(b32encode(device.bin_key).decode()),
               "required": services.second_factor_required(user), "next": _next(request)}
    return render(request, "security/setup.html", context)


@login_required
@require_GET
def overview(request):
    user = request.user
    sessions = services.live_sessions(user).order_by("-started_at")[:20]
    return render(request, "security/overview.html", {
        "has_authenticator": services.has_authenticator(user),
        "codes_left": services.recovery_codes_left(user),
        "required": services.second_factor_required(user),
        "sessions": sessions,
        "this_session": request.session.session_key,
    })


@login_required
@require_POST
@password_recently_entered
def recovery_codes(request):
    try:
        codes = services.recovery_codes_issue(user=request.user, by=request.user)
    except RuleViolation as problem:
        messages.error(request, str(problem))
        return redirect("security:overview")
    return _show_codes(request, codes, first_time=False)


@login_required
@require_POST
@password_recently_entered
def remove(request):
    try:
        services.second_factor_remove(user=request.user, by=request.user)
    except RuleViolation as problem:
        messages.error(request, str(problem))
    else:
        messages.success(request, "Your second factor is turned off.")
    return redirect("security:overview")


@login_required
@require_http_methods(["GET", "POST"])
def confirm_password(request):
    form = PasswordForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        if services.password_confirm(request=request, password=form.cleaned_data["password"]):
            messages.success(request, "Password confirmed.")
            return HttpResponseRedirect(_next(request))
        if services.open_lock(request.user, request=request) is not None:
            # That was the last try: the account is locked and this session is already ended.
            logout(request)
            messages.error(request, LOCKED_MESSAGE)
            return redirect("login")
        form.add_error("password", "That password is not right.")
    return render(request, "security/confirm_password.html", {"form": form, "next": _next(request)})


@login_required
@require_GET
def locked(request):
    """ITSA's list of accounts locked after failed sign-ins."""
    require_itsa_page(request.user, "locked_accounts")
    open_locks = [(lock, services.may_release(lock=lock, user=request.user))
                  for lock in AccountLock.objects.filter(released_at__isnull=True).select_related("user")]
    released = AccountLock.objects.filter(released_at__isnull=False).select_related("user", "released_by")[:20]
    return render(request, "security/locked.html", {
        "open_locks": open_locks, "released": released, "address_limit": settings.AXES_FAILURE_LIMIT,
        "account_limit": settings.SIGN_IN_ACCOUNT_FAILURE_LIMIT,
    })


@login_required
@require_POST
@password_recently_entered
def release(request, pk):
    require_itsa_page(request.user, "locked_accounts")
    lock = AccountLock.objects.filter(pk=pk).select_related("user").first()
    if lock is None:
        raise Http404("No such lock.")
    try:
        services.account_release(lock=lock, by=request.user)
    except RuleViolation as problem:
        messages.error(request, str(problem))
    else:
        messages.success(request, f"{lock.user} can sign in again.")
    return redirect("security:locked")


@login_required
@require_POST
@password_recently_entered
def end_other_sessions(request):
    ended = services.sessions_end_others(user=request.user, keep=request.session.session_key)
    messages.success(request, f"Signed out of {ended} other session{'s' if ended != 1 else ''}.")
    return redirect("security:overview")


# --- Oversight appointments -------------------------------------------------------------------------

def _get_appointment_for(user, pk) -> OversightAppointment:
    appointments = selectors.oversight_appointments_visible_to(user).select_related(
        "person__department", "requested_by", "decided_by", "ended_by")
    return get_or_404_logged(appointments, user=user, pk=pk, what="oversight appointment")


def _oversight_list_page(request, *, form=None, status=200):
    user = request.user
    if not (user.roles.is_itsa or user.roles.is_designee):
        require_itsa_page(user, "oversight_appointments")  # answers 404 and records the attempt
    appointments = selectors.oversight_appointments_visible_to(user).select_related("person", "requested_by")
    if form is None and oversight.may_propose_oversight(user):
        form = OversightProposeForm()
    return render(request, "security/oversight_list.html", {
        "open_appointments": [a for a in appointments if a.status in OversightAppointment.OPEN_STATUSES],
        "closed_appointments": [a for a in appointments if a.status not in OversightAppointment.OPEN_STATUSES][:50],
        "form": form,
    }, status=status)


@login_required
@require_GET
def oversight_list(request):
    """ITSA asks for oversight appointments here; the designees see what waits for them."""
    if not (request.user.roles.is_itsa or request.user.roles.is_designee):
        require_itsa_page(request.user, "oversight_appointments")
    # Only those shown the form search with it.
    found = matches_response(request, OversightProposeForm(request.GET)) \
        if oversight.may_propose_oversight(request.user) else None
    return found or _oversight_list_page(request)


@login_required
@require_POST
@password_recently_entered
def oversight_new(request):
    if not (request.user.roles.is_itsa or request.user.roles.is_designee):
        require_itsa_page(request.user, "oversight_appointments")
    form = OversightProposeForm(request.POST)
    if (name := find_requested(form, request.POST)) and oversight.may_propose_oversight(request.user):
        show_matches(form, name)
        return _oversight_list_page(request, form=form)
    if form.is_valid():
        try:
            appointment = oversight.oversight_propose(by=request.user, **form.cleaned_data)
        except NotAllowed as refusal:
            messages.error(request, refusal.message)
            return redirect("security:oversight_list")
        except RuleViolation as refusal:
            form.add_error(refusal.field if refusal.field in form.fields else None, refusal.message)
        else:
            messages.success(request, f"The appointment of {appointment.person} now waits for the Mayor's designee.")
            return redirect(appointment)
    messages.error(request, f"The appointment was not asked for. {form_error_message(form)}")
    return _oversight_list_page(request, form=form, status=400)


@login_required
@require_GET
def oversight_detail(request, pk):
    user = request.user
    appointment = _get_appointment_for(user, pk)
    pending = appointment.status == OversightAppointment.Status.PROPOSED
    return render(request, "security/oversight_detail.html", {
        "appointment": appointment,
        "decide_form": DecisionForm(choices=OVERSIGHT_DECISIONS) if pending and oversight.may_decide_oversight(user)
        and not appointment.is_asked_by(user) else None,
        "may_withdraw": pending and oversight.may_propose_oversight(user),
        "end_form": OversightEndForm() if appointment.status == OversightAppointment.Status.ACTIVE
        and oversight.may_end_oversight(user) else None,
        "timeline": timeline(appointment),
    })


oversight_decide = login_required(require_POST(password_recently_entered(decide_view(
    get=_get_appointment_for, choices=OVERSIGHT_DECISIONS,
    decide=lambda appointment, approve, **decision: oversight.oversight_decide(
        appointment=appointment, approve=approve, **decision),
    done=lambda appointment, approve: (f"{appointment.person} now reads for oversight." if approve
                                       else "The appointment is refused."),
))))


@login_required
@require_POST
def oversight_withdraw(request, pk):
    appointment = _get_appointment_for(request.user, pk)
    return carry_out(request, appointment,
                     lambda: oversight.oversight_withdraw(appointment=appointment, by=request.user),
                     done="The request for the appointment is withdrawn.")


@login_required
@require_POST
@password_recently_entered
def oversight_end(request, pk):
    appointment = _get_appointment_for(request.user, pk)
    form = OversightEndForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Write the reason for ending the appointment.")
        return redirect(appointment)
    return carry_out(request, appointment,
                     lambda: oversight.oversight_end(appointment=appointment, by=request.user,
                                                     reason=form.cleaned_data["reason"]),
                     done=f"The appointment is ended: {appointment.person} no longer reads for oversight.")


# --- First sign-in and recovery -------------------------------------------------------------------

def _person_for_itsa(request, pk):
    require_itsa_page(request.user, "person_sign_in")  # for everyone else: 404, recorded
    person = User.objects.filter(pk=pk).first()
    if person is None:
        raise Http404("No such person.")
    return person


@login_required
@require_POST
@password_recently_entered
def invite(request, pk):
    person = _person_for_itsa(request, pk)
    try:
        invitations.invitation_send(person=person, by=request.user)
    except RuleViolation as problem:
        messages.error(request, str(problem))
    else:
        messages.success(request, f"An invitation is on its way to {person.email}.")
    return redirect("accounts:person", pk=person.pk)


@login_required
@require_POST
@password_recently_entered
def authenticator_reset(request, pk):
    person = _person_for_itsa(request, pk)
    try:
        invitations.authenticator_reset(person=person, by=request.user)
    except RuleViolation as problem:
        messages.error(request, str(problem))
    else:
        messages.success(request, f"{person}'s authenticator is reset and their sessions are ended; "
                                  "they set up a new one at their next sign-in.")
    return redirect("accounts:person", pk=person.pk)


def _set_password_page(request, uidb64, token, kind):
    person = invitations.person_of_link(uidb64)
    problem = invitations.link_problem(person=person, token=token, kind=kind)
    if problem is not None:
        if request.method == "POST":
            try:  # the service refuses it, and records the attempt
                invitations.password_set_from_link(person=person, token=token, kind=kind, password="")
            except RuleViolation:
                pass
        return render(request, "security/link_problem.html",
                      {"problem": invitations.LINK_PROBLEMS[problem], "expired": problem == "expired"}, status=400)
    form = SetPasswordForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            invitations.password_set_from_link(person=person, token=token, kind=kind,
                                               password=form.cleaned_data["new_password1"])
        except RuleViolation as problem:
            form.add_error(problem.field if problem.field in form.fields else None, problem.message)
        else:
            if request.user.is_authenticated:
                logout(request)
            messages.success(request, "Your password is set. Sign in with your e-mail address and the new password.")
            return redirect("login")
    return render(request, "security/set_password.html", {"form": form, "person": person,
                                                         "invitation": kind == invitations.INVITATION})


@require_http_methods(["GET", "POST"])
def set_password(request, uidb64, token):
    """The page an invitation links to: set a first password."""
    return _set_password_page(request, uidb64, token, invitations.INVITATION)


@require_http_methods(["GET", "POST"])
def reset_password(request, uidb64, token):
    """The page a reset mail links to: choose a new password."""
    return _set_password_page(request, uidb64, token, invitations.RESET)


@require_http_methods(["GET", "POST"])
def forgot_password(request):
    """Asks for a reset link. The answer is the same whether or not the address is a person's."""
    form = ForgotPasswordForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        invitations.password_reset_request(email=form.cleaned_data["email"], ip_address=client_address(request))
        messages.success(request, "If that address belongs to a person of the portal, a link to choose a new "
                                  "password is on its way. It works once, for a short time.")
        return redirect("login")
    return render(request, "security/forgot_password.html", {"form": form})
