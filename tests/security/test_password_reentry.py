"""Approvals, provisioning and department-access decisions ask for the password again when it was
not entered in the last few minutes (S3.10)."""

import time
from urllib.parse import urlencode

import pytest
from axes.models import AccessAttempt
from conftest import PASSWORD, file_request, messages_of
from django.conf import settings as django_settings
from django.test import Client
from django.urls import reverse

from accounts.models import Grant
from portal.models import AuditEvent, IntendedUse
from access_requests.models import AccessRequest, DepartmentAccess
from access_requests.services import access_request_approve, department_access_request
from security import services
from security.models import AccountLock

CONFIRM = reverse("security:confirm_password")


def _password_entered_long_ago(client):
    session = client.session
    session[services.PASSWORD_AT] = time.time() - django_settings.PASSWORD_CONFIRM_SECONDS - 1
    session.save()


def _confirm_url(next_path):
    return f"{CONFIRM}?{urlencode({'next': next_path})}"


def _referer(path):
    return {"HTTP_REFERER": f"http://testserver{path}"}


@pytest.fixture
def head(city, client):
    client.force_login(city.head)
    return client


def _approve(client, request, **extra):
    return client.post(reverse("requests:approve", args=[request.pk]), **extra)


def test_the_password_entered_at_sign_in_counts_as_just_entered(city, head):
    """S3.10"""
    request = file_request(city)

    response = _approve(head, request)

    assert response.status_code == 302 and response.url == request.get_absolute_url()
    assert AccessRequest.objects.get(pk=request.pk).status == AccessRequest.Status.WITH_ITSA


def test_an_approval_asks_for_the_password_again_after_a_few_minutes(city, head):
    """S3.10: approvals ask for the password if it was not entered in the last few minutes."""
    request = file_request(city)
    _password_entered_long_ago(head)
    detail = request.get_absolute_url()

    response = _approve(head, request, **_referer(detail))

    assert response.status_code == 302 and response.url == _confirm_url(detail)
    assert messages_of(response)[-1][0] == "info"
    assert AccessRequest.objects.get(pk=request.pk).is_awaiting_head
    assert not AuditEvent.objects.filter(action="access_request.approve").exists()


def test_after_confirming_the_password_the_approval_goes_through(city, head):
    """S3.10"""
    request = file_request(city)
    _password_entered_long_ago(head)
    detail = request.get_absolute_url()
    _approve(head, request, **_referer(detail))
    assert head.get(_confirm_url(detail)).status_code == 200

    response = head.post(CONFIRM, {"password": PASSWORD, "next": detail})

    assert response.status_code == 302 and response.url == detail
    assert services.password_recent(response.wsgi_request)
    assert AccessRequest.objects.get(pk=request.pk).is_awaiting_head

    response = _approve(head, request, **_referer(detail))

    assert response.status_code == 302 and response.url == detail
    assert AccessRequest.objects.get(pk=request.pk).status == AccessRequest.Status.WITH_ITSA
    assert AuditEvent.objects.filter(action="sign_in.password_confirm", actor=city.head, outcome="success").exists()


def test_a_wrong_password_on_the_confirm_page_is_refused_and_counts_as_a_failed_sign_in(city, head):
    """S3.10: wrong passwords here count towards the lockout like those at sign-in."""
    request = file_request(city)
    _password_entered_long_ago(head)

    response = head.post(CONFIRM, {"password": "not the password", "next": request.get_absolute_url()})

    assert response.status_code == 200
    assert "That password is not right." in response.content.decode()
    assert not services.password_recent(response.wsgi_request)
    assert AccessAttempt.objects.get(username=city.head.email).failures_since_start == 1
    assert AuditEvent.objects.filter(action="sign_in", target=city.head.email, outcome="denied").exists()
    assert AuditEvent.objects.filter(action="sign_in.password_confirm", actor=city.head, outcome="denied").exists()
    assert _approve(head, request).url.startswith(CONFIRM)
    assert AccessRequest.objects.get(pk=request.pk).is_awaiting_head


def test_five_wrong_passwords_on_the_confirm_page_lock_the_account_and_end_the_session(city, head):
    """S3.10"""
    for attempt in range(5):
        head.post(CONFIRM, {"password": "not the password"})

    assert AccountLock.objects.get(user=city.head).is_open
    response = head.get(reverse("home"))
    assert response.status_code == 302 and response.url.startswith(reverse("login"))


