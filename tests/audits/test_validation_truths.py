"""A validation tells the truth about each grant (S3.4): a grant whose removal or suspension is already
on its way to ITSA, from a status-change report (S3.5c) or an earlier revocation, cannot be kept or
attested as kept (S3.4e, S3.4f); revoking it takes the open removal as its follow-up, so ITSA gets no
second request (S3.4g); the page marks open removals and suspensions, suspended and temporary
grants, and each grant's last recorded use."""

import re
from datetime import timedelta

import pytest
from conftest import PASSWORD, file_request, messages_of, open_validation, pdf_text, provisioned
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from accounts.last_use import ReportedUse, grant_use_record
from accounts.models import Grant, User
from audits.documents import attestation_document
from audits.models import Validation, ValidationItem
from audits.services import (
    open_due_validations,
    user_audit_open,
    validation_item_decide,
    validation_keep_all,
    validation_sign_off,
)
from portal.errors import RuleViolation
from portal.models import AuditEvent
from access_requests.models import AccessRequest, StatusChange
from access_requests.services import access_request_approve, access_request_provision, status_change_report

Decision = ValidationItem.Decision
Action = AccessRequest.Action


def _item(validation, person):
    return validation.items.select_related("grant").get(grant__person=person)


def _report(city, person, kind=StatusChange.Kind.LEFT):
    """The head reports the person's status change; returns the removal (or suspension) it queued
    for the person's VMS access."""
    status_change_report(person=User.objects.get(pk=person.pk), kind=kind, effective_date=timezone.localdate(),
                         note="", by=city.head)
    return AccessRequest.objects.get(person=person, system=city.vms, action__in=[Action.REMOVE, Action.SUSPEND],
                                     status__in=AccessRequest.OPEN_STATUSES)


def _removals(grant):
    return AccessRequest.objects.filter(grant=grant, action=Action.REMOVE)


def _page(client, validation, **params):
    response = client.get(validation.get_absolute_url(), params)
    assert response.status_code == 200
    return response.content.decode()


def _row(page, item):
    """The items table's row of one item."""
    match = re.search(rf'<tr id="item-{item.pk}">(.*?)</tr>', page, re.S)
    assert match, f"no row for item {item.pk}"
    return match.group(1)


def _text(row) -> str:
    """The row as read: tags dropped, whitespace collapsed."""
    return " ".join(re.sub(r"<[^>]+>", " ", row).split())


def _has_keep_button(row) -> bool:
    return '<input type="hidden" name="decision" value="keep">' in row


def _attestation_line(validation, person) -> str:
    """The person's entry in the attestation, up to the next entry or the sign-off."""
    text = pdf_text(attestation_document(validation=validation).content)
    match = re.search(rf"{re.escape(person.full_name)} \(.*?(?= \d+\. [A-Z]| Head's sign-off)", text)
    assert match, text
    return match.group(0)


# --- Keep is refused -----------------------------------------------------------------------------

def test_a_grant_whose_removal_a_status_change_queued_cannot_be_kept(city):
    """S3.4f S3.5c: the head reported the officer as gone; keeping the officer's access is refused,
    naming the removal already with ITSA, and the refusal is recorded."""
    validation = open_validation(city)
    removal = _report(city, city.officer)
    item = _item(validation, city.officer)

    with pytest.raises(RuleViolation) as refusal:
        validation_item_decide(item=item, decision=Decision.KEEP, by=city.head)

    assert refusal.value.message.startswith(
        f"Removal request {removal.reference} is already with ITSA: this access cannot be kept.")
    item.refresh_from_db()
    assert item.decision == Decision.PENDING and item.decided_by is None
    assert AuditEvent.objects.filter(actor=city.head, action="validation.decide", outcome="refused",
                                     detail__contains=removal.reference).exists()


