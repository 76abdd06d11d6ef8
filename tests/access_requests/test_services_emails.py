"""Who hears about a request, and when: only once the change is committed."""

import pytest
from conftest import file_request
from django.core import mail
from django.db import transaction
from django.utils import timezone

from accounts.models import User
from access_requests.services import (
    access_request_approve,
    access_request_decline,
    access_request_provision,
    access_request_return,
    status_change_report,
)


def _recipients():
    return [sorted(message.to) for message in mail.outbox]


class _Rollback(Exception):
    pass


def test_the_head_is_told_when_a_request_waits_for_them(city, django_capture_on_commit_callbacks):
    """S3.4c"""
    with django_capture_on_commit_callbacks(execute=True):
        request = file_request(city, by=city.requester)

    assert _recipients() == [[city.head.email]]
    assert request.reference in mail.outbox[0].subject + mail.outbox[0].body


def test_the_designee_is_told_when_a_head_asks_for_their_own_access(city, django_capture_on_commit_callbacks):
    """S3.4c: the designee approves a head's own access, so the designee hears about it."""
    with django_capture_on_commit_callbacks(execute=True):
        file_request(city, person=city.head, by=city.head)

    assert _recipients() == [[city.designee.email]]


def test_itsa_is_told_when_the_head_approves(city, django_capture_on_commit_callbacks):
    """S3.5a"""
    request = file_request(city, by=city.requester)

    with django_capture_on_commit_callbacks(execute=True):
        access_request_approve(request=request, by=city.head)

    assert _recipients() == [sorted([city.itsa.email, city.itsa2.email])]


def test_itsa_is_told_when_the_head_files_for_someone_else(city, django_capture_on_commit_callbacks):
    """S3.4c S3.5a: the head's filing is the approval."""
    with django_capture_on_commit_callbacks(execute=True):
        file_request(city, by=city.head)

    assert _recipients() == [sorted([city.itsa.email, city.itsa2.email])]


def test_the_requester_and_the_head_are_told_when_itsa_completes_the_request(city, django_capture_on_commit_callbacks):
    """S3.5b"""
    request = access_request_approve(request=file_request(city, by=city.requester), by=city.head)

    with django_capture_on_commit_callbacks(execute=True):
        access_request_provision(request=request, by=city.itsa, account_name="oofficer")

    assert _recipients() == [sorted([city.requester.email, city.head.email])]


def test_the_requester_is_told_when_itsa_returns_the_request(city, django_capture_on_commit_callbacks):
    """S3.5b"""
    request = access_request_approve(request=file_request(city, by=city.requester), by=city.head)

    with django_capture_on_commit_callbacks(execute=True):
        access_request_return(request=request, reason="Missing the signed copy.", by=city.itsa)

    assert _recipients() == [[city.requester.email]]
    assert "Missing the signed copy." in mail.outbox[0].body


def test_the_requester_is_told_when_the_head_declines(city, django_capture_on_commit_callbacks):
    """S3.4c"""
    request = file_request(city, by=city.requester)

    with django_capture_on_commit_callbacks(execute=True):
        access_request_decline(request=request, reason="Not needed for this role.", by=city.head)

    assert _recipients() == [[city.requester.email]]


def test_itsa_is_told_about_a_status_change(city, django_capture_on_commit_callbacks):
    """S3.5c"""
    person = User.objects.get(pk=city.officer.pk)

    with django_capture_on_commit_callbacks(execute=True):
        status_change_report(person=person, kind="left", effective_date=timezone.localdate(), note="", by=city.head)

    assert _recipients() == [sorted([city.itsa.email, city.itsa2.email])]


def test_no_mail_leaves_before_the_transaction_commits(city, django_capture_on_commit_callbacks):
    """S3.4c: mail is enqueued on commit, never from inside the transaction."""
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        file_request(city, by=city.requester)

    assert mail.outbox == []
    assert len(callbacks) == 1
    callbacks[0]()
    assert _recipients() == [[city.head.email]]


def test_a_rolled_back_filing_sends_nothing(city, django_capture_on_commit_callbacks):
    """S3.4c"""
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        with pytest.raises(_Rollback):
            with transaction.atomic():
                file_request(city, by=city.requester)
                raise _Rollback

    assert callbacks == []
    assert mail.outbox == []


def test_a_double_approval_sends_one_mail(city, django_capture_on_commit_callbacks):
    """S3.5a"""
    request = file_request(city, by=city.requester)

    with django_capture_on_commit_callbacks(execute=True):
        access_request_approve(request=request, by=city.head)
        access_request_approve(request=request, by=city.head)

    assert len(mail.outbox) == 1
