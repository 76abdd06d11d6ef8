"""bench/load.py's targets: every page at 10 % of the baseline's throughput and p99 at most 150 ms,
and the signed-in floor at 40 % of the baseline's."""

from bench.load import FLOOR_TARGET_SHARE, TARGET_P99_MS, TARGET_SHARE, Page, floor_misses, verdicts


def load(rps, p99=100.0, errors=0):
    return {"requests_per_second": rps, "p99_ms": p99, "errors": errors}


BASELINE = load(1000.0, 20.0)


def page(rps, p99=100.0, who=1):
    measured = Page("request", "Request page", "/requests/1/", who)
    measured.figures = {"load": load(rps, p99), "count": {"queries": 12}}
    return measured


def test_the_targets_are_ten_percent_of_the_baseline_and_forty_for_the_floor():
    assert (TARGET_SHARE, FLOOR_TARGET_SHARE, TARGET_P99_MS) == (0.10, 0.40, 150.0)


def test_a_page_at_ten_percent_of_the_baseline_meets_the_target_and_one_below_misses_it():
    met, missed, slow = page(100.0), page(99.0), page(300.0, p99=151.0)
    verdicts([met, missed, slow], BASELINE, None)
    assert met.figures["misses"] == []
    assert missed.figures["misses"] == ["< 10% of baseline"]
    assert slow.figures["misses"] == ["p99 > 150 ms"]


def test_the_signed_in_floor_has_a_verdict_of_its_own():
    met, missed = load(400.0), load(399.0)
    assert floor_misses(met, BASELINE) == [] and met["share"] == 0.4
    assert floor_misses(missed, BASELINE) == ["< 40% of baseline"]
    assert floor_misses(load(500.0, errors=3), BASELINE) == ["3 errors"]
    assert floor_misses(None, BASELINE) == []


def test_each_signed_in_page_is_also_given_as_a_share_of_the_floor():
    signed_in, anonymous = page(100.0), page(100.0, who=None)
    verdicts([signed_in, anonymous], BASELINE, None, load(400.0))
    assert signed_in.figures["share_of_floor"] == 0.25
    assert "share_of_floor" not in anonymous.figures