def test_a_grant_revoked_in_an_earlier_review_cannot_be_kept_in_the_next(city):
    """S3.4e S3.4f: the head revoked the officer's access in ITSA's user audit; while that removal
    is open, the annual validation cannot keep it."""
    annual = open_validation(city)
    audit = user_audit_open(by=city.itsa, department=city.police)
    revoked = validation_item_decide(item=_item(audit, city.officer), decision=Decision.REVOKE,
                                     reason="Moved to records.", by=city.head)

    with pytest.raises(RuleViolation, match=rf"Removal request {revoked.follow_up.reference} is already with ITSA"):
        validation_item_decide(item=_item(annual, city.officer), decision=Decision.KEEP, by=city.head)

    assert _item(annual, city.officer).decision == Decision.PENDING


def test_a_grant_with_a_removal_awaiting_the_heads_approval_cannot_be_kept(city):
    """S3.4f: a removal filed by an authorized requester and not yet approved is open too."""
    validation = open_validation(city)
    removal = file_request(city, action="remove", justification="Left the unit.")
    assert removal.is_awaiting_head

    with pytest.raises(RuleViolation, match=rf"Removal request {removal.reference} is already filed"):
        validation_item_decide(item=_item(validation, city.officer), decision=Decision.KEEP, by=city.head)


def test_a_grant_with_a_suspension_open_cannot_be_kept_until_itsa_has_suspended_it(city):
    """S3.4f S3.5c: the officer is on leave; the suspension is with ITSA, so the access cannot be
    kept; once ITSA has suspended the account, the head may keep it, suspended."""
    validation = open_validation(city)
    suspension = _report(city, city.officer, StatusChange.Kind.ON_LEAVE)
    assert suspension.action == Action.SUSPEND
    item = _item(validation, city.officer)

    with pytest.raises(RuleViolation, match=rf"Suspension request {suspension.reference} is already with ITSA: "
                                            "this access cannot be kept"):
        validation_item_decide(item=item, decision=Decision.KEEP, by=city.head)

    access_request_provision(request=suspension, by=city.itsa)
    kept = validation_item_decide(item=item, decision=Decision.KEEP, by=city.head)
    assert kept.decision == Decision.KEEP and kept.grant.status == Grant.Status.SUSPENDED


def test_the_role_of_a_grant_with_a_removal_open_cannot_be_changed(city):
    """S3.4f: access on its way out is revoked, not changed; no change request is queued."""
    validation = open_validation(city)
    removal = _report(city, city.officer)

    with pytest.raises(RuleViolation, match=rf"Removal request {removal.reference} .* can only be revoked"):
        validation_item_decide(item=_item(validation, city.officer), decision=Decision.CHANGE_ROLE,
                               new_role=Grant.Role.MONITOR, reason="Desk duty.", by=city.head)

    assert not AccessRequest.objects.filter(person=city.officer, action=Action.CHANGE).exists()


# --- Keep all leaves it --------------------------------------------------------------------------

def test_keep_all_leaves_a_grant_with_a_removal_open_and_says_how_many_and_why(city):
    """S3.4f S3.5c"""
    validation = open_validation(city)
    removal = _report(city, city.officer)

    result = validation_keep_all(validation=validation, by=city.head, confirmed=True)

    assert result.kept == 1 and result.left == (removal.reference,)
    assert result.left_message.startswith("1 access was left undecided")
    assert removal.reference in result.left_message and "cannot be kept" in result.left_message
    assert _item(validation, city.officer).decision == Decision.PENDING
    assert _item(validation, city.analyst).decision == Decision.KEEP


def test_keep_all_through_the_page_warns_of_what_it_left(city, client):
    """S3.4f: the page's keep-all offers only what can be kept, and says what it left."""
    validation = open_validation(city)
    removal = _report(city, city.officer)
    client.force_login(city.head)
    assert "Keep the 1 access of this validation" in _page(client, validation)

    response = client.post(reverse("audits:keep_all", args=[validation.pk]), {"confirm": "on"})

    found = messages_of(response)
    assert ("success", "You keep the 1 access not decided before.") in found
    assert any(level == "warning" and removal.reference in text and "left undecided" in text
               for level, text in found)


# --- Revoking it links the open removal ----------------------------------------------------------

