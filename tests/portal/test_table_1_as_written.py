"""T1c: the public Table 1 is the order's text. Every intended use, policy, condition and permissible
use the portal holds is found, word for word, in Table 1 of the order (fixtures/order-table-1.txt, as
extracted from the order's PDF). The comparison ignores only what the extraction changes: line breaks
and the hyphens of words broken across lines, bullets, letter case, curly quotes, and a closing full
stop the portal adds to a condition."""

import re
from pathlib import Path

import pytest
from django.urls import reverse

from portal.models import IntendedUse, PermissibleUse
from portal.table1 import TABLE_1

ORDER = (Path(__file__).parent / "fixtures" / "order-table-1.txt").read_text()
# The reviewer's margin comments are not the order's text.
ORDER = re.sub(r"Commented \[JC\d+\]:.*?(?=\n\s*\n|\n Intended Use|\Z)", " ", ORDER, flags=re.S)


def _words(text: str) -> str:
    text = text.lower().replace("’", "'").replace("‘", "'")
    return re.sub(r"[\s•\-–]+", "", text)


ORDER_WORDS = _words(ORDER)
TEXTS = [(row["code"], text) for row in TABLE_1
         for text in [row["name"], row["policy"], *row["conditions"], *(name for _, name in row["uses"])]]


@pytest.mark.parametrize("code, text", TEXTS, ids=[f"{code}:{text[:30]}" for code, text in TEXTS])
def test_every_text_of_table_1_is_the_orders(code, text):
    """T1c"""
    assert _words(text).removesuffix(".") in ORDER_WORDS, text


def test_the_row_that_lost_but_not_limited_to_has_it_back(db):
    """T1c: the way around was a permissible use narrower than the order's."""
    assert "including but not limited to vehicle" in PermissibleUse.objects.get(code="traffic-monitoring").name


def test_the_public_page_shows_table_1_as_the_registry_holds_it(db, client):
    """T1c"""
    page = client.get(reverse("transparency:index")).content.decode()

    for use in PermissibleUse.objects.all():
        assert use.name in page.replace("&#x27;", "'")
    for intended in IntendedUse.objects.all():
        assert intended.policy.split(".")[0] in page.replace("&#x27;", "'")
