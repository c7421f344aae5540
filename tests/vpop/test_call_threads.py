"""The default executor starts its helper threads on entry, never inside a later submit (a
thread started mid-run waits for a core the kernels hold: 3 ms stalls were measured)."""

from __future__ import annotations

import threading

from ketaclinic.pharmacology._executor import (  # simulate_population's default executor
    HELPER_THREADS,
    CallThreads,
)


def _helpers() -> set[threading.Thread]:
    return {t for t in threading.enumerate() if t.name.startswith("ketaclinic-call")}


def test_every_helper_is_running_when_the_block_starts() -> None:
    with CallThreads() as ex:
        started = _helpers()
        assert len(started) == HELPER_THREADS
        release = threading.Event()
        # as many tasks busy at once as there are helpers: none of them needs a new thread
        busy = [ex.submit(release.wait, 10.0) for _ in started]
        assert _helpers() == started
        release.set()
        assert all(task.result() for task in busy)
    assert not any(t.is_alive() for t in started)  # joined on exit
