"""Waivers for the same deviation count together (S5.1c): a deviation longer than 30 days needs the
Mayor's approval however it is split into waivers. A waiver chains with every other waiver of the
same department, intended use, permissible use and (where both name grants) a grant in common, whose
days overlap or touch its own, transitively."""

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from conftest import messages_of, provisioned, signed_in_client
from django.conf import settings
from django.urls import reverse
from django.utils import timezone

from portal.models import AuditEvent, IntendedUse, OutgoingEmail, PolicyChange
from waivers import services as waiver_services
from waivers.models import Waiver

Status = Waiver.Status
DAY = date(2031, 3, 1)


def _ask(city, grant, *, starts_on, days=30, today=None, grants=None, permissible_use=None, intended_use=None,
         deviation="Live monitoring beyond the investigation's streets.", by=None):
    return waiver_services.waiver_request(
        department=city.police, intended_use=intended_use or IntendedUse.objects.get(code="public-safety"),
        permissible_use=permissible_use, deviation=deviation, basis="safety", justification="A credible threat.",
        grants=[grant] if grants is None else grants, starts_on=starts_on, days=days, by=by or city.head,
        today=today or DAY,
    )


def _decide(waiver, directors, *, grant=True, today=None):
    return waiver_services.waiver_decide(waiver=waiver, grant=grant, reason="Needed.", by=directors.safety,
                                         today=today or DAY)


def _granted(city, directors, grant, *, today=None, **kwargs):
    waiver = _decide(_ask(city, grant, today=today, **kwargs), directors, today=today)
    assert waiver.status == Status.GRANTED and not waiver.substantive_change
    return waiver


def _at(monkeypatch, day: date, hour=10):
    moment = datetime(day.year, day.month, day.day, hour, tzinfo=ZoneInfo(settings.TIME_ZONE))
    monkeypatch.setattr(timezone, "now", lambda: moment)


def _mail_to(subject_start):
    return [sorted(m.to) for m in OutgoingEmail.objects.order_by("pk") if m.subject.startswith(subject_start)]


# --- The way around the rule ----------------------------------------------------------------------

def test_three_back_to_back_30_day_waivers_the_second_already_needs_the_mayor(city, directors, grant):
    """S5.1c: before, each 30-day waiver was judged alone and granted by a director: 90 days of one
    deviation without the Mayor. Now the second one, which makes 60, waits for the Mayor."""
    first = _granted(city, directors, grant, starts_on=DAY)
    second = _decide(_ask(city, grant, starts_on=DAY + timedelta(days=30), deviation="The same, reworded."),
                     directors)
    assert second.days == 30
    assert second.status == Status.AWAITING_MAYOR and second.substantive_change
    assert not second.is_in_force(DAY + timedelta(days=30))

    third = _decide(_ask(city, grant, starts_on=DAY + timedelta(days=60)), directors)
    assert third.status == Status.AWAITING_MAYOR and third.substantive_change
    chain = waiver_services.waiver_chain(third)
    assert [link.waiver for link in chain.others] == [first, second]
    assert (chain.starts_on, chain.ends_on, chain.days) == (DAY, DAY + timedelta(days=90), 90)
    assert chain.sentence == (
        f"Together with waivers {first.pk} (1–30 March 2031, granted) and {second.pk} (31 March – 29 April 2031, "
        "awaiting the Mayor's approval) this makes 90 days for the same deviation: it needs the Mayor's approval "
        "(Section 5.1). It is a substantive change to the policy."
    )
    first.refresh_from_db()
    assert first.status == Status.GRANTED  # a grant already given is not judged again


def test_a_pending_neighbour_counts_so_either_half_goes_to_the_mayor(city, directors, grant):
    """S5.1c: a waiver still awaiting a director counts: asking for both halves first and then
    granting them one by one does not get around the Mayor either."""
    first = _ask(city, grant, starts_on=DAY)
    _ask(city, grant, starts_on=DAY + timedelta(days=30))
    assert _decide(first, directors).status == Status.AWAITING_MAYOR