def test_the_fifth_wrong_password_on_the_confirm_page_shows_that_the_account_is_locked(city, head):
    """S3.10"""
    for attempt in range(4):
        head.post(CONFIRM, {"password": "not the password"})

    response = head.post(CONFIRM, {"password": "not the password"})

    assert response.status_code == 429
    assert "This account is locked" in response.content.decode()


def test_htmx_requests_get_the_hx_redirect_on_a_response_htmx_can_read(city, head):
    request = file_request(city)
    _password_entered_long_ago(head)

    response = _approve(head, request, headers={"HX-Request": "true"})

    assert 200 <= response.status_code < 300
    assert response["HX-Redirect"] == _confirm_url(reverse("home"))


def test_the_confirm_page_goes_back_only_to_pages_of_the_portal(city, head):
    response = head.post(CONFIRM, {"password": PASSWORD, "next": "https://evil.example/steal"})

    assert response.status_code == 302 and response.url == reverse("home")


def test_without_a_referer_the_confirm_page_returns_home(city, head):
    request = file_request(city)
    _password_entered_long_ago(head)

    response = _approve(head, request)

    assert response.url == _confirm_url(reverse("home"))


def test_a_foreign_referer_is_not_where_the_confirm_page_returns(city, head):
    request = file_request(city)
    _password_entered_long_ago(head)

    response = _approve(head, request, HTTP_REFERER="https://evil.example/page")

    assert response.url == _confirm_url(reverse("home"))


def test_htmx_requests_are_sent_to_the_confirm_page_with_hx_redirect(city, head):
    """S3.10"""
    request = file_request(city)
    _password_entered_long_ago(head)
    detail = request.get_absolute_url()

    response = _approve(head, request, headers={"HX-Request": "true"}, **_referer(detail))

    assert response["HX-Redirect"] == _confirm_url(detail)
    assert AccessRequest.objects.get(pk=request.pk).is_awaiting_head


def test_provisioning_asks_for_the_password_again_after_a_few_minutes(city, client):
    """S3.10: provisioning asks for the password again."""
    request = access_request_approve(request=file_request(city), by=city.head)
    client.force_login(city.itsa)
    _password_entered_long_ago(client)
    url = reverse("requests:provision", args=[request.pk])
    detail = request.get_absolute_url()

    response = client.post(url, {"account_name": "acct-officer"}, **_referer(detail))

    assert response.url == _confirm_url(detail)
    assert AccessRequest.objects.get(pk=request.pk).status == AccessRequest.Status.WITH_ITSA
    assert not Grant.objects.filter(person=city.officer).exists()

    client.post(CONFIRM, {"password": PASSWORD, "next": detail})
    response = client.post(url, {"account_name": "acct-officer"}, **_referer(detail))

    assert response.url == detail
    assert Grant.objects.get(person=city.officer).account_name == "acct-officer"


def test_a_department_access_decision_asks_for_the_password_again_after_a_few_minutes(city, client):
    """S3.10"""
    access = department_access_request(
        department=city.police, system=city.lpr, intended_uses=[IntendedUse.objects.get(code="public-safety")],
        business_need="Stolen vehicles.", by=city.head,
    )
    client.force_login(city.designee)
    _password_entered_long_ago(client)
    url = reverse("requests:department_access_decide", args=[access.pk])
    decision = {"decision": "grant", "reason": "Public safety."}

    response = client.post(url, decision, headers={"HX-Request": "true"})

    assert response.status_code == 200
    assert response["HX-Redirect"] == _confirm_url(reverse("home"))
    assert DepartmentAccess.objects.get(pk=access.pk).status == DepartmentAccess.Status.PENDING

    client.post(CONFIRM, {"password": PASSWORD})
    client.post(url, decision)

    assert DepartmentAccess.objects.get(pk=access.pk).status == DepartmentAccess.Status.GRANTED


def test_releasing_a_locked_account_asks_for_the_password_again(city, client):
    """S3.10"""
    for attempt in range(5):
        Client().post(reverse("login"), {"username": city.officer.email, "password": "wrong"})
    lock = AccountLock.objects.get(user=city.officer)
    client.force_login(city.itsa)
    _password_entered_long_ago(client)

    response = client.post(reverse("security:release", args=[lock.pk]))

    assert response.url.startswith(CONFIRM)
    assert AccountLock.objects.get(pk=lock.pk).is_open


def test_the_confirm_page_is_only_for_people_signed_in(db):
    response = Client().get(CONFIRM)

    assert response.status_code == 302 and response.url.startswith(reverse("login"))
