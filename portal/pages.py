"""What the pages of every app do the same way around a service call."""

from django.contrib import messages
from django.shortcuts import redirect

from .errors import RuleViolation
from .forms import DecisionForm


def carry_out(request, obj, change, *, done):
    """Run one service call that changes `obj`'s status, and go back to `obj`'s page. A refusal
    becomes an error message; a repeated submission, which the service answers without a change,
    an information message. `done` is the success message, or a function of the changed object
    that returns it."""
    before = obj.status
    try:
        after = change()
    except RuleViolation as refusal:
        messages.error(request, refusal.message)
    else:
        if after.status == before:
            messages.info(request, f"Nothing changed: this is already “{after.get_status_display()}”.")
        else:
            messages.success(request, done(after) if callable(done) else done)
    return redirect(obj)


def decide_view(*, get, choices, decide, done):
    """The decide view of every workflow with a decider: the decision form, one service call, and back
    to the record's page. `get(user, pk)` reads the record as the user may see it; `decide(record,
    approve=, reason=, by=)` calls the workflow's service; `done(record, approve)` is the success
    message, or a function of the changed record. The app adds its decorators (sign-in, POST only,
    password recently entered)."""

    def view(request, pk):
        record = get(request.user, pk)
        form = DecisionForm(request.POST, choices=choices)
        if not form.is_valid():
            messages.error(request, form.incomplete)
            return redirect(record)
        approve = form.approves
        return carry_out(
            request, record,
            lambda: decide(record, approve=approve, reason=form.cleaned_data["reason"], by=request.user),
            done=done(record, approve),
        )

    return view


def form_error_message(form) -> str:
    """Every error of a form, in one line, for a message above the page."""
    return " ".join(str(error) for errors in form.errors.values() for error in errors)


def query_string_without_page(request) -> str:
    """The list's search, for its page links: every parameter but the page number."""
    params = request.GET.copy()
    params.pop("page", None)
    return params.urlencode()
