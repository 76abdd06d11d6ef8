"""The information sharing agreement pages (S3.7, T2): the register, asking, deciding, adding a
third party's person, ending, and the grant page of a third party's view-only access."""

from datetime import timedelta

import pytest
from agreement_setup import add_person, approved, ask
from django.urls import reverse
from django.utils import timezone

from accounts.models import Grant, User
from agreements.models import SharingAgreement


def _new_data(city, **overrides):
    today = timezone.localdate()
    return {"department": city.police.pk, "third_party": "County Sheriff's Office", "category": "law_enforcement",
            "shared": "Video.", "conditions": "Active investigations.", "excludes_biometric": "on",
            "systems": [city.vms.pk], "starts_on": today, "ends_on": today + timedelta(days=30), **overrides}


def test_the_register_lists_what_the_user_may_see_and_finds_by_third_party_status_and_category(client, city):
    """S3.7 T2"""
    sheriff = approved(city)
    campus = ask(city, third_party="Campus Police", category="security_organization")
    transit = ask(city, department=city.streets, by=city.outsider, third_party="Transit Police")
    client.force_login(city.head)

    page = client.get(reverse("agreements:list")).content.decode()
    assert "County Sheriff" in page and "Campus Police" in page and "Transit Police" not in page
    assert "Ask for an agreement" in page

    found = client.get(reverse("agreements:list"), {"q": "campus"}).content.decode()
    assert "Campus Police" in found and "County Sheriff" not in found
    approved_only = client.get(reverse("agreements:list"), {"status": "approved"}).content.decode()
    assert "County Sheriff" in approved_only and "Campus Police" not in approved_only
    by_category = client.get(reverse("agreements:list"), {"category": "security_organization"}).content.decode()
    assert "Campus Police" in by_category and "County Sheriff" not in by_category
    assert client.get(reverse("agreements:list"), {"status": "nonsense", "q": "\x00"}).status_code == 200
    assert sheriff.pk and campus.pk and transit.pk


def test_the_register_is_paginated(client, city, settings):
    """S3.7"""
    settings.PAGE_SIZE = 2
    for name in ("Alpha Police", "Beta Police", "Gamma Police"):
        ask(city, third_party=name)
    client.force_login(city.designee)

    first = client.get(reverse("agreements:list")).content.decode()
    second = client.get(reverse("agreements:list"), {"page": 2}).content.decode()
    assert "Page 1 of 2" in first and "Page 2 of 2" in second
    assert "Alpha Police" in second and "Alpha Police" not in first


def test_an_officer_sees_an_empty_register(client, city):
    """S3.7: deny by default."""
    approved(city)
    client.force_login(city.officer)

    page = client.get(reverse("agreements:list")).content.decode()
    assert "County Sheriff" not in page and "Ask for an agreement" not in page


def test_the_head_asks_for_an_agreement_on_the_page(client, city):
    """S3.7 T2"""
    client.force_login(city.head)
    form = client.get(reverse("agreements:new")).content.decode()
    assert "Table 2" in form and "Third parties associated with a civil case" in form

    response = client.post(reverse("agreements:new"), _new_data(city))
    agreement = SharingAgreement.objects.get()
    assert response.status_code == 302 and response["Location"] == agreement.get_absolute_url()
    assert agreement.requested_by == city.head and agreement.status == SharingAgreement.Status.PENDING


def test_a_civil_case_is_refused_on_the_page_with_the_reason(client, city):
    """T2: the page shows the service's refusal, and nothing is written."""
    client.force_login(city.head)
    response = client.post(reverse("agreements:new"), _new_data(city, category="civil_case"))

    assert response.status_code == 200
    assert "Table 2 shares nothing" in response.content.decode()
    assert not SharingAgreement.objects.exists()


def test_a_form_with_bad_dates_is_refused_on_the_page(client, city):
    """S3.7"""
    client.force_login(city.head)
    today = timezone.localdate()
    response = client.post(reverse("agreements:new"), _new_data(city, ends_on=today, starts_on=today))

    assert response.status_code == 200 and "must end after it starts" in response.content.decode()
    assert client.post(reverse("agreements:new"), _new_data(city, starts_on="not a date")).status_code == 200
    assert not SharingAgreement.objects.exists()


@pytest.mark.parametrize("who", ["requester", "itsa", "designee", "officer"])
def test_only_heads_open_the_new_agreement_page(client, city, who):
    """S3.7"""
    client.force_login(getattr(city, who))
    assert client.get(reverse("agreements:new")).status_code == 404


def test_the_detail_shows_the_table_2_row_the_grants_the_timeline_and_the_designees_form(client, city):
    """S3.7 T2"""
    agreement = ask(city, category="security_organization", third_party="Campus Police")
    client.force_login(city.designee)

    page = client.get(agreement.get_absolute_url()).content.decode()
    assert "Only with authorized third parties. Excludes biometric data." in page
    assert "Record the Mayor&#x27;s decision" in page or "Record the Mayor's decision" in page
    assert "Timeline" in page and "Asked for by Hana Head" in page
    assert "End the agreement now" not in page and "Add a person" not in page


