"""The SVG charts of the annual department report (S2.5b) and the public report (S2.5c): drawn on
the server, readable by a screen reader, safe with any text, and drawn by WeasyPrint in the PDF."""

import io
import math
import xml.etree.ElementTree as ET

import pypdf
import pytest
import weasyprint
from django.utils.safestring import SafeString
from hypothesis import given, settings, strategies as st

from reports.charts import bar_chart, column_chart

SVG = "{http://www.w3.org/2000/svg}"
CHARTS = [pytest.param(bar_chart, id="bar"), pytest.param(column_chart, id="column")]
HOSTILE = [
    '<img src="file:///etc/passwd">',
    "</svg><script>alert(1)</script>",
    '<a href="http://169.254.169.254/latest/meta-data/">metadata</a>',
    '<foreignObject><body onload="alert(1)"/></foreignObject>',
    '<image href="http://example.com/x.png"/><use href="#x"/>',
    '" style="fill:red" onclick="alert(1)',
    "]]><![CDATA[<script>x</script>",
    '<!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]>&e;',
    "&amp; &lt; & 'single' \"double\"",
    "line one\r\nline two\ttab",
]


def parse(svg):
    return ET.fromstring(str(svg))


def bars(root):
    return root.findall(f"{SVG}rect")


def drawn_texts(root):
    return [text.text for text in root.iter(f"{SVG}text")]


def desc(root):
    return root.find(f"{SVG}desc").text


def length(chart, bar):
    return float(bar.get("width" if chart is bar_chart else "height"))


def assert_nothing_active(root):
    for element in root.iter():
        assert element.tag.removeprefix(SVG).lower() not in {"script", "image", "foreignobject", "use", "a", "style"}
        for name, value in element.attrib.items():
            assert "href" not in name.lower() and "style" not in name.lower() and not name.lower().startswith("on")
            assert "url(" not in value


@pytest.mark.parametrize("chart", CHARTS)
def test_it_draws_one_bar_per_row_with_a_positive_value(chart):
    rows = [("Police", 40), ("Streets", 0), ("Parks", None), ("Fire", 7), ("Health", 12.5)]

    root = parse(chart(title="Grants by department", rows=rows))

    assert len(bars(root)) == len([value for _, value in rows if value])


@pytest.mark.parametrize("chart", CHARTS)
def test_the_longest_bar_is_the_largest_value_and_lengths_are_in_proportion(chart):
    rows = [("Video management", 120), ("Plate readers", 30), ("Traffic cameras", 90), ("Gunshot sensors", 45.5)]

    lengths = [length(chart, bar) for bar in bars(parse(chart(title="Grants by system", rows=rows)))]

    assert lengths.index(max(lengths)) == 0
    for (_, value), drawn in zip(rows, lengths):
        assert drawn / lengths[0] == pytest.approx(value / 120, abs=0.001)


@pytest.mark.parametrize("chart", CHARTS)
def test_a_suppressed_count_shows_the_suppressed_label_and_no_bar(chart):
    """S2.6: a count that could single a person out is shown in words, never drawn."""
    root = parse(chart(title="Revocations", rows=[("Police", 12), ("Streets", None)]))

    assert len(bars(root)) == 1
    assert "fewer than 5" in " ".join(drawn_texts(root))
    assert "Streets: fewer than 5" in desc(root)


@pytest.mark.parametrize("chart", CHARTS)
def test_the_suppressed_label_can_be_worded_by_the_report(chart):
    root = parse(chart(title="Revocations", rows=[("Streets", None)], suppressed_label="hidden"))

    assert "hidden" in drawn_texts(root)
    assert "fewer than 5" not in str(ET.tostring(root))


@pytest.mark.parametrize("chart", CHARTS)
def test_a_zero_draws_no_bar_but_shows_0(chart):
    root = parse(chart(title="Findings", rows=[("Resolved", 3), ("Open", 0)]))

    assert len(bars(root)) == 1
    assert "0" in drawn_texts(root)