def test_revoking_a_grant_with_a_removal_open_links_that_removal_and_queues_no_second(city):
    """S3.4g S3.5c: one written removal for ITSA, not two; the item's follow-up is the one queued by
    the status change."""
    validation = open_validation(city)
    removal = _report(city, city.officer)
    grant = removal.grant

    revoked = validation_item_decide(item=_item(validation, city.officer), decision=Decision.REVOKE,
                                     reason="Left the city.", by=city.head)

    assert revoked.decision == Decision.REVOKE and revoked.follow_up == removal
    assert list(_removals(grant)) == [removal]


def test_the_open_removal_is_linked_even_when_the_grants_role_changed_since(city):
    """S3.4g: a role change ITSA carried out after the removal was queued does not make a second removal."""
    validation = open_validation(city)
    change = access_request_approve(request=file_request(city, action="change", role=Grant.Role.MONITOR,
                                                         justification="Moves to the monitoring desk."),
                                    by=city.head)
    removal = _report(city, city.officer)
    access_request_provision(request=change, by=city.itsa)
    grant = Grant.objects.get(pk=removal.grant_id)
    assert grant.role == Grant.Role.MONITOR and removal.role == Grant.Role.END_USER

    revoked = validation_item_decide(item=_item(validation, city.officer), decision=Decision.REVOKE,
                                     reason="Left the city.", by=city.head)

    assert revoked.follow_up == removal
    assert list(_removals(grant)) == [removal]


def test_the_page_says_the_revocation_took_the_open_removal(city, client):
    """S3.4g"""
    validation = open_validation(city)
    removal = _report(city, city.officer)
    item = _item(validation, city.officer)
    client.force_login(city.head)

    response = client.post(reverse("audits:decide", args=[validation.pk, item.pk]),
                           {"decision": "revoke", "reason": "Left the city."})

    level, text = messages_of(response)[-1]
    assert level == "success" and removal.reference in text and "no second request" in text
    assert _removals(item.grant).count() == 1


def test_keeping_through_the_page_is_refused_with_the_reference(city, client):
    """S3.4f"""
    validation = open_validation(city)
    removal = _report(city, city.officer)
    item = _item(validation, city.officer)
    client.force_login(city.head)

    response = client.post(reverse("audits:decide", args=[validation.pk, item.pk]), {"decision": "keep"})

    assert response.status_code == 302
    assert messages_of(response)[-1] == (
        "error", f"Removal request {removal.reference} is already with ITSA: this access cannot be kept. "
                 "Revoke it: the revocation is linked to that request.")
    item.refresh_from_db()
    assert item.decision == Decision.PENDING


# --- Sign-off and the attestation ----------------------------------------------------------------

def test_the_way_around_keeping_a_grant_whose_removal_is_queued_then_signing(city):
    """S3.4f S3.5c: before this rule, the head kept the access of a person they had reported as gone
    and signed an attestation listing it as kept. Now the keep is refused, the sign-off waits for a
    decision, and after the revocation the attestation lists it as revoked, with the one removal."""
    validation = open_validation(city)
    removal = _report(city, city.officer)
    validation_item_decide(item=_item(validation, city.analyst), decision=Decision.KEEP, by=city.head)

    with pytest.raises(RuleViolation):
        validation_item_decide(item=_item(validation, city.officer), decision=Decision.KEEP, by=city.head)
    with pytest.raises(RuleViolation, match="1 item is not decided yet"):
        validation_sign_off(validation=validation, by=city.head, password=PASSWORD)

    validation_item_decide(item=_item(validation, city.officer), decision=Decision.REVOKE,
                           reason="Left the city.", by=city.head)
    signed = validation_sign_off(validation=validation, by=city.head, password=PASSWORD)

    assert signed.status == Validation.Status.SIGNED_OFF  # the removal is still with ITSA
    assert "validate the 1 I kept" in signed.sign_off_statement
    line = _attestation_line(signed, city.officer)
    assert f"Revoke ({removal.reference})" in line and "Keep" not in line
    assert "1 keep; 1 revoke" in pdf_text(attestation_document(validation=signed).content)
    assert list(_removals(removal.grant)) == [removal]


