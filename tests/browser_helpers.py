"""Helpers for the browser tests: sign in through the page, scan it with axe-core."""

SERIOUS = {"serious", "critical"}


def sign_in(page, user, password):
    page.context.clear_cookies()
    page.goto("/accounts/login/")
    page.get_by_label("E-mail address").fill(user.email)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_load_state()


def assert_accessible(page, what: str = ""):
    """axe-core finds no serious or critical violation on the page as it is now."""
    from axe_playwright_python.sync_playwright import Axe

    results = Axe().run(page)
    bad = [v for v in results.response["violations"] if v.get("impact") in SERIOUS]
    details = "\n".join(
        f"{v['impact']}: {v['id']} — {v['help']} ({', '.join(n['target'][0] for n in v['nodes'][:3])})" for v in bad
    )
    assert not bad, f"axe-core on {what or page.url}:\n{details}"
