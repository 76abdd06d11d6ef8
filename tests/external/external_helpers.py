"""Asking for and deciding external system connections, with the police department's defaults."""

from datetime import timedelta

from django.utils import timezone

from external.services import external_connection_decide, external_connection_request


def ask(city, *, by=None, department=None, systems=None, uses=None, starts_on=None, ends_on=None, today=None,
        **fields):
    """The police head asks to connect the transit authority's cameras to the VMS for 90 days."""
    today = today or timezone.localdate()
    starts_on = starts_on or today
    values = {
        "name": "Transit station cameras", "owner": "Regional Transit Authority",
        "owner_contact": "security@transit.example", "business_reasons": "Detect crime at transit stations.",
        "method": "secure_api", "connection_detail": "REST over TLS with client certificates.",
    }
    values.update(fields)
    return external_connection_request(
        department=department or city.police, systems=systems if systems is not None else [city.vms],
        permissible_uses=uses if uses is not None else [city.crime_detection],
        starts_on=starts_on, ends_on=ends_on or starts_on + timedelta(days=90), by=by or city.head, today=today,
        **values,
    )


def approved(city, **kwargs):
    today = kwargs.get("today")
    return external_connection_decide(connection=ask(city, **kwargs), approve=True, reason="Tied to crime detection.",
                                      by=city.designee, today=today)
