from conftest import provisioned
from django.core.management import call_command

from audits.models import Validation
from audits.services import open_due_validations


def test_the_command_opens_one_validation_per_due_department_and_a_second_run_opens_none(city, capsys):
    """S3.4e"""
    provisioned(city)
    call_command("open_due_validations")
    assert "1 validation opened" in capsys.readouterr().out
    validation = Validation.objects.get()
    assert validation.department == city.police and validation.items.count() == 1
    assert open_due_validations() == []
    assert Validation.objects.count() == 1
