from conftest import file_request, provisioned

from accounts.models import Grant
from access_requests.models import AccessRequest


def test_a_request_filed_by_a_requester_waits_for_the_head_then_itsa_provisions_it(city):
    """S3.4c S3.5a S3.5b"""
    request = provisioned(city)
    assert request.status == AccessRequest.Status.COMPLETED
    grant = request.grant
    assert grant.status == Grant.Status.ACTIVE
    assert grant.person == city.officer and grant.role == "end_user"
    assert list(grant.permissible_uses.all()) == [city.crime_detection]
    assert request.approved_by == city.head and request.processed_by == city.itsa
    assert "Detection of crime" in request.written_text
