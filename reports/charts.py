"""Bar and column charts for the reports, drawn on the server as inline SVG.

The same markup goes into the HTML page and, through WeasyPrint, into the PDF, so there is no
JavaScript and no CSS: sizes and colours are presentation attributes, because the pages run
under a CSP without 'unsafe-inline'. Every piece of text is escaped and the characters XML 1.0
forbids are dropped, so a label typed by someone can never close the <svg> or add to it.

A value of None is a count hidden from the public (fewer than 5 people): it draws no bar and
says so in words. Screen readers get the figures from <desc>, since role="img" hides the drawing.
"""

import hashlib
import math
import re

from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

NO_DATA = "No data for this period."
MIN_WIDTH = 240
MIN_HEIGHT = 200

BAR = "#005ea2"  # USWDS primary
INK = "#1b1b1b"  # USWDS ink: 16:1 on white
MUTED = "#565c65"  # USWDS base-dark: 7:1 on white, for the suppressed label
AXIS = "#71767a"  # USWDS base: 4.8:1, above the 3:1 that graphics need
FONT = "Source Sans Pro, Helvetica, Arial, sans-serif"
# Average glyph width as a share of the font size, on the generous side so that
# shortened text still fits its space.
GLYPH = 0.6
MARGIN = 8

_NOT_XML = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")

Rows = list[tuple[str, int | float | None]]


def bar_chart(*, title: str, rows: Rows, unit: str = "", description: str = "",
              suppressed_label: str = "fewer than 5", width: int = 640, titled: bool = True,
              part_height: int | None = None) -> SafeString:
    """Horizontal bars, one per row: label, bar, value. The chart grows taller with the rows, and a
    row with a long label grows taller too: a label is wrapped over as many lines as it needs, never cut.

    `titled=False` draws no title (the <title> still names the chart for a screen reader): for a chart
    placed under a heading that already says what it shows. With `part_height`, a chart taller than
    that is drawn as several <svg>, each at most that tall and all on one scale, so that a printed
    page can break between them: a picture taller than a page cannot be split."""
    _check_size(width, MIN_HEIGHT)
    title, unit, suppressed_label = _clean(title), _clean(unit), _clean(suppressed_label)
    rows = [(_clean(label), value) for label, value in rows]
    bar_height, size, leading = 16, 13, 15
    top = 36 if titled else 6

    if not rows:
        parts = [_title_text(title, width)] if titled else []
        parts.append(_text(NO_DATA, x=MARGIN, y=top + 17, size=size))
        return _svg("bar", title, description, rows, unit, suppressed_label, width, top + 36, parts)

    shown = [_shown(value, unit, suppressed_label) for _, value in rows]
    label_width = round(width * 0.42)
    label_chars = _chars(label_width - MARGIN, size)
    value_space = min(max(len(s) for s in shown) * size * GLYPH + 12, width * 0.3)
    value_chars = _chars(value_space - 12, size)
    x0 = label_width + MARGIN
    lengths = _lengths([value for _, value in rows], width - x0 - value_space - MARGIN)
    labels = [_wrap(label, label_chars, lines=None) or [""] for label, _ in rows]
    heights = [max(26, len(lines) * leading + 10) for lines in labels]

    groups: list[list[int]] = [[]]
    room = top
    for i, row_height in enumerate(heights):
        if part_height and groups[-1] and room + row_height + 10 > part_height:
            groups.append([])
            room = 0
        groups[-1].append(i)
        room += row_height

    svgs = []
    for number, group in enumerate(groups):
        # The parts join up: only the first has room above and only the last below.
        y = top if number == 0 else 0
        parts = [_title_text(title, width)] if titled and number == 0 else []
        parts.append(_line(x0, y, x0, y + sum(heights[i] for i in group)))
        for i in group:
            lines, length, row_height = labels[i], lengths[i], heights[i]
            middle = y + row_height / 2
            first = middle - leading * (len(lines) - 1) / 2 + size * 0.35
            for j, line in enumerate(lines):
                parts.append(_text(line, x=label_width, y=first + leading * j, size=size, anchor="end"))
            if length:
                parts.append(f'<rect class="bar" x="{_n(x0)}" y="{_n(middle - bar_height / 2)}" '
                             f'width="{_n(length)}" height="{bar_height}" fill="{BAR}"/>')
            parts.append(_text(_fit(shown[i], value_chars), x=x0 + length + 6, y=middle + size * 0.35, size=size,
                               suppressed=rows[i][1] is None))
            y += row_height
        svgs.append(_svg("bar", title if number == 0 else f"{title} (continued)",
                         description if number == 0 else "", [rows[i] for i in group], unit, suppressed_label,
                         width, y + (10 if number == len(groups) - 1 else 0), parts, stacked=len(groups) > 1))
    return mark_safe("".join(svgs))


