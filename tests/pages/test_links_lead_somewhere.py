"""Every link a page shows leads somewhere its reader may go: signed in as each role, follow every
link of every page reachable from the dashboard, and none answers 403 or 404."""

import pytest
from conftest import signed_in_client
from crawl_support import ROLES, crawl
from crawl_support import build_world  # noqa: F401  (conftest.module_world builds the module's world with it)


@pytest.mark.parametrize("role", ROLES)
def test_no_link_answers_403_or_404_to_the_person_who_sees_it(role, world, db):
    """S3.10: a person is shown only what they may open."""
    client = signed_in_client()
    client.force_login(getattr(world.city, role))
    visits = crawl(client)
    broken = [f"{visit.url} ({visit.status}), linked from {visit.source}" for visit in visits
              if visit.status in (403, 404)]
    assert not broken, f"links that lead nowhere for the {role}:\n" + "\n".join(broken)
    assert len(visits) > 5
