"""The load test, small: 4 users × 20 mixed requests against the preview model, with bounds."""

from __future__ import annotations

import pytest

from omni_demo.loadtest import run

pytestmark = pytest.mark.e2e


def test_four_users_twenty_requests_each() -> None:
    # The server sweeps its temporary files older than 5 s, so their total stays small throughout.
    report = run(users=4, requests=20, minutes=4, max_new_tokens=16, temp_max_age_s=5)
    print(report.lines())
    assert report.requests == 80
    assert not report.errors  # every request answered, refused in one sentence, or cancelled
    assert set(report.outcomes) <= {"answered", "refused", "cancelled"}
    assert report.outcomes["answered"] >= 40
    assert report.outcomes["refused"] >= 1
    assert report.outcomes["cancelled"] >= 1
    assert report.latency_p95_s < 30
    assert report.rss_mib_after - report.rss_mib_before < 600  # the media cache is bounded by 1 GiB
    assert report.temp_mib_max < report.temp_mib_before + 50
    assert report.temp_mib_after < report.temp_mib_before + 10