# --- What chains --------------------------------------------------------------------------------

def test_overlapping_waivers_count_from_the_earliest_start_to_the_latest_end(city, directors, grant):
    """S5.1c: 20 days, then 25 days starting on the 11th: together 35 days."""
    first = _granted(city, directors, grant, starts_on=DAY, days=20)
    second = _ask(city, grant, starts_on=DAY + timedelta(days=10), days=25)
    chain = waiver_services.waiver_chain(second)
    assert chain.days == 35 and [link.waiver for link in chain.others] == [first]
    assert chain.sentence == (f"Together with waiver {first.pk} (1–20 March 2031, granted) this makes 35 days for "
                              "the same deviation: it needs the Mayor's approval (Section 5.1).")
    assert _decide(second, directors).status == Status.AWAITING_MAYOR


def test_a_chain_of_30_days_or_fewer_is_still_a_directors_alone(city, directors, grant):
    """S5.1a S5.1c: 15 days and 15 days back to back make 30: no Mayor."""
    first = _granted(city, directors, grant, starts_on=DAY, days=15)
    second = _granted(city, directors, grant, starts_on=DAY + timedelta(days=15), days=15)
    assert waiver_services.waiver_chain_sentence(second) == (
        f"Together with waiver {first.pk} (1–15 March 2031, granted) this makes 30 days for the same deviation, "
        "within the 30 days a director may grant alone (Section 5.1).")


def test_a_gap_of_a_day_breaks_the_chain(city, directors, grant):
    """S5.1c: the first ends at 00:00 on the 31st; the second starts on the 1st of April."""
    _granted(city, directors, grant, starts_on=DAY)
    second = _granted(city, directors, grant, starts_on=DAY + timedelta(days=31))
    assert waiver_services.waiver_chain(second).others == ()
    assert waiver_services.waiver_chain_sentence(second) == ""


def test_a_waiver_in_the_middle_joins_the_two_on_either_side(city, directors, grant):
    """S5.1c: the chain is transitive: a waiver filling the gap links both neighbours."""
    first = _granted(city, directors, grant, starts_on=DAY, days=10)
    last = _granted(city, directors, grant, starts_on=DAY + timedelta(days=20), days=10)
    middle = _decide(_ask(city, grant, starts_on=DAY + timedelta(days=10), days=10), directors)
    assert middle.status == Status.GRANTED  # exactly 30
    later = _ask(city, grant, starts_on=DAY + timedelta(days=30), days=1)
    chain = waiver_services.waiver_chain(later)
    assert [link.waiver for link in chain.others] == [first, middle, last] and chain.days == 31
    assert _decide(later, directors).status == Status.AWAITING_MAYOR


def test_another_use_or_no_grant_in_common_is_another_deviation(city, directors, grant):
    """S5.1c: another permissible use, another intended use, or no grant in common: no chain."""
    analyst_grant = provisioned(city, person=city.analyst).grant
    _granted(city, directors, grant, starts_on=DAY)
    after = DAY + timedelta(days=30)
    _granted(city, directors, grant, starts_on=after, permissible_use=city.crime_detection)
    _granted(city, directors, grant, starts_on=after, intended_use=city.traffic_monitoring.intended_use)
    _granted(city, directors, analyst_grant, starts_on=after)


def test_a_grant_in_common_is_enough_and_the_same_permissible_use_chains(city, directors, grant):
    """S5.1c: the officer's waiver, then one for the officer and the analyst, then the analyst's:
    each shares a grant with the one before, so the three chain."""
    analyst_grant = provisioned(city, person=city.analyst).grant
    use = city.crime_detection
    _granted(city, directors, grant, starts_on=DAY, days=10, permissible_use=use)
    _granted(city, directors, grant, starts_on=DAY + timedelta(days=10), days=10, permissible_use=use,
             grants=[grant, analyst_grant])
    third = _decide(_ask(city, analyst_grant, starts_on=DAY + timedelta(days=20), days=11, permissible_use=use),
                    directors)
    assert third.status == Status.AWAITING_MAYOR
    assert waiver_services.waiver_chain(third).days == 31


