"""Agreements for the tests of Section 3.7, made through the services with sensible defaults."""

from datetime import timedelta

from django.utils import timezone

from agreements.services import agreement_decide, agreement_request, third_party_access_add


def ask(city, *, by=None, department=None, third_party="County Sheriff's Office", category="law_enforcement",
        shared="View-only access to current and historical video.", conditions="Active criminal investigations.",
        excludes_biometric=True, systems=None, starts_on=None, ends_on=None, today=None):
    today_ = timezone.localdate()
    starts_on = starts_on or today_
    return agreement_request(
        department=department or city.police, third_party=third_party, category=category, shared=shared,
        conditions=conditions, excludes_biometric=excludes_biometric,
        systems=systems if systems is not None else [city.vms], starts_on=starts_on,
        ends_on=ends_on or starts_on + timedelta(days=90), by=by or city.head, today=today,
    )


def approve(city, agreement, *, by=None, mayor_approved_on=None):
    return agreement_decide(agreement=agreement, approve=True, reason="The Mayor signed it.",
                            mayor_approved_on=mayor_approved_on or timezone.localdate(), by=by or city.designee)


def approved(city, **kwargs):
    return approve(city, ask(city, **kwargs))


def add_person(city, agreement, *, email="deputy@sheriff.example", full_name="Dale Deputy", system=None,
               uses=None, account_name="sheriff-ddeputy", by=None, today=None):
    return third_party_access_add(
        agreement=agreement, full_name=full_name, email=email, system=system or city.vms,
        permissible_uses=uses if uses is not None else [city.crime_detection], account_name=account_name,
        by=by or city.itsa, today=today,
    )
