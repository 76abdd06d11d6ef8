"""Helpers for the browser tests: sign in through the page, scan it with axe-core."""

SERIOUS = {"serious", "critical"}


def current_code(device) -> str:
    """The code an authenticator app would show for the device now."""
    from django_otp.oath import TOTP

    totp = TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift)
    return f"{totp.token():0{device.digits}d}"


def authenticator_for(user):
    """The person's authenticator (made for them if they have none), ready to accept this
    period's code again: each sign-in of a test may come within the same 30 seconds."""
    from django_otp.plugins.otp_totp.models import TOTPDevice

    device = TOTPDevice.objects.filter(user=user, confirmed=True).first() or TOTPDevice.objects.create(
        user=user, name="Authenticator app", confirmed=True)
    TOTPDevice.objects.filter(pk=device.pk).update(last_t=-1, throttling_failure_count=0,
                                                   throttling_failure_timestamp=None)
    device.refresh_from_db()
    return device


def sign_in(page, user, password):
    """Sign in through the pages: the password, then the code for the roles that need one."""
    from security.services import second_factor_required

    device = authenticator_for(user) if second_factor_required(user) else None
    page.context.clear_cookies()
    page.goto("/accounts/login/")
    page.get_by_label("E-mail address").fill(user.email)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_load_state()
    if device is not None:
        page.get_by_label("Code").fill(current_code(device))
        page.get_by_role("button", name="Continue").click()
        page.wait_for_load_state()


def serious_violations(page) -> list[str]:
    """axe-core's serious and critical violations on the page as it is now, one line each."""
    from axe_playwright_python.sync_playwright import Axe

    results = Axe().run(page)
    bad = [v for v in results.response["violations"] if v.get("impact") in SERIOUS]
    return [f"{v['impact']}: {v['id']} — {v['help']} ({', '.join(n['target'][0] for n in v['nodes'][:3])})"
            for v in bad]


def assert_accessible(page, what: str = ""):
    """axe-core finds no serious or critical violation on the page as it is now."""
    bad = serious_violations(page)
    assert not bad, f"axe-core on {what or page.url}:\n" + "\n".join(bad)


def watch_console(page) -> list[str]:
    """The page's console errors and warnings and its uncaught exceptions, as they come, each with
    the address of the page it happened on."""
    found = []
    page.on("console", lambda message: found.append(f"{page.url}: console {message.type}: {message.text}")
            if message.type in ("error", "warning") else None)
    page.on("pageerror", lambda error: found.append(f"{page.url}: uncaught {error}"))
    return found


def go_by_menu(page, menu: str, link: str):
    """Open one of the primary navigation's menus and follow one of its links."""
    page.get_by_role("navigation", name="Primary navigation").get_by_role("button", name=menu, exact=True).click()
    page.get_by_role("navigation", name="Primary navigation").get_by_role("link", name=link, exact=True).click()