def column_chart(*, title: str, rows: Rows, unit: str = "", description: str = "",
                 suppressed_label: str = "fewer than 5", width: int = 640, height: int = 320) -> SafeString:
    """Vertical columns side by side, for a few periods (say twelve months); labels under them.

    The unit is written once under the title, since the columns are too narrow to repeat it.
    """
    _check_size(width, height)
    title, unit, suppressed_label = _clean(title), _clean(unit), _clean(suppressed_label)
    rows = [(_clean(label), value) for label, value in rows]
    size, leading = 12, 14
    parts = [_title_text(title, width)]
    header = 32
    if unit:
        parts.append(_text(_fit(unit, _chars(width - 2 * MARGIN, size)), x=MARGIN, y=42, size=size))
        header = 48

    if not rows:
        parts.append(_text(NO_DATA, x=MARGIN, y=header + 20, size=13))
    else:
        plot_top = header + 2 * leading + 4
        baseline = height - 2 * leading - 10
        slot = (width - 2 * MARGIN) / len(rows)
        chars = _chars(slot - 2, size)
        lengths = _lengths([value for _, value in rows], baseline - plot_top)
        parts.append(_line(MARGIN, baseline, width - MARGIN, baseline))
        for i, ((label, value), length) in enumerate(zip(rows, lengths)):
            centre = MARGIN + slot * i + slot / 2
            if length:
                parts.append(f'<rect class="bar" x="{_n(centre - slot * 0.3)}" y="{_n(baseline - length)}" '
                             f'width="{_n(slot * 0.6)}" height="{_n(length)}" fill="{BAR}"/>')
            values = _wrap(_shown(value, "", suppressed_label), chars)
            for j, line in enumerate(values):
                y = baseline - length - 5 - leading * (len(values) - 1 - j)
                parts.append(_text(line, x=centre, y=y, size=size, anchor="middle", suppressed=value is None))
            for j, line in enumerate(_wrap(label, chars)):
                parts.append(_text(line, x=centre, y=baseline + 15 + leading * j, size=size, anchor="middle"))
    return _svg("column", title, description, rows, unit, suppressed_label, width, height, parts)


def _svg(kind, title, description, rows, unit, suppressed_label, width, height, parts, stacked=False) -> SafeString:
    ident = "chart-" + hashlib.sha256(
        repr((kind, title, description, rows, unit, suppressed_label, width, height))
        .encode("utf-8", "backslashreplace")
    ).hexdigest()[:12]
    summary = [_clean(description)] if description else []
    summary += [f"{label}: {_shown(value, unit, suppressed_label)}" for label, value in rows] or [NO_DATA]
    return mark_safe(
        f'<svg xmlns="http://www.w3.org/2000/svg" class="chart" width="{width}" height="{_n(height)}" '
        f'viewBox="0 0 {width} {_n(height)}" role="img" aria-labelledby="{ident}-title {ident}-desc" '
        # The parts of a long chart stack without a gap between them (an attribute: the pages' CSP).
        f'font-family="{FONT}"' + (' display="block"' if stacked else "") + '>'
        f'<title id="{ident}-title">{_escape(title)}</title>'
        f'<desc id="{ident}-desc">{_escape(chr(10).join(summary))}</desc>'
        + "".join(parts) + "</svg>"
    )


def _check_size(width, height):
    if width < MIN_WIDTH or height < MIN_HEIGHT:
        raise ValueError(f"A chart needs at least {MIN_WIDTH} × {MIN_HEIGHT} points.")


def _clean(text) -> str:
    """The text without the characters XML 1.0 forbids (control characters, lone surrogates)."""
    return _NOT_XML.sub("", str(text))


def _escape(text: str) -> str:
    # A literal carriage return would be read back as a newline by any XML parser.
    return escape(text).replace("\r", "&#13;")


def _shown(value, unit, suppressed_label) -> str:
    if value is None:
        return suppressed_label
    number = f"{value:,.1f}" if isinstance(value, float) else f"{value:,}"
    if not unit:
        return number
    return number + ("" if unit == "%" else " ") + unit


def _lengths(values, room) -> list[float]:
    """Bar lengths in proportion to the largest value; a positive value gets at least a sliver."""
    reach = [_reach(value) for value in values]
    largest = max(reach)
    if not largest:
        return [0.0] * len(values)
    return [max(r / largest * room, 1.0) if r else 0.0 for r in reach]


def _reach(value) -> float:
    # Suppressed, negative and non-finite values draw nothing; an integer too large for a float too.
    if value is None:
        return 0.0
    try:
        value = float(value)
    except OverflowError:
        return 0.0
    return value if math.isfinite(value) and value > 0 else 0.0


def _chars(room, size) -> int:
    return max(int(room / (size * GLYPH)), 1)


def _fit(text: str, chars: int) -> str:
    """The text on one line, cut with an ellipsis when it is longer than `chars`."""
    text = " ".join(text.split())
    return text if len(text) <= chars else text[: chars - 1].rstrip() + "…"


def _wrap(text: str, chars: int, *, lines: int | None = 2) -> list[str]:
    """Lines of at most `chars` characters, broken between words ("Jan" / "2025"); a word longer than
    a line is split across lines. At most `lines` lines, the last cut with an ellipsis; every word
    kept when `lines` is None."""
    pieces = []
    for word in text.split():
        pieces += [word[start:start + chars] for start in range(0, len(word), chars)]
    result: list[str] = []
    for piece in pieces:
        if result and len(result[-1]) + 1 + len(piece) <= chars:
            result[-1] += " " + piece
        else:
            result.append(piece)
    if lines is not None and len(result) > lines:
        result[lines - 1:] = [_fit(" ".join(result[lines - 1:]), chars)]
    return result


def _title_text(title, width) -> str:
    return _text(_fit(title, _chars(width - 2 * MARGIN, 16)), x=MARGIN, y=22, size=16, bold=True)


def _text(text, *, x, y, size, anchor="start", bold=False, suppressed=False) -> str:
    weight = ' font-weight="bold"' if bold else ""
    return (f'<text x="{_n(x)}" y="{_n(y)}" font-size="{size}" text-anchor="{anchor}" '
            f'fill="{MUTED if suppressed else INK}"{weight}>{_escape(text)}</text>')


def _line(x1, y1, x2, y2) -> str:
    return f'<line x1="{_n(x1)}" y1="{_n(y1)}" x2="{_n(x2)}" y2="{_n(y2)}" stroke="{AXIS}" stroke-width="1"/>'


def _n(number) -> str:
    return f"{number:.2f}".rstrip("0").rstrip(".")
