"""The campaign script (tests/campaign.py) at its smoke size: every kind of case runs and none escapes,
hangs or modifies a feed; and its watchdog and tally count what they should (the full campaign is run by
hand: ``python tests/campaign.py``, see its docstring)."""

from __future__ import annotations

import numpy as np

import campaign


def test_the_smoke_campaign_finds_nothing():
    tally = campaign.campaign("smoke")
    totals = tally.totals()
    assert set(tally.rows) == {"files", "weak", "attrs", "saves", "feeds", "threads", "untouched"}
    assert all(row["cases"] > 0 for row in tally.rows.values())
    assert (totals["escapes"], totals["hangs"], totals["feeds_modified"]) == (0, 0, 0), tally.failures


def _spin():
    while True:
        pass


def _escape():
    raise KeyError("x")


def _write_feed():
    raise AssertionError("f(...) modified the feed 'x'")


def test_the_tally_counts_hangs_escapes_and_modified_feeds(monkeypatch):
    monkeypatch.setattr(campaign, "LIMIT", 1.0)
    tally = campaign.Tally()
    for fn in (_spin, _escape, _write_feed, lambda: np.float64(1.0) / 0):
        campaign.bounded(tally, "probe", fn)
    row = tally.rows["probe"]
    assert (row["cases"], row["hangs"], row["escapes"], row["feeds_modified"]) == (4, 1, 1, 1), tally.failures
    assert "KeyError" in "".join(tally.failures)
