"""Free text as the services take it: NUL bytes dropped, spaces trimmed, required and bounded."""

from .errors import RuleViolation

MAX_TEXT = 5000


def clean_text(value: str, *, field: str, label: str, required: bool = True, limit: int = MAX_TEXT) -> str:
    """The text, cleaned; a RuleViolation on `field` that names `label` when it is missing or too long."""
    value = (value or "").replace("\x00", "").strip()
    if required and not value:
        raise RuleViolation(f"Write the {label}.", field=field)
    if len(value) > limit:
        raise RuleViolation(f"The {label} is too long: keep it under {limit} characters.", field=field)
    return value
