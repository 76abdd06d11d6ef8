"""How the lockout names an account: the e-mail as typed, trimmed and lower-cased, so that
"Head@City.example" and "head@city.example" count as the same account; and which failures it does
not count."""


def username(request, credentials) -> str | None:
    """None when no e-mail was given (a city-account sign-in): such failures are not counted
    against one shared empty name."""
    value = (credentials or {}).get("username") or (request.POST.get("username") if request is not None else "")
    return str(value or "").strip().lower()[:254] or None


def uncounted(request, credentials) -> bool:
    """Axes counts no failure without an e-mail (a refused city-account sign-in): counted by address
    alone, they would lock everyone at that address out of the city account."""
    return username(request, credentials) is None
