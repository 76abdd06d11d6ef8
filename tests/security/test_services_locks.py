"""The lock rules on their own: one lock per account and address, one of the whole account when the
failures from every address add up, and which lock refuses a sign-in from where (S3.10)."""

from datetime import timedelta

from axes.models import AccessAttempt
from django.test import RequestFactory
from django.utils import timezone

from portal.models import AuditEvent
from security import services
from security.models import AccountLock

ATTACKER = "192.0.2.66"


def _from(address):
    return RequestFactory().post("/accounts/login/", REMOTE_ADDR=address)


def _failures(email, per_address, *, addresses, minutes_ago=0):
    """What axes records: one row per account, address and browser, with its count of failures."""
    for n in range(addresses):
        AccessAttempt.objects.create(username=email, ip_address=f"203.0.113.{n + 1}", user_agent="browser",
                                     failures_since_start=per_address, get_data="", post_data="")
    # attempt_time is set on creation: move it back afterwards.
    AccessAttempt.objects.update(attempt_time=timezone.now() - timedelta(minutes=minutes_ago))


def test_five_failures_from_one_address_lock_the_account_from_that_address_only(city):
    lock = services.account_lock(username=city.head.email, ip_address=ATTACKER)

    assert (lock.scope, lock.ip_address) == (AccountLock.Scope.ADDRESS, ATTACKER)
    assert services.open_lock(city.head, request=_from(ATTACKER)) == lock
    assert services.open_lock(city.head, request=_from("198.51.100.20")) is None


def test_one_attacker_locking_two_itsa_administrators_leaves_them_free_elsewhere(city):
    for admin in (city.itsa, city.itsa2):
        services.account_lock(username=admin.email, ip_address=ATTACKER)

    for admin in (city.itsa, city.itsa2):
        assert services.open_lock(admin, request=_from(ATTACKER)) is not None
        assert services.open_lock(admin, request=_from("198.51.100.20")) is None


def test_each_address_gets_one_lock_and_a_second_lockout_adds_nothing(city):
    first = services.account_lock(username=city.head.email, ip_address=ATTACKER)
    again = services.account_lock(username=city.head.email, ip_address=ATTACKER)
    other = services.account_lock(username=city.head.email, ip_address="198.51.100.20")

    assert again == first and other != first
    assert AccountLock.objects.filter(user=city.head).count() == 2
    assert AuditEvent.objects.filter(action="sign_in.lockout").count() == 2


def test_failures_from_every_address_below_the_limit_lock_nothing(city, settings):
    _failures(city.head.email, 4, addresses=settings.SIGN_IN_ACCOUNT_FAILURE_LIMIT // 4 - 1)
    AccessAttempt.objects.filter(pk=AccessAttempt.objects.first().pk).update(failures_since_start=7)

    assert services.account_failures_check(username=city.head.email, ip_address=ATTACKER) is None
    assert not AccountLock.objects.exists()


def test_failures_from_every_address_reaching_the_limit_lock_the_account_everywhere(city, settings):
    _failures(city.head.email, 4, addresses=settings.SIGN_IN_ACCOUNT_FAILURE_LIMIT // 4)

    lock = services.account_failures_check(username=city.head.email, ip_address=ATTACKER)

    assert (lock.scope, lock.ip_address) == (AccountLock.Scope.ACCOUNT, ATTACKER)
    assert services.open_lock(city.head, request=_from("198.51.100.20")) == lock
    # The whole account is locked already: the lockout of one more address adds nothing.
    assert services.account_lock(username=city.head.email, ip_address="198.51.100.20") == lock


def test_failures_older_than_the_cool_off_do_not_count(city, settings):
    minutes = settings.AXES_COOLOFF_TIME // timedelta(minutes=1) + 1
    _failures(city.head.email, 4, addresses=settings.SIGN_IN_ACCOUNT_FAILURE_LIMIT // 4, minutes_ago=minutes)

    assert services.account_failures_check(username=city.head.email, ip_address=ATTACKER) is None


def test_failures_for_an_unknown_account_lock_nobody_and_record_nothing_more(city, settings):
    _failures("nobody@city.example", 4, addresses=settings.SIGN_IN_ACCOUNT_FAILURE_LIMIT)

    assert services.account_failures_check(username="nobody@city.example", ip_address=ATTACKER) is None
    assert not AuditEvent.objects.filter(action="sign_in.lockout").exists()


def test_without_a_request_every_open_lock_refuses(city):
    lock = services.account_lock(username=city.head.email, ip_address=ATTACKER)

    assert services.open_lock(city.head, request=None) == lock
