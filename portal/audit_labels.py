"""The audit trail's actions as people read them: "Approved an access request", not
`access_request.approve`. The trail and its CSV keep the codes, for machines; the log page shows
these labels. An action with no label of its own is read from its two halves (what, and what was
done to it), and failing that shown as its code."""

# What an action's first half names.
NOUNS = {
    "access_request": "an access request", "adoption": "a city import", "agreement": "a sharing agreement",
    "api": "the API", "api_token": "an API token", "audit_log": "the audit log", "authenticator": "an authenticator",
    "department": "a department", "department_access": "department access", "document": "a supporting document",
    "external_connection": "an external connection", "grant": "a grant", "hr_roster": "the HR roster",
    "import_upload": "an import upload", "incident": "an incident report", "invitation": "an invitation",
    "itsa_queue": "the ITSA queue", "kpi": "a KPI", "oversight": "an oversight appointment",
    "oversight_appointment": "an oversight appointment", "password_reset": "a password reset", "person": "a person",
    "policy_change": "a policy change", "policy_version": "a policy version", "report": "a report",
    "request": "an access request", "requester": "an authorized requester", "retention_extension":
    "a retention extension", "extension": "a retention extension", "roster": "a roster",
    "second_factor": "a second factor", "session": "a session", "sharing_agreement": "a sharing agreement",
    "sign_in": "a sign-in", "sod": "separation of duties", "status_change": "a status change",
    "user_audit": "a user audit", "validation": "a validation", "validation_item": "a validation item",
    "validation_list": "the validations", "waiver": "a waiver",
}

# What was done, as a past tense.
VERBS = {
    "add": "Added", "attach": "Attached", "adopt": "Adopted", "apply": "Applied", "approve": "Approved",
    "approved": "Approved",
    "check": "Checked", "close": "Closed", "complete": "Completed", "create": "Made", "decide": "Decided",
    "decline": "Declined", "deny": "Denied", "denied": "Denied", "download": "Downloaded", "end": "Ended",
    "enrol": "Set up", "expire": "Expired", "export": "Exported", "figure": "Recorded a figure of",
    "freeze": "Froze", "grant": "Granted", "granted": "Granted", "import": "Imported", "join": "Added to",
    "keep": "Kept", "list": "Listed", "new": "Opened the form for", "open": "Opened", "place": "Placed",
    "propose": "Proposed", "provision": "Provisioned", "publish": "Published", "refuse": "Refused",
    "refused": "Refused", "remove": "Removed", "report": "Reported", "request": "Asked for", "reset": "Reset",
    "retire": "Retired", "return": "Returned", "revoke": "Revoked", "send": "Sent", "sign_off": "Signed off",
    "submit": "Filed", "suspend": "Suspended", "upload": "Uploaded", "view": "Viewed", "withdraw": "Withdrew",
}

# Actions whose two halves do not read well, or that have one half only.
ACTIONS = {
    "access_request.integrity_failed": "Found a stored access request altered",
    "access_request.queue_for_itsa": "Sent a grant to the ITSA queue",
    "adoption.report": "Downloaded an import's row-by-row check",
    "agreement.grant_remove": "Removed a grant under a sharing agreement",
    "agreement.person_add": "Added a third party's person",
    "api.access_request.provision": "Provisioned an access request through the API",
    "api.access_request.return": "Returned an access request through the API",
    "api.access_request.list": "Read access requests through the API",
    "api.access_request.view": "Read an access request through the API",
    "api.grant.list": "Read grants through the API", "api.grant.view": "Read a grant through the API",
    "api.grant_use.report": "Reported accounts' last use through the API",
    "api.person.list": "Read people through the API", "api.person.view": "Read a person through the API",
    "csrf.failed": "Sent a form without its security token",
    "department.set_head": "Named a department's head", "department.set_scope": "Changed a department's scope",
    "external_connection.renewal_notice": "Sent an external connection's renewal notice",
    "grant.hygiene.finding": "Found an unused or expired grant", "grant.hygiene.run": "Ran the nightly grant check",
    "grant.hygiene.suspend": "Suspended a grant in the nightly check",
    "grant.temporary_ended": "Ended temporary access", "grant.temporary_warning": "Warned of temporary access ending",
    "grant.use_recorded": "Recorded accounts' last use",
    "hr_roster.refused": "Refused an HR roster", "kpi.impact": "Stated a system's impact",
    "oversight.decide": "Decided an oversight appointment",
    "password_reset.request": "Asked for a password reset", "permission.denied": "Was refused a page",
    "policy_version.aldermen_notice": "Notified the Board of Aldermen of a policy version",
    "policy_version.aldermen_notice_not_sent": "Could not notify the Board of Aldermen of a policy version",
    "policy_version.delete": "Deleted a draft policy version",
    "report.hand_to_board": "Handed a report to the Board of Aldermen",
    "report.integrity_failed": "Found a published report altered",
    "retention_extension.review_due": "Reminded of a retention extension's review",
    "roster.export": "Downloaded a roster",
    "second_factor.recovery_codes": "Made new recovery codes", "second_factor.remove": "Removed a second factor",
    "session.end": "Ended sessions", "session.expired": "Reached the end of a session",
    "sign_in": "Signed in", "sign_in.lockout": "Was locked out after failed sign-ins",
    "sign_in.password_confirm": "Confirmed the password", "sign_in.release": "Released a locked account",
    "sign_in.second_factor": "Passed the second factor", "sign_out": "Signed out",
    "sod.scan": "Scanned for separation-of-duties conflicts",
    "status_change.report": "Reported a status change",
    "validation.attestation_kept": "Kept a signed attestation", "validation.keep_all": "Kept every end user",
    "validation.attestation_requested": "Asked for an attestation",
    "validation.non_response_flagged": "Flagged a validation with no response",
    "validation.non_response_suspended": "Suspended access for a validation with no response",
    "validation.integrity_failed": "Found a signed attestation altered",
    "validation.keep": "Kept an end user in a validation",
    "validation.revoke": "Revoked an end user's access in a validation",
    "validation.change_role": "Changed an end user's role in a validation",
    "validation.closed": "Closed a validation item whose access ended",
    "validation.suspended": "Suspended an end user for no answer to a validation",
    "waiver.awaiting_mayor": "Approved a waiver, for the Mayor's approval",
    "waiver.mayor": "Recorded the Mayor's approval of a waiver",
    "waiver.mayor_approved": "Recorded the Mayor's approval of a waiver",
}


def action_code(code: str) -> str:
    """One spelling: older entries wrote some codes with spaces ("access request.view")."""
    return code.strip().replace(" ", "_")


def action_label(code: str) -> str:
    code = action_code(code)
    if code in ACTIONS:
        return ACTIONS[code]
    noun, _, verb = code.rpartition(".")
    if noun in NOUNS and verb in VERBS:
        return f"{VERBS[verb]} {NOUNS[noun]}"
    if not noun and code in NOUNS:
        return NOUNS[code][0].upper() + NOUNS[code][1:]
    return code
