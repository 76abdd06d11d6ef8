class RuleViolation(Exception):
    """A policy rule refused the change. The message tells the user what to do next."""

    def __init__(self, message: str, *, field: str | None = None):
        super().__init__(message)
        self.message = message
        self.field = field


class NotAllowed(RuleViolation):
    """The person may see the object but may not take this action on it."""
