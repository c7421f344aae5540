"""SIGKILL at 200 random points: what was acknowledged survives, nothing is half there."""

from __future__ import annotations

from ketaclinic.services.crashtest import prepare, run_crash_test
from ketaclinic.store import Database

KILL_POINTS = 200


def test_a_killed_writer_loses_nothing_acknowledged_and_leaves_nothing_half_written(
    db: Database,
) -> None:
    prepare(db)
    settings = db.settings
    db.close()  # the children must not inherit this process's connections or writer lock
    report = run_crash_test(settings, KILL_POINTS, seed=20260302, deep_every=50)
    assert report.kill_points == KILL_POINTS
    assert report.lost == 0, report
    assert report.partial == 0, report
    assert report.out_of_order == 0, report
    assert report.deep_checks == KILL_POINTS // 50
    # about 1.5 commits land between two kills on an idle machine; far fewer under load, but
    # never so few that the kills stop hitting writes in flight
    assert report.acknowledged >= KILL_POINTS // 4, "too few writes happened to test anything"
    assert report.survived >= report.acknowledged
