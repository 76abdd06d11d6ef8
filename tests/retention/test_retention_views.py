"""The retention pages (S3.11, S3.12): the retention in force by system and the extensions, asking,
the Director of Public Safety's decision and early end. Refusals show their message; nothing half-written."""

from datetime import timedelta

import pytest
from conftest import messages_of
from django.urls import reverse
from django.utils import timezone

from accounts.models import SurveillanceSystem
from retention.models import RetentionExtension
from retention.selectors import BIOMETRIC_FLAG
from retention.services import retention_extension_decide, retention_extension_request

Status = RetentionExtension.Status


def _ask(city, by=None, systems=None, **changes):
    today = timezone.localdate()
    values = {"systems": systems or [city.vms], "condition": "a", "justification": "High rate of burglaries.",
              "starts_on": today, "ends_on": today + timedelta(days=120), "review_on": today + timedelta(days=60),
              "by": by or city.head}
    values.update(changes)
    return retention_extension_request(**values)


def _form(city, **changes):
    today = timezone.localdate()
    data = {"systems": [city.vms.pk], "area": "Fifth Ward", "condition": "c",
            "justification": "The same crew is suspected of the robberies.", "retention_days": "90",
            "starts_on": today.isoformat(), "ends_on": (today + timedelta(days=90)).isoformat(),
            "review_on": (today + timedelta(days=45)).isoformat()}
    data.update(changes)
    return data


@pytest.fixture
def face(db):
    return SurveillanceSystem.objects.create(name="Face Matching", code="face", kind="biometric",
                                             uses_biometrics=True)


# --- the list --------------------------------------------------------------------------------------

def test_the_list_shows_the_retention_in_force_by_system_with_the_biometric_flag(city, directors, client, face):
    """S3.11 S3.12"""
    extension = retention_extension_decide(extension=_ask(city, by=city.itsa, systems=[city.vms, face]),
                                           grant=True, reason="Met.", by=directors.safety)
    client.force_login(directors.operations)
    page = client.get(reverse("retention:list")).content.decode()
    table = page[page.index("retention-by-system"):page.index("extensions-heading")]
    assert table.count("<tr>") == 1 + 4  # the header and every system
    assert "Citywide VMS</th>\n        <td>90 days" in table
    assert "Plate Readers</th>\n        <td>30 days (the default)" in table
    assert extension.get_absolute_url() in table and "condition (a)" in table
    assert table.count(BIOMETRIC_FLAG) == 1


def test_a_head_sees_their_own_extensions_only_and_no_link_to_others(city, directors, client):
    """S3.11"""
    theirs = retention_extension_decide(extension=_ask(city, by=city.itsa), grant=True, reason="Met.",
                                        by=directors.safety)
    mine = _ask(city)
    client.force_login(city.head)
    page = client.get(reverse("retention:list")).content.decode()
    assert mine.get_absolute_url() in page
    assert theirs.get_absolute_url() not in page
    assert f"Extension {theirs.pk}:" in page  # the retention in force still shows, without a link
    assert reverse("retention:new") in page


def test_the_list_filters_by_status_and_is_paginated(city, directors, client, settings):
    """S3.11"""
    settings.PAGE_SIZE = 2
    granted = retention_extension_decide(extension=_ask(city), grant=True, reason="Met.", by=directors.safety)
    waiting = [_ask(city) for _ in range(3)]
    client.force_login(directors.safety)
    page = client.get(reverse("retention:list"), {"status": "granted"}).content.decode()
    assert granted.get_absolute_url() in page
    assert not any(extension.get_absolute_url() in page for extension in waiting)
    first = client.get(reverse("retention:list"), {"status": "requested"}).content.decode()
    second = client.get(reverse("retention:list"), {"status": "requested", "page": 2}).content.decode()
    assert "Page 1 of 2" in first and "status=requested&amp;page=2" in first
    assert sum(extension.get_absolute_url() in first for extension in waiting) == 2
    assert sum(extension.get_absolute_url() in second for extension in waiting) == 1
    assert client.get(reverse("retention:list"), {"status": "nonsense", "page": "x"}).status_code == 200


@pytest.mark.parametrize("who", ["officer", "requester", "streets_worker"])
def test_the_list_does_not_exist_for_people_without_a_part_in_retention(city, client, who):
    """S3.11"""
    client.force_login(getattr(city, who))
    assert client.get(reverse("retention:list")).status_code == 404


# --- asking ----------------------------------------------------------------------------------------

def test_a_head_asks_through_the_form(city, directors, client):
    """S3.11"""
    client.force_login(city.head)
    page = client.get(reverse("retention:new")).content.decode()
    assert "Citywide VMS" in page and "Plate Readers" not in page  # only the systems the police use
    response = client.post(reverse("retention:new"), _form(city))
    extension = RetentionExtension.objects.get()
    assert response.status_code == 302 and response["Location"] == extension.get_absolute_url()
    assert extension.condition == "c" and extension.area == "Fifth Ward" and extension.requested_by == city.head
    assert list(extension.systems.all()) == [city.vms]


@pytest.mark.parametrize(("changes", "message"), [
    ({"retention_days": "91"}, "at most 90"),
    ({"retention_days": "30"}, "longer than 30"),
    ({"condition": ""}, "This field is required"),
    ({"justification": "   "}, "This field is required"),
    ({"justification": "a\x00b"}, "Null characters are not allowed"),
    ({"systems": []}, "This field is required"),
    ({"review_on": "2001-01-01"}, "review date must fall"),
    ({"starts_on": "2001-01-01", "review_on": "2001-01-02"}, "cannot start in the past"),
    ({"ends_on": "9999-12-31"}, "at most 365 days"),
    ({"starts_on": "not a date"}, "Enter a valid date"),
])
def test_a_refused_request_shows_why_and_writes_nothing(city, client, changes, message):
    """S3.11"""
    client.force_login(city.head)
    response = client.post(reverse("retention:new"), _form(city, **changes))
    assert response.status_code == 200
    assert message in response.content.decode()
    assert "The request for a retention extension was not sent" in response.content.decode()
    assert not RetentionExtension.objects.exists()