def test_a_grant_kept_before_its_removal_was_queued_is_not_signed_off_as_kept(city):
    """S3.4f S3.5c: the head kept the officer's access, then reported the officer as gone. The
    sign-off is refused naming the removal; the open copy of the attestation does not say kept; the
    head revokes the kept item, which takes the removal, and signs."""
    validation = open_validation(city)
    validation_keep_all(validation=validation, by=city.head, confirmed=True)
    removal = _report(city, city.officer)

    with pytest.raises(RuleViolation, match=rf"after you kept Olive Officer’s access to Citywide VMS "
                                            rf"\({removal.reference}\)"):
        validation_sign_off(validation=validation, by=city.head, password=PASSWORD)
    line = _attestation_line(validation, city.officer)
    assert f"Not kept: removal {removal.reference} open" in line and "Keep" not in line

    revoked = validation_item_decide(item=_item(validation, city.officer), decision=Decision.REVOKE,
                                     reason="Left the city.", by=city.head)
    assert revoked.follow_up == removal
    signed = validation_sign_off(validation=validation, by=city.head, password=PASSWORD)
    assert signed.signed_off_by == city.head and "validate the 1 I kept" in signed.sign_off_statement
    assert f"Revoke ({removal.reference})" in _attestation_line(signed, city.officer)


def test_a_kept_item_without_anything_open_cannot_be_decided_again(city):
    """S3.4f: only a removal or suspension filed since reopens a kept item, and only to revoke it."""
    validation = open_validation(city)
    validation_item_decide(item=_item(validation, city.officer), decision=Decision.KEEP, by=city.head)

    with pytest.raises(RuleViolation, match="already decided: keep"):
        validation_item_decide(item=_item(validation, city.officer), decision=Decision.REVOKE, reason="No.",
                               by=city.head)


# --- The page -------------------------------------------------------------------------------------

def test_the_page_tags_an_open_removal_with_a_link_instead_of_the_keep_button(city, client):
    """S3.4f S3.5c"""
    validation = open_validation(city)
    removal = _report(city, city.officer)
    client.force_login(city.head)

    page = _page(client, validation)

    officer, analyst = _row(page, _item(validation, city.officer)), _row(page, _item(validation, city.analyst))
    assert f"Removal pending ({removal.reference})" in officer
    assert f'href="{removal.get_absolute_url()}"' in officer
    assert not _has_keep_button(officer) and 'value="revoke"' in officer and 'value="change_role"' not in officer
    assert _has_keep_button(analyst) and "pending (" not in analyst


def test_the_page_tags_an_open_suspension(city, client):
    """S3.4f S3.5c"""
    validation = open_validation(city)
    suspension = _report(city, city.officer, StatusChange.Kind.ON_LEAVE)
    client.force_login(city.head)

    officer = _row(_page(client, validation), _item(validation, city.officer))

    assert f"Suspension pending ({suspension.reference})" in officer
    assert not _has_keep_button(officer) and 'value="revoke"' in officer and 'value="change_role"' in officer


def test_a_kept_item_whose_removal_was_queued_since_offers_only_revoke(city, client):
    """S3.4f"""
    validation = open_validation(city)
    validation_keep_all(validation=validation, by=city.head, confirmed=True)
    removal = _report(city, city.officer)
    client.force_login(city.head)

    officer = _row(_page(client, validation), _item(validation, city.officer))

    assert f"Removal pending ({removal.reference})" in officer
    assert 'value="revoke"' in officer and not _has_keep_button(officer)


def test_who_may_not_see_the_request_sees_the_tag_without_the_link(city, client):
    """S3.4f: the designee sees every validation but not the police's requests."""
    validation = open_validation(city)
    removal = _report(city, city.officer)
    client.force_login(city.designee)

    officer = _row(_page(client, validation), _item(validation, city.officer))

    assert f"Removal pending ({removal.reference})" in officer
    assert removal.get_absolute_url() not in officer


