"""`get_or_404_logged`: whatever a page passes it as an id, the answer is the object or a 404."""

import pytest
from conftest import provisioned
from django.http import Http404

from accounts.models import Grant
from accounts.selectors import get_or_404_logged
from portal.models import AuditEvent


@pytest.mark.parametrize("pk", ["abc", "", None, "1.5", "99999999999999999999999"])
def test_a_value_that_is_no_id_answers_404_without_a_server_error(city, pk):
    with pytest.raises(Http404):
        get_or_404_logged(Grant.objects.all(), user=city.head, pk=pk, what="grant")


def test_an_existing_object_out_of_sight_answers_404_and_the_attempt_is_recorded(city):
    """S3.10"""
    grant = provisioned(city).grant
    with pytest.raises(Http404):
        get_or_404_logged(Grant.objects.none(), user=city.outsider, pk=grant.pk, what="grant")
    assert AuditEvent.objects.filter(action="grant.view", outcome="denied", actor=city.outsider).exists()