def test_a_head_cannot_name_a_system_the_department_does_not_use(city, client):
    """S3.11"""
    client.force_login(city.outsider)
    response = client.post(reverse("retention:new"), _form(city))
    assert response.status_code == 200 and "Select a valid choice" in response.content.decode()
    assert not RetentionExtension.objects.exists()


def test_the_form_page_says_biometric_data_is_not_covered(city, client, face):
    """S3.12"""
    client.force_login(city.itsa)
    page = client.get(reverse("retention:new")).content.decode()
    assert "Face Matching (uses biometrics)" in page and BIOMETRIC_FLAG in page


@pytest.mark.parametrize("who", ["officer", "requester", "designee"])
def test_the_form_does_not_exist_for_people_who_do_not_ask(city, client, who):
    """S3.11"""
    client.force_login(getattr(city, who))
    assert client.get(reverse("retention:new")).status_code == 404
    assert client.post(reverse("retention:new"), _form(city)).status_code == 404
    assert not RetentionExtension.objects.exists()


# --- the extension's page --------------------------------------------------------------------------

def test_the_page_shows_the_condition_the_biometric_note_and_the_timeline(city, directors, client, face):
    """S3.11 S3.12"""
    extension = _ask(city, by=city.itsa, systems=[city.vms, face], condition="b")
    client.force_login(directors.safety)
    page = client.get(extension.get_absolute_url()).content.decode()
    assert "(b) The same crimes continuously occur in the area" in page
    assert "the same crime/s continuously occur" in page
    assert "This extension does not cover the biometric data of Face Matching" in page
    assert "Face Matching</th>\n        <td><strong>Not covered.</strong>" in page
    assert 'id="timeline-heading"' in page and "Asked for" in page
    assert reverse("retention:decide", args=[extension.pk]) in page
    assert reverse("retention:end", args=[extension.pk]) not in page


@pytest.mark.parametrize("who", ["operations", "designee", "itsa"])
def test_people_who_see_but_do_not_decide_get_no_form(city, directors, client, who):
    """S3.11"""
    extension = _ask(city)
    client.force_login(getattr(directors, who, None) or getattr(city, who))
    page = client.get(extension.get_absolute_url()).content.decode()
    assert reverse("retention:decide", args=[extension.pk]) not in page
    assert "does not cover the biometric data" not in page


def test_the_director_grants_then_ends_through_the_pages(city, directors, client):
    """S3.11"""
    extension = _ask(city)
    client.force_login(directors.safety)
    response = client.post(reverse("retention:decide", args=[extension.pk]),
                           {"decision": "grant", "reason": "Burglaries doubled."})
    assert response.status_code == 302
    assert ("success", "The retention extension is granted.") in messages_of(response)
    extension.refresh_from_db()
    assert extension.status == Status.GRANTED and extension.decided_by == directors.safety

    page = client.get(extension.get_absolute_url()).content.decode()
    assert reverse("retention:end", args=[extension.pk]) in page
    assert "Decided by</dt><dd>Sasha Safety" in page
    response = client.post(reverse("retention:end", args=[extension.pk]), {"reason": "Burglaries stopped."})
    assert any("back to 30 days" in text for _, text in messages_of(response))
    extension.refresh_from_db()
    assert extension.status == Status.EXPIRED and extension.ended_at is not None
    response = client.post(reverse("retention:end", args=[extension.pk]), {"reason": "Again."})
    assert any(level == "info" and "Nothing changed" in text for level, text in messages_of(response))


def test_the_city_operations_director_is_refused_with_the_message(city, directors, client):
    """S3.11: only the Director of Public Safety decides."""
    extension = _ask(city)
    client.force_login(directors.operations)
    response = client.post(reverse("retention:decide", args=[extension.pk]),
                           {"decision": "grant", "reason": "Yes."})
    assert response.status_code == 302
    assert ("error", "Only the Director of Public Safety can grant or deny a retention extension "
                     "(Section 3.11).") in messages_of(response)
    assert RetentionExtension.objects.get().status == Status.REQUESTED


def test_a_decision_without_a_reason_changes_nothing(city, directors, client):
    """S3.11"""
    extension = _ask(city)
    client.force_login(directors.safety)
    response = client.post(reverse("retention:decide", args=[extension.pk]), {"decision": "grant", "reason": ""})
    assert response.status_code == 302 and messages_of(response)[0][0] == "error"
    response = client.post(reverse("retention:end", args=[extension.pk]), {"reason": ""})
    assert response.status_code == 302 and messages_of(response)[0][0] == "error"
    assert RetentionExtension.objects.get().status == Status.REQUESTED


def test_the_decision_asks_for_the_password_again_when_it_is_old(city, directors, client):
    """S3.11: the decision is one that matters."""
    extension = _ask(city)
    client.force_login(directors.safety)
    session = client.session
    session["security.password_at"] = 0
    session.save()
    response = client.post(reverse("retention:decide", args=[extension.pk]), {"decision": "grant", "reason": "Ok."})
    assert response.status_code == 302 and reverse("security:confirm_password") in response["Location"]
    assert RetentionExtension.objects.get().status == Status.REQUESTED


def test_state_changes_are_post_only(city, directors, client):
    """S3.11"""
    extension = _ask(city)
    client.force_login(directors.safety)
    for name in ("retention:decide", "retention:end"):
        assert client.get(reverse(name, args=[extension.pk])).status_code == 405
