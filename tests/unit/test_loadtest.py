"""The load test's own arithmetic: robust RSS by minute, the fitted slope, and cancellations settled
by the server's counts rather than by what the client asked."""

from __future__ import annotations

import pytest

from omni_demo.bench.loadtest import Outcome, _Gauges, _report


def _gauges(samples: list[tuple[float, float]]) -> _Gauges:
    gauges = _Gauges(None, [])
    gauges.rss = samples
    return gauges


def _sawtooth(minutes: int, growth_per_min: float) -> list[tuple[float, float]]:
    """One sample a second: a floor that grows by `growth_per_min`, with 300 MiB teeth every 20 s."""
    return [(t, 1000 + growth_per_min * t / 60 + 15 * (t % 20)) for t in range(minutes * 60)]


def test_minima_and_slope_see_through_the_sawtooth() -> None:
    flat = _gauges(_sawtooth(10, 0.0)).fields(minutes=10, warmup_minutes=3)
    assert flat["rss_mib_min_by_minute"] == [1000.0] * 10
    assert flat["rss_mib_max_by_minute"] == [1285.0] * 10
    assert flat["rss_slope_mib_per_min"] == pytest.approx(0.0)
    growing = _gauges(_sawtooth(10, 20.0)).fields(minutes=10, warmup_minutes=3)
    assert growing["rss_slope_mib_per_min"] == pytest.approx(20.0, abs=0.5)
    assert growing["rss_growth_mib"] == pytest.approx(20.0 * 6, abs=3)  # minutes 3 .. 9


def test_the_unfinished_last_minute_is_left_out() -> None:
    samples = _sawtooth(3, 0.0) + [(180.0 + s, 5000.0) for s in range(5)]  # in-flight requests ending
    fields = _gauges(samples).fields(minutes=3, warmup_minutes=0)
    assert len(fields["rss_mib_min_by_minute"]) == 3
    assert max(fields["rss_mib_max_by_minute"]) < 5000


def _outcomes(answered: int, refused: int, asked: int) -> list[Outcome]:
    return (
        [Outcome(0, "text", "answered", 1.0, 0.1)] * answered
        + [Outcome(0, "empty", "refused", 0.1, 0.0)] * refused
        + [Outcome(0, "cancelled", "cancel asked", 0.5, 0.1)] * asked
    )


def _served(**counts: int) -> dict[str, int]:
    return {"answered": 0, "cancelled": 0, "refused": 0, "failed": 0, **counts}


def test_a_cancel_counts_only_when_the_server_stopped_the_request() -> None:
    # 3 cancels asked; the server stopped 2 and completed the third anyway: that one was answered.
    report = _report(
        1, _outcomes(5, 1, 3), 60, _gauges([]), _served(answered=6, refused=1, cancelled=2), 1, 0
    )
    assert report.outcomes == {"answered": 6, "refused": 1, "cancelled": 2}
    assert report.cancel_asked == 3
    assert not report.errors


def test_a_server_that_stops_nothing_reports_no_cancellations() -> None:
    report = _report(1, _outcomes(5, 1, 3), 60, _gauges([]), _served(answered=8, refused=1), 1, 0)
    assert report.outcomes == {"answered": 8, "refused": 1}


def test_counts_that_do_not_add_up_are_errors() -> None:
    stopped_too_many = _report(
        1, _outcomes(5, 1, 1), 60, _gauges([]), _served(answered=4, refused=1, cancelled=2), 1, 0
    )
    assert any("only 1 were cancelled" in e for e in stopped_too_many.errors)
    lost = _report(1, _outcomes(5, 1, 0), 60, _gauges([]), _served(answered=4, refused=1), 1, 0)
    assert any("accounted for 5 of 6" in e for e in lost.errors)


def test_without_the_server_s_counts_a_cancel_is_not_confirmed() -> None:
    report = _report(1, _outcomes(5, 1, 3), 60, _gauges([]), None, 1, 0)
    assert report.outcomes == {"answered": 5, "refused": 1, "cancel unconfirmed": 3}
