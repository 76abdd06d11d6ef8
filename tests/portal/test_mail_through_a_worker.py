"""Mail leaves through a real Celery worker on Redis, and only once the change has committed."""

import time

import pytest
from conftest import file_request
from django.core import mail


pytestmark = pytest.mark.django_db(transaction=True)




def _mail_about(reference: str, seconds: float = 15) -> list:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        found = [message for message in mail.outbox if reference in message.subject]
        if found:
            return found
        time.sleep(0.1)
    return []


def test_the_head_is_told_of_a_new_request_by_the_worker(worker_on_redis, city):
    """S3.4c: the head learns that a request waits for them."""
    request = file_request(city)
    found = _mail_about(request.reference)
    assert len(found) == 1
    message = found[0]
    assert message.to == [city.head.email]
    assert request.reference in message.subject
    assert request.get_absolute_url() in message.body