def test_a_suspended_and_a_temporary_grant_are_marked(city, client):
    """S3.4f Def.T: a suspended grant says so; a temporary one says when it ends; view-only access
    under an agreement, which also ends, is not called temporary."""
    validation = open_validation(city)
    suspension = _report(city, city.officer, StatusChange.Kind.ON_LEAVE)
    access_request_provision(request=suspension, by=city.itsa)
    ends_on = timezone.localdate() + timedelta(days=12)
    analyst_grant = _item(validation, city.analyst).grant
    Grant.objects.filter(pk=analyst_grant.pk).update(ends_on=ends_on)
    client.force_login(city.head)

    page = _page(client, validation)

    officer, analyst = _row(page, _item(validation, city.officer)), _row(page, _item(validation, city.analyst))
    assert ">Suspended<" in officer and "Temporary" not in officer
    assert f"Temporary: ends {ends_on:%b} {ends_on.day}, {ends_on.year}" in analyst and ">Suspended<" not in analyst
    # Suspended and done: nothing open, so it may be kept.
    assert _has_keep_button(officer) and "pending (" not in officer

    Grant.objects.filter(pk=analyst_grant.pk).update(view_only=True)
    assert "Temporary" not in _row(_page(client, validation), _item(validation, city.analyst))


def test_the_page_shows_the_last_use_and_asks_about_access_unused_for_90_days(city, client, settings):
    """S3.4f: the last use the systems reported, and the nightly check's limit as a question to the head."""
    settings.GRANT_HYGIENE_UNUSED_DAYS = 90
    validation = open_validation(city)
    officer_grant, analyst_grant = _item(validation, city.officer).grant, _item(validation, city.analyst).grant
    used = timezone.now() - timedelta(days=100)
    grant_use_record(uses=[ReportedUse(system_code="vms", account_name=officer_grant.account_name, used_at=used)])
    client.force_login(city.head)

    page = _page(client, validation)

    officer, analyst = _row(page, _item(validation, city.officer)), _row(page, _item(validation, city.analyst))
    day = timezone.localdate(used)
    assert f"Last used {day:%b} {day.day}, {day.year}" in _text(officer)
    assert "Not used for 90 days: does this person still need it?" in officer
    # Provisioned today and never used: nothing recorded, and not yet idle for 90 days.
    assert "No use recorded" in analyst and "Not used for" not in analyst

    Grant.objects.filter(pk=analyst_grant.pk).update(provisioned_at=timezone.now() - timedelta(days=120))
    analyst = _row(_page(client, validation), _item(validation, city.analyst))
    assert "No use recorded" in analyst and "Not used for 90 days" in analyst

    grant_use_record(uses=[ReportedUse(system_code="vms", account_name=officer_grant.account_name,
                                       used_at=timezone.now() - timedelta(days=89))])
    assert "Not used for" not in _row(_page(client, validation), _item(validation, city.officer))


def test_the_90_days_are_the_nightly_checks_limit(city, client, settings):
    """S3.4f: one limit for the page's question and the nightly grant check."""
    settings.GRANT_HYGIENE_UNUSED_DAYS = 30
    validation = open_validation(city)
    Grant.objects.filter(pk=_item(validation, city.officer).grant_id).update(
        provisioned_at=timezone.now() - timedelta(days=31))
    client.force_login(city.head)

    officer = _row(_page(client, validation), _item(validation, city.officer))

    assert "Not used for 30 days: does this person still need it?" in officer


def test_open_removals_add_no_query_per_row(city, client):
    """S3.4f: the page reads every row's open removal or suspension in one query, with or without any."""
    provisioned(city)
    for index in range(4):
        person = User.objects.create_user(email=f"extra{index}@police.example", password=PASSWORD,
                                          full_name=f"Extra {index}", department=city.police)
        provisioned(city, person=person)
    [validation] = open_due_validations()
    client.force_login(city.head)
    _page(client, validation)

    with CaptureQueriesContext(connection) as none_open:
        _page(client, validation)
    for person in User.objects.filter(email__startswith="extra"):
        _report(city, person)
    with CaptureQueriesContext(connection) as four_open:
        page = _page(client, validation)

    assert page.count("Removal pending (") == 4
    assert len(four_open.captured_queries) == len(none_open.captured_queries), "\n".join(
        query["sql"] for query in four_open.captured_queries
    )
