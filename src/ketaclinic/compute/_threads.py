"""A long-lived in-process executor: chunks in the caller's thread, helpers on a pool."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from types import TracebackType
from typing import Any, TypeVar

__all__ = ["ThreadExecutor"]

R = TypeVar("R")


class ThreadExecutor:
    """Chunks run one after another in the calling thread (each chunk is already parallel
    over patients); helper work (half of a chunk's random draws, the band percentiles) runs on
    ``helper_threads`` threads that live until :meth:`close`.

    >>> with ThreadExecutor() as ex:
    ...     ex.submit(sum, [1, 2, 3]).result(), list(ex.map_unordered(abs, [(-1,), (2,)]))
    (6, [1, 2])
    """

    shares_memory = True

    def __init__(self, helper_threads: int = 3) -> None:
        if isinstance(helper_threads, bool) or not isinstance(helper_threads, int):
            raise TypeError(f"helper_threads must be a whole number, got {helper_threads!r}")
        if helper_threads < 1:
            raise ValueError(f"helper_threads must be at least 1, got {helper_threads}")
        self._pool = ThreadPoolExecutor(helper_threads, thread_name_prefix="ketaclinic-helper")

    def map_unordered(self, fn: Callable[..., R], tasks: Sequence[tuple[Any, ...]]) -> Iterator[R]:
        """``fn(*task)`` for each task, in order, in the calling thread."""
        for task in tasks:
            yield fn(*task)

    def submit(self, fn: Callable[..., R], *args: Any) -> Future[R]:
        return self._pool.submit(fn, *args)

    def close(self) -> None:
        """Stop the helper threads (waits for work already started)."""
        self._pool.shutdown(wait=True)

    def __enter__(self) -> ThreadExecutor:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        self.close()