@pytest.mark.parametrize("chart", CHARTS)
def test_the_description_lists_every_label_with_its_value_and_unit(chart):
    rows = [("Public safety", 1234), ("Traffic management", 56.25), ("Public health", None), ("Public lands", 0)]

    text = desc(parse(chart(title="Grants by permissible use", rows=rows, unit="grants",
                            description="Active grants on 1 July.")))

    assert text.splitlines() == [
        "Active grants on 1 July.",
        "Public safety: 1,234 grants",
        "Traffic management: 56.2 grants",
        "Public health: fewer than 5",
        "Public lands: 0 grants",
    ]


@pytest.mark.parametrize("chart", CHARTS)
def test_the_title_is_the_accessible_name_and_the_description_the_accessible_description(chart):
    root = parse(chart(title="Requests filed", rows=[("Jan", 4)]))

    title, description = root.find(f"{SVG}title"), root.find(f"{SVG}desc")
    assert root.get("role") == "img"
    assert root.get("aria-labelledby").split() == [title.get("id"), description.get("id")]
    assert title.text == "Requests filed"
    assert "Requests filed" in drawn_texts(root)


def test_two_different_charts_on_one_page_do_not_share_ids():
    first = parse(bar_chart(title="Grants by system", rows=[("VMS", 4)]))
    second = parse(bar_chart(title="Grants by use", rows=[("VMS", 4)]))

    assert first.find(f"{SVG}title").get("id") != second.find(f"{SVG}title").get("id")


def test_the_bar_chart_shows_numbers_with_thousands_separators_and_floats_with_one_decimal():
    root = parse(bar_chart(title="Days from request to account", rows=[("Median", 1234567), ("90th", 12.345)],
                           unit="days"))

    assert {"1,234,567 days", "12.3 days"} <= set(drawn_texts(root))


def test_the_column_chart_writes_the_unit_once_and_the_numbers_above_the_columns():
    root = parse(column_chart(title="Requests filed", rows=[("Jan", 1500), ("Feb", 2.25)], unit="requests"))

    assert drawn_texts(root).count("requests") == 1
    assert {"1,500", "2.2"} <= set(drawn_texts(root))


def test_a_percentage_sits_next_to_its_number():
    root = parse(bar_chart(title="Validations on time", rows=[("Police", 87.5)], unit="%"))

    assert "87.5%" in drawn_texts(root)


def test_the_bar_chart_grows_taller_with_the_rows():
    heights = [float(parse(bar_chart(title="Grants", rows=[(f"System {i}", i) for i in range(n)])).get("height"))
               for n in (1, 5, 20)]

    assert heights[0] < heights[1] < heights[2]


@pytest.mark.parametrize("chart", CHARTS)
def test_it_has_its_size_in_attributes_and_a_view_box(chart):
    root = parse(chart(title="Grants", rows=[("VMS", 3)], width=500))

    assert root.get("width") == "500"
    assert root.get("viewBox") == f"0 0 500 {root.get('height')}"
    assert float(root.get("height")) > 0


@pytest.mark.parametrize("chart", CHARTS)
def test_it_is_marked_safe_for_templates(chart):
    assert isinstance(chart(title="Grants", rows=[]), SafeString)


def test_a_long_label_is_wrapped_whole_in_the_drawing_and_kept_whole_in_the_description():
    """S2.5b: no label is cut: a long one takes as many lines as it needs."""
    label = "Police Department real-time crime centre video management system, north district"

    root = parse(bar_chart(title="Grants", rows=[(label, 9)]))

    lines = drawn_texts(root)[1:-1]  # between the title and the value
    assert len(lines) > 1 and " ".join(lines) == label
    assert not any("…" in text for text in drawn_texts(root))
    assert f"{label}: 9" in desc(root)


