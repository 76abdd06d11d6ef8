"""The indexes the city-sized benchmark asked for exist on PostgreSQL (bench/README.md, "Pages under load")."""

import pytest
from django.db import connection
from services import require_postgres

from access_requests.selectors import access_requests_matching, access_requests_visible_to

pytestmark = pytest.mark.django_db


def _index_definitions(table: str) -> dict[str, str]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT indexname, indexdef FROM pg_indexes WHERE tablename = %s", [table])
        return dict(cursor.fetchall())


@pytest.mark.parametrize(("table", "name", "column"), [
    ("accounts_user", "accounts_user_full_name_trgm", "full_name"),
    ("accounts_user", "accounts_user_email_trgm", "email"),
    ("access_requests_accessrequest", "access_request_reference_trgm", "reference"),
])
def test_the_searched_columns_have_a_trigram_index_on_the_expression_the_search_uses(table, name, column):
    require_postgres()
    definition = _index_definitions(table)[name]

    assert "gin" in definition and "gin_trgm_ops" in definition
    assert f"upper(({column})::text)" in definition


def test_the_queue_and_the_department_lists_have_indexes_in_their_order():
    require_postgres()
    definitions = _index_definitions("access_requests_accessrequest")

    assert "(status, approved_at, id)" in definitions["request_queue_order"]
    assert "(department_id, submitted_at DESC, id DESC)" in definitions["request_department_newest"]
    assert "(department_id, status, submitted_at DESC, id DESC)" in definitions["request_department_status"]


def test_a_departments_people_and_a_validations_items_have_indexes_in_their_order():
    """The dashboard's people (department, then name) and a validation's items table (validation, then
    the order the items were made) read their first rows from an index, not a sort of thousands."""
    require_postgres()

    assert "(department_id, full_name, email)" in _index_definitions("accounts_user")["person_department_by_name"]
    assert "(validation_id, id)" in _index_definitions("audits_validationitem")["validation_item_order"]


def test_a_search_matches_a_reference_a_name_an_e_mail_and_a_system_as_before(city):
    """S3.4d: the written requests stay findable by what the head knows of them."""
    from conftest import file_request

    request = file_request(city)
    visible = access_requests_visible_to(city.head)

    for text in (request.reference[-3:], city.officer.full_name.split()[0].upper(), city.officer.email[:5],
                 city.vms.name[:6].lower()):
        assert list(access_requests_matching(visible, text)) == [request], text
    assert not access_requests_matching(visible, "no such text").exists()
