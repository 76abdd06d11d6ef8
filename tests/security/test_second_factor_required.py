"""Who must use a second factor: the roles that decide who may watch (S3.10)."""

import pytest
from django.contrib.auth.models import AnonymousUser

from accounts.models import User
from security.services import second_factor_required


@pytest.mark.parametrize("who", ["itsa", "itsa2", "designee", "head", "outsider"])
def test_itsa_designees_and_department_heads_must_use_a_second_factor(city, who):
    """S3.10: the same protection as every city system holding sensitive data."""
    assert second_factor_required(getattr(city, who)) is True


@pytest.mark.parametrize("who", ["requester", "officer", "analyst", "streets_worker"])
def test_requesters_and_officers_may_but_need_not_use_a_second_factor(city, who):
    assert second_factor_required(getattr(city, who)) is False


@pytest.mark.parametrize("flag", ["is_staff", "is_superuser"])
def test_admin_site_staff_and_superusers_must_use_a_second_factor(city, flag):
    """S3.10"""
    User.objects.filter(pk=city.officer.pk).update(**{flag: True})

    assert second_factor_required(User.objects.get(pk=city.officer.pk)) is True


def test_a_head_who_is_replaced_no_longer_needs_a_second_factor(city):
    from accounts.services import department_set_head

    department_set_head(department=city.police, head=city.requester, by=city.itsa)

    assert second_factor_required(User.objects.get(pk=city.head.pk)) is False
    assert second_factor_required(User.objects.get(pk=city.requester.pk)) is True


def test_an_anonymous_visitor_needs_no_second_factor():
    assert second_factor_required(AnonymousUser()) is False