def test_the_column_chart_puts_the_month_labels_under_the_columns():
    months = ["Jan 2025", "Feb 2025", "Mar 2025", "Apr 2025", "May 2025", "Jun 2025",
              "Jul 2025", "Aug 2025", "Sep 2025", "Oct 2025", "Nov 2025", "Dec 2025"]

    root = parse(column_chart(title="Requests filed per month", rows=[(m, 10 + i) for i, m in enumerate(months)]))

    bottom = max(float(bar.get("y")) + float(bar.get("height")) for bar in bars(root))
    under = [text for text in root.iter(f"{SVG}text") if float(text.get("y")) > bottom]
    assert {text.text for text in under} == {"2025", *(m.split()[0] for m in months)}
    for bar, month in zip(bars(root), under[::2]):
        centre = float(bar.get("x")) + float(bar.get("width")) / 2
        assert float(month.get("x")) == pytest.approx(centre, abs=0.01)


@pytest.mark.parametrize("chart", CHARTS)
@pytest.mark.parametrize("rows", [[], [("Police", 0), ("Streets", 0)], [("Police", None), ("Streets", None)]],
                         ids=["no rows", "all zero", "all suppressed"])
def test_it_draws_no_bar_and_does_not_fail_when_nothing_is_positive(chart, rows):
    root = parse(chart(title="Revocations", rows=rows))

    assert bars(root) == []


@pytest.mark.parametrize("chart", CHARTS)
def test_no_rows_says_there_is_no_data(chart):
    root = parse(chart(title="Revocations", rows=[]))

    assert "No data for this period." in drawn_texts(root)
    assert "No data for this period." in desc(root)


@pytest.mark.parametrize("chart", CHARTS)
@pytest.mark.parametrize("hostile", HOSTILE)
def test_hostile_text_comes_out_as_text(chart, hostile):
    root = parse(chart(title=hostile, rows=[(hostile, 5), ("Streets", None)], unit=hostile,
                       description=hostile, suppressed_label=hostile))

    assert root.find(f"{SVG}title").text == hostile
    assert desc(root).startswith(hostile + "\n")
    assert f"\n{hostile}: 5" in desc(root)
    assert f"\nStreets: {hostile}" in desc(root)
    assert_nothing_active(root)


@pytest.mark.parametrize("chart", CHARTS)
def test_characters_xml_forbids_are_dropped(chart):
    root = parse(chart(title="Grants\x00\x1b\ud800\ufffe by system", rows=[("V\x07MS\udfff", 3)], unit="\x0c"))

    assert root.find(f"{SVG}title").text == "Grants by system"
    assert "VMS: 3" in desc(root)


values = st.one_of(st.none(), st.integers(), st.floats())
texts = st.text()


@settings(max_examples=150, deadline=None)
@given(chart=st.sampled_from([bar_chart, column_chart]), title=texts, unit=texts, description=texts,
       suppressed_label=texts, rows=st.lists(st.tuples(texts, values), max_size=15))
def test_any_text_and_any_values_give_a_chart_that_parses(chart, title, unit, description, suppressed_label, rows):
    root = parse(chart(title=title, rows=rows, unit=unit, description=description,
                       suppressed_label=suppressed_label))

    drawable = [v for _, v in rows if v is not None and _finite_positive(v)]
    assert len(bars(root)) == len(drawable)
    assert (root.find(f"{SVG}title").text or "") == "".join(c for c in title if _xml_char(c))
    assert_nothing_active(root)


def _finite_positive(value):
    try:
        return math.isfinite(float(value)) and value > 0
    except OverflowError:
        return False


def _xml_char(c):
    return c in "\t\n\r" or "\x20" <= c <= "\ud7ff" or "\ue000" <= c <= "\ufffd" or c >= "\U00010000"


@pytest.mark.parametrize("chart", CHARTS)
def test_weasyprint_draws_the_title_and_the_labels_into_the_pdf(chart):
    """S2.5b: the chart reaches the PDF as drawn text, with no JavaScript."""
    svg = chart(title="Grants by system", rows=[("Plate readers", 14), ("Traffic", None)])

    pdf = weasyprint.HTML(string="<html><body>" + svg + "</body></html>").write_pdf()

    text = "".join(page.extract_text() for page in pypdf.PdfReader(io.BytesIO(pdf)).pages)
    squeezed = "".join(text.split())
    assert "Grantsbysystem" in squeezed
    assert "Platereaders" in squeezed
    assert "fewerthan5" in squeezed