# --- Which waivers count ------------------------------------------------------------------------

def test_a_denied_waiver_does_not_count(city, directors, grant):
    """S5.1c: denied by a director, or refused by the Mayor: the deviation never ran."""
    _decide(_ask(city, grant, starts_on=DAY), directors, grant=False)
    refused = _decide(_ask(city, grant, starts_on=DAY, days=40, deviation="Longer."), directors)
    refused = waiver_services.waiver_record_mayor_decision(
        waiver=refused, approved=False, decided_on=timezone.localdate(), note="Too long.", by=city.designee)
    later = _granted(city, directors, grant, starts_on=DAY + timedelta(days=30))
    assert waiver_services.waiver_chain(later).others == ()
    # A denied waiver has no chain of its own either.
    assert waiver_services.waiver_chain(refused) is None


@pytest.mark.parametrize(("days", "status"), [(20, Status.GRANTED), (21, Status.AWAITING_MAYOR)])
def test_a_revoked_waiver_counts_for_the_days_it_ran(city, directors, grant, monkeypatch, days, status):
    """S5.1c: a 30-day waiver revoked on its 10th day ran 10 days (the day of revoking included, it
    was in force part of it); a waiver from the 11th on adds to those 10, not to 30."""
    first = _granted(city, directors, grant, starts_on=DAY)
    _at(monkeypatch, DAY + timedelta(days=9))
    first = waiver_services.waiver_revoke(waiver=first, reason="The threat has passed.", by=directors.operations)
    today = DAY + timedelta(days=9)
    second = _decide(_ask(city, grant, starts_on=DAY + timedelta(days=10), days=days, today=today), directors,
                     today=today)
    assert second.status == status
    chain = waiver_services.waiver_chain(second)
    assert chain.days == 10 + days
    assert f"waiver {first.pk} (1–10 March 2031, revoked)" in chain.summary


def test_a_waiver_revoked_before_its_first_day_does_not_count(city, directors, grant, monkeypatch):
    """S5.1c"""
    first = _granted(city, directors, grant, starts_on=DAY + timedelta(days=5))
    _at(monkeypatch, DAY + timedelta(days=2))
    first = waiver_services.waiver_revoke(waiver=first, reason="Not needed after all.", by=directors.operations)
    assert waiver_services.waiver_counted_days(first) is None
    later = _ask(city, grant, starts_on=DAY + timedelta(days=35), today=DAY + timedelta(days=2))
    assert waiver_services.waiver_chain(later).others == ()


def test_an_ended_waiver_counts_if_it_was_in_force_not_if_it_ran_out_undecided(city, directors, grant):
    """S5.1c: a waiver that ran its 30 days and ended counts; one that ran out waiting for a
    director never ran, and does not."""
    ran = _granted(city, directors, grant, starts_on=DAY)
    undecided = _ask(city, grant, starts_on=DAY, deviation="Never decided.", grants=[
        provisioned(city, person=city.analyst).grant])
    end = DAY + timedelta(days=30)
    assert waiver_services.waivers_daily(today=end) == 2
    ran.refresh_from_db()
    undecided.refresh_from_db()
    assert ran.status == undecided.status == Status.EXPIRED
    assert waiver_services.waiver_counted_days(ran).ends_on == end
    assert waiver_services.waiver_counted_days(undecided) is None
    after = _ask(city, grant, starts_on=end, days=1, today=end,
                 grants=list(ran.grants.all()) + list(undecided.grants.all()))
    assert [link.waiver for link in waiver_services.waiver_chain(after).others] == [ran]
    assert _decide(after, directors, today=end).status == Status.AWAITING_MAYOR


# --- The Mayor, the mails and the policy ----------------------------------------------------------