def test_the_asker_sees_no_decision_form(client, city):
    """S3.7: the decider is never the asker."""
    agreement = ask(city)
    client.force_login(city.head)
    page = client.get(agreement.get_absolute_url()).content.decode()
    assert "Record the decision" not in page


def test_the_designee_approves_on_the_page(client, city):
    """S3.7"""
    agreement = ask(city)
    client.force_login(city.designee)
    today = timezone.localdate()

    missing = client.post(reverse("agreements:decide", args=[agreement.pk]),
                          {"decision": "approve", "reason": "Signed."})
    assert missing.status_code == 200 and "date of the Mayor" in missing.content.decode()
    agreement.refresh_from_db()
    assert agreement.status == SharingAgreement.Status.PENDING

    response = client.post(reverse("agreements:decide", args=[agreement.pk]),
                           {"decision": "approve", "reason": "Signed.", "mayor_approved_on": today})
    assert response.status_code == 302
    agreement.refresh_from_db()
    assert agreement.status == SharingAgreement.Status.APPROVED and agreement.mayor_approved_on == today

    again = client.post(reverse("agreements:decide", args=[agreement.pk]),
                        {"decision": "approve", "reason": "Signed.", "mayor_approved_on": today}, follow=True)
    assert "Nothing changed" in again.content.decode()


def test_itsa_adds_a_person_on_the_page_and_the_grant_page_says_view_only(client, city):
    """S2.3 S3.7"""
    agreement = approved(city)
    client.force_login(city.itsa)
    page = client.get(agreement.get_absolute_url()).content.decode()
    assert "Add a person of County Sheriff" in page

    bad = client.post(reverse("agreements:add_person", args=[agreement.pk]), {
        "full_name": "Dale Deputy", "email": "deputy@sheriff.example", "system": city.vms.pk,
        "permissible_uses": [city.traffic_monitoring.pk], "account_name": "dd"})
    assert bad.status_code == 200 and not agreement.grants.exists()

    response = client.post(reverse("agreements:add_person", args=[agreement.pk]), {
        "full_name": "Dale Deputy", "email": "deputy@sheriff.example", "system": city.vms.pk,
        "permissible_uses": [city.crime_detection.pk], "account_name": "dd"})
    assert response.status_code == 302
    grant = agreement.grants.get()
    assert grant.view_only and grant.person.organization == "County Sheriff's Office"

    grant_page = client.get(grant.get_absolute_url()).content.decode()
    assert "View only, under the information sharing agreement with County Sheriff" in grant_page
    assert agreement.get_absolute_url() in grant_page
    assert "Access ends at 00:00 on" in grant_page and agreement.ends_on.strftime("%B") in grant_page

    detail = client.get(agreement.get_absolute_url()).content.decode()
    assert "Dale Deputy" in detail and grant.get_absolute_url() in detail


def test_a_service_refusal_on_adding_a_person_is_shown(client, city):
    """S2.3: a city employee is not added under an agreement."""
    agreement = approved(city)
    client.force_login(city.itsa)
    response = client.post(reverse("agreements:add_person", args=[agreement.pk]), {
        "full_name": "Olive", "email": city.officer.email, "system": city.vms.pk,
        "permissible_uses": [city.crime_detection.pk], "account_name": "olive"})

    assert response.status_code == 200 and "city staff" in response.content.decode()
    assert not agreement.grants.exists()


def test_the_designee_ends_the_agreement_on_the_page(client, city):
    """S3.7"""
    agreement = approved(city)
    grant = add_person(city, agreement)
    client.force_login(city.designee)

    empty = client.post(reverse("agreements:end", args=[agreement.pk]), {"reason": ""})
    assert empty.status_code == 200
    response = client.post(reverse("agreements:end", args=[agreement.pk]), {"reason": "Task force dissolved."})
    assert response.status_code == 302
    agreement.refresh_from_db()
    grant.refresh_from_db()
    assert agreement.status == SharingAgreement.Status.ENDED and grant.status == Grant.Status.REMOVED
    page = client.get(agreement.get_absolute_url()).content.decode()
    assert "Task force dissolved." in page and "by Dana Designee" in page


def test_the_heads_page_shows_the_third_partys_grant_and_no_forms(client, city):
    """S3.7"""
    agreement = approved(city)
    add_person(city, agreement)
    client.force_login(city.head)
    page = client.get(agreement.get_absolute_url()).content.decode()
    assert "Dale Deputy" in page and "What you can do" not in page
    assert User.objects.filter(organization="County Sheriff's Office").count() == 1
