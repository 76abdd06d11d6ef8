"""Log records on one line each: JSON in production, readable text in development (settings.LOGGING).

Messages carry what people typed: a sign-in name, a full name, a path. The formatters write every
control character in them as an escape (a line break as \\n, ESC as \\x1b), so no value can forge a
record or send codes to the terminal that shows the log, whichever logger or call site wrote it.
"""

import json
import logging
import re
from datetime import datetime, timezone

# C0, DEL and C1, and the line and paragraph separators that some viewers break lines at.
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]")
_NAMED = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}


def escape(text: str) -> str:
    """`text` with each control character written as an escape."""
    return _CONTROL.sub(_escaped, text)


def _escaped(match: re.Match) -> str:
    code = ord(match[0])
    return _NAMED.get(match[0]) or (f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}")


def _tracebacks(record: logging.LogRecord, formatter: logging.Formatter) -> dict[str, list[str]]:
    """The record's traceback (`exc_info`) and stack (`stack_info`), if any, as escaped lines.
    Only the line breaks between the lines are kept: an exception's message is as untrusted as any."""
    texts = {}
    if record.exc_info:
        texts["exc_info"] = formatter.formatException(record.exc_info)
    if record.stack_info:
        texts["stack_info"] = formatter.formatStack(record.stack_info)
    return {key: [escape(line) for line in text.split("\n")] for key, text in texts.items()}


class TextFormatter(logging.Formatter):
    """`2026-12-06 03:22:40 ERROR django.request: message`, in local time, any traceback below it."""

    def __init__(self):
        super().__init__(datefmt="%Y-%m-%d %H:%M:%S")

    def format(self, record):
        message = escape(record.getMessage())
        first = f"{self.formatTime(record, self.datefmt)} {record.levelname} {escape(record.name)}: {message}"
        # Indented, no line of a traceback can pass for the start of another record.
        rest = [f"    {line}" for lines in _tracebacks(record, self).values() for line in lines]
        return "\n".join([first, *rest])


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time (ISO 8601, UTC), level, logger, message, process, and the
    traceback as one string (`exc_info`, and `stack_info` when asked for)."""

    def format(self, record):
        entry = {
            "time": datetime.fromtimestamp(record.created, timezone.utc).isoformat(timespec="milliseconds")
            .replace("+00:00", "Z"),
            "level": record.levelname,
            "logger": escape(record.name),
            "message": escape(record.getMessage()),
            "process": record.process,
        }
        entry.update({key: "\n".join(lines) for key, lines in _tracebacks(record, self).items()})
        # json.dumps writes the traceback's line breaks as \n; names stay readable (no ASCII escapes).
        return json.dumps(entry, ensure_ascii=False)
