"""What the permission matrices share (tests/test_permission_matrix.py and tests/**/test_matrix_*.py).

Each matrix lists CASES: a URL name, the method, the URL's arguments and the posted data taken from
the module's world, and what each role gets:
  "ok"       the page, or the change is made;
  "404"      the object or page does not exist for them, and nothing changes;
  "login"    anonymous: sent to sign in, and nothing changes (the default for a role not listed);
  "refused"  they see the object but the service refuses the change: nothing in the database changes.
"""

from django.urls import reverse


def url_case(name, method, kwargs, expect, data=None):
    """One row of a matrix's CASES (see above)."""
    return {"name": name, "method": method, "kwargs": kwargs, "expect": expect, "data": data}


def check_cell(client, case, role, world, snapshot, *, post_changes_state=True):
    """Ask for the case's URL with the client (signed in as the role, or not) and check that the role
    gets exactly what the case says. `snapshot()` reads the state the matrix compares before and after.
    A permitted POST must change it, unless `post_changes_state` is False (a preview changes nothing)."""
    url = reverse(case["name"], kwargs=case["kwargs"](world))
    expected = case["expect"].get(role, "login")
    before = snapshot()
    if case["method"] == "get":
        response = client.get(url)
    else:
        response = client.post(url, case["data"](world) if case["data"] else {})
    after = snapshot()

    if expected == "login":
        assert response.status_code == 302 and reverse("login") in response["Location"]
        assert after == before
    elif expected == "404":
        assert response.status_code == 404
        assert after == before
    elif expected == "refused":
        assert response.status_code in (200, 302)
        assert after == before, "a refused change must leave the database as it was"
    else:
        assert expected == "ok", f"unknown expectation {expected!r}"
        assert response.status_code in (200, 302), response.status_code
        if case["method"] == "post" and post_changes_state:
            assert after != before, "the permitted change must take effect"
    return response