def test_the_directors_grant_of_a_chained_waiver_goes_to_the_mayor_as_a_substantive_change(city, directors, grant):
    """S5.1c S5.1b: the same status, flag, mails and policy change as a single long waiver."""
    first = _granted(city, directors, grant, starts_on=DAY)
    OutgoingEmail.objects.all().delete()
    second = _decide(_ask(city, grant, starts_on=DAY + timedelta(days=30)), directors)
    assert second.status == Status.AWAITING_MAYOR and second.substantive_change
    assert second.decided_by == directors.safety
    assert _mail_to("Waiver awaiting the Mayor") == [[city.designee.email]]
    [to_designee] = [m for m in OutgoingEmail.objects.all() if m.subject.startswith("Waiver awaiting the Mayor")]
    assert f"Together with waiver {first.pk} (1–30 March 2031, granted) this makes 60 days" in to_designee.body
    assert "Longer than 30 days" not in to_designee.body
    event = AuditEvent.objects.get(action="waiver.awaiting_mayor")
    assert event.detail.startswith(f"Together with waiver {first.pk} (1–30 March 2031, granted) this makes 60 days")
    assert waiver_services.may_record_mayor_decision(waiver=second, user=city.designee)

    second = waiver_services.waiver_record_mayor_approval(waiver=second, approved_on=timezone.localdate(),
                                                          by=city.designee)
    assert second.status == Status.GRANTED and second.substantive_change
    change = PolicyChange.objects.get()
    assert change.section == "5.1" and change.substantive
    assert f"Waiver {second.pk} " in change.description
    assert f"Together with waiver {first.pk} (1–30 March 2031, granted) this makes 60 days" in change.description


# --- The pages ----------------------------------------------------------------------------------

def _post_data(city, grant, *, starts_on, days):
    return {
        "department": city.police.pk, "intended_use": IntendedUse.objects.get(code="public-safety").pk,
        "permissible_use": "", "deviation": "Wider coverage.", "basis": "safety", "justification": "A crowd.",
        "grants": [grant.pk], "starts_on": starts_on.isoformat(), "days": str(days),
    }


def test_the_request_and_the_waiver_page_say_it_chains_and_needs_the_mayor(client, city, directors, grant):
    """S5.1c: asking for the next 30 days after a granted 30-day waiver says, on the page the head
    lands on, that together they make 60 days and need the Mayor."""
    today = timezone.localdate()
    first = _granted(city, directors, grant, starts_on=today, today=today)
    client.force_login(city.head)
    assert "count together" in client.get(reverse("waivers:new")).content.decode()
    response = client.post(reverse("waivers:new"), _post_data(city, grant, starts_on=today + timedelta(days=30),
                                                               days=30))
    second = Waiver.objects.exclude(pk=first.pk).get()
    sentence = waiver_services.waiver_chain_sentence(second)
    assert sentence.startswith(f"Together with waiver {first.pk} (") and "this makes 60 days" in sentence
    assert sentence.endswith("it needs the Mayor's approval (Section 5.1).")
    assert messages_of(response, levels=False)[-1] == (
        f"Waiver {second.pk} is asked for. The directors have been told. {sentence}")

    # The waiver's page says it too, not only the message after asking (a reader with no message).
    reader = signed_in_client()
    reader.force_login(directors.operations)
    body = reader.get(second.get_absolute_url()).content.decode()
    assert sentence.replace("'", "&#x27;") in body

    client.force_login(directors.operations)
    response = client.post(reverse("waivers:decide", args=[second.pk]), {"decision": "grant", "reason": "Works."})
    assert messages_of(response, levels=False)[-1] == (
        f"You approved the waiver; it now waits for the Mayor's approval. {sentence} "
        "It is a substantive change to the policy.")
    second.refresh_from_db()
    assert second.status == Status.AWAITING_MAYOR and second.substantive_change
    body = reader.get(second.get_absolute_url()).content.decode()
    assert "It is a substantive change to the policy." in body and "this makes 60 days" in body
    # The first waiver's page names the second too.
    body = reader.get(first.get_absolute_url()).content.decode()
    assert f"Together with waiver {second.pk} (" in body and "more than the 30 days a director may grant" in body
