"""Where the chunks of a population run: the interface the pure core is handed.

Pharmacology never imports an executor library at module level and never keeps a pool of its
own between calls. ``ketaclinic.compute`` provides the implementations (a long-lived
``ThreadExecutor`` for a web worker, a ``DaskExecutor`` for a cluster); without one,
:func:`simulate_population` uses :class:`CallThreads`, whose threads live for that call only.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from contextlib import suppress
from threading import Barrier, BrokenBarrierError
from types import TracebackType
from typing import TYPE_CHECKING, Any, Protocol, TypeVar, runtime_checkable

if TYPE_CHECKING:
    from concurrent.futures import ThreadPoolExecutor

__all__ = ["CallThreads", "Executor", "Pending", "Submit"]

R = TypeVar("R")
HELPER_THREADS = 3
R_co = TypeVar("R_co", covariant=True)


class Pending(Protocol[R_co]):
    """Work started elsewhere; ``result()`` waits for it (a ``concurrent.futures.Future``)."""

    def result(self) -> R_co: ...


Submit = Callable[..., Pending[Any]]


@runtime_checkable
class Executor(Protocol):
    """What :func:`simulate_population` needs from an executor.

    ``shares_memory``: tasks run in this process, so a chunk writes its patients straight
    into the population's arrays (no copies); otherwise every chunk comes back as a value and
    is copied into place as it arrives (a cluster). ``map_unordered(fn, tasks)`` calls
    ``fn(*task)`` for every task and yields the results as they complete. ``submit(fn, *args)``
    starts helper work in this process (drawing half of a chunk's random numbers, sorting the
    band percentiles) alongside the caller; helper tasks never wait for one another, so a
    pool of any size will do.
    """

    @property
    def shares_memory(self) -> bool: ...

    def map_unordered(
        self, fn: Callable[..., R], tasks: Sequence[tuple[Any, ...]]
    ) -> Iterator[R]: ...

    def submit(self, fn: Callable[..., R], *args: Any) -> Pending[R]: ...


def _hold_until_all(started: Barrier) -> None:
    with suppress(BrokenBarrierError):  # a pool that started fewer threads: nothing lost
        started.wait(timeout=1.0)


class CallThreads:
    """The default executor: chunks one after another in the calling thread (each chunk is
    parallel inside, over patients), helper work on threads that live for one ``with``
    (half of a chunk's draws; the two halves of the band percentiles).

    >>> with CallThreads() as ex:
    ...     list(ex.map_unordered(pow, [(2, 3), (3, 2)])), ex.submit(pow, 2, 10).result()
    ([8, 9], 1024)
    """

    shares_memory = True

    def __init__(self) -> None:
        self._pool: ThreadPoolExecutor | None = None

    def __enter__(self) -> CallThreads:
        from concurrent.futures import ThreadPoolExecutor  # lazily: import time matters

        self._pool = ThreadPoolExecutor(HELPER_THREADS, thread_name_prefix="ketaclinic-call")
        # Start every helper now, while the cores are free: the pool starts a thread at a
        # submit that finds none idle, and the submit waits until it runs. Mid-run, with
        # both cores solving, that wait was 3 ms (W2 at 10^5, the band percentiles' submit).
        # Each task holds its thread until all have one, so the pool starts them all.
        started = Barrier(HELPER_THREADS)
        for _ in range(HELPER_THREADS):
            self._pool.submit(_hold_until_all, started)
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=True)
            self._pool = None

    def map_unordered(self, fn: Callable[..., R], tasks: Sequence[tuple[Any, ...]]) -> Iterator[R]:
        for task in tasks:
            yield fn(*task)

    def submit(self, fn: Callable[..., R], *args: Any) -> Pending[R]:
        if self._pool is None:
            raise RuntimeError("CallThreads is used inside a 'with' block only")
        return self._pool.submit(fn, *args)
