from io import StringIO

from django.core.management import call_command

from accounts.models import Department, Grant, User
from accounts.sod import sod_violations
from audits.models import Validation
from access_requests.models import AccessRequest, DepartmentAccess, SupportingDocument


def test_the_demo_city_has_every_role_and_every_request_state_and_loads_twice_without_change(db, capsys):
    call_command("seed_demo")
    first = capsys.readouterr().out
    counts = (User.objects.count(), Department.objects.count(), AccessRequest.objects.count(), Grant.objects.count())
    call_command("seed_demo")
    second = capsys.readouterr().out
    assert counts == (User.objects.count(), Department.objects.count(), AccessRequest.objects.count(),
                      Grant.objects.count())
    assert "already loaded" in second
    for login in ("itsa@city.example", "designee@city.example", "police.head@city.example",
                  "police.requester@city.example"):
        assert login in first and login in second
    assert set(AccessRequest.objects.values_list("status", flat=True)) == set(AccessRequest.Status.values)
    assert set(DepartmentAccess.objects.values_list("status", flat=True)) >= {"pending", "granted", "denied"}
    assert set(Department.objects.values_list("kind", flat=True)) == {"department", "board", "commission"}
    assert sod_violations() == []
    assert Validation.objects.filter(department__code="police", status="open").count() == 1
    assert SupportingDocument.objects.filter(request__status=AccessRequest.Status.WITH_ITSA).count() == 1
    demo = User.objects.get(email="police.requester@city.example")
    assert demo.check_password("demo-city-2026")


def test_the_demo_accounts_that_need_a_second_factor_have_the_printed_authenticator(db):
    from base64 import b32decode

    from django_otp.plugins.otp_totp.models import TOTPDevice

    from pages.management.commands.seed_demo import DEMO_AUTHENTICATOR_KEY
    from security.services import second_factor_required

    out = StringIO()
    call_command("seed_demo", stdout=out)
    assert DEMO_AUTHENTICATOR_KEY in out.getvalue()
    needing = [p for p in User.objects.all() if second_factor_required(p)]
    assert needing, "the demo has heads, ITSA and a designee"
    for person in needing:
        device = TOTPDevice.objects.get(user=person, confirmed=True)
        assert device.bin_key == b32decode(DEMO_AUTHENTICATOR_KEY)
    officer = User.objects.get(email__startswith="officer.ramos@")
    assert not TOTPDevice.objects.filter(user=officer).exists()

    code = StringIO()
    call_command("seed_demo", "--code", stdout=code)
    device = TOTPDevice.objects.get(user=needing[0])
    assert device.verify_token(code.getvalue().strip())


def test_the_demo_city_has_an_example_of_each_workflow_of_sections_3_6_3_7_3_11_and_5(db):
    """S3.6a S3.7 S3.11 S5.1a S5.2 Def.T: the demo shows every workflow, decided by somebody other than
    the asker, and loading it twice adds none."""
    from external.models import ExternalConnection
    from agreements.models import SharingAgreement
    from agreements.selectors import agreement_of_grant
    from incidents.models import Incident
    from retention.models import RetentionExtension
    from waivers.models import Waiver

    call_command("seed_demo", stdout=StringIO())
    call_command("seed_demo", stdout=StringIO())

    connection = ExternalConnection.objects.get()
    assert connection.status == "approved" and connection.decided_by_id != connection.requested_by_id
    agreement = SharingAgreement.objects.get()
    assert agreement.is_in_force() and agreement.decided_by_id != agreement.requested_by_id
    [third_party_grant] = agreement.grants.all()
    assert third_party_grant.view_only and third_party_grant.person.is_third_party
    extension = RetentionExtension.objects.get()
    assert extension.status == "granted" and extension.decided_by.roles.is_safety_director
    waiver = Waiver.objects.get()
    assert waiver.is_in_force() and waiver.decided_by.roles.is_director
    assert waiver.decided_by_id != waiver.requested_by_id and waiver.grants.exists()
    incident = Incident.objects.get()
    assert incident.status == "open" and incident.suspended_grants.exists()
    temporary = Grant.objects.get(person__email="officer.diaz@city.example")
    assert temporary.ends_on is not None and agreement_of_grant(temporary) is None
    for login in ("safety.director@city.example", "operations.director@city.example"):
        assert User.objects.get(email=login).roles.is_director
