"""The Dask adapter: chunks on a cluster, results copied into place as they arrive."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from types import TracebackType
from typing import Any, TypeVar

from ketaclinic.errors import UserInputError
from ketaclinic.ranges import DASK_CONNECT_TIMEOUT_S, DASK_LOCAL_WORKERS

__all__ = ["DaskExecutor"]

_ADDRESS = re.compile(r"^(tcp|tls)://(\[[0-9a-fA-F:]+\]|[A-Za-z0-9.-]+):(\d{1,5})$")

R = TypeVar("R")


class DaskExecutor:
    """Run population chunks on Dask: an existing cluster (``scheduler="tcp://host:port"``)
    or a ``LocalCluster`` of ``local_workers`` in-process workers (one thread each) that this
    executor starts and stops.

    Use it as a context manager: the client (and a local cluster) exist inside the ``with``.
    Chunks travel to the workers as pickles (the model, doses, population and variability),
    so the workers need ketaclinic installed; numbers are the same as in-process ones.
    """

    shares_memory = False

    def __init__(self, scheduler: str | None = None, local_workers: int | None = None) -> None:
        if scheduler is not None and local_workers is not None:
            raise UserInputError("give a Dask scheduler address or a number of local workers")
        if local_workers is not None and (
            isinstance(local_workers, bool)
            or not isinstance(local_workers, int)
            or not DASK_LOCAL_WORKERS.contains(local_workers)
        ):
            raise UserInputError(
                f"local workers must be a whole number from {DASK_LOCAL_WORKERS.describe()}, "
                f"got {local_workers!r}"
            )
        if scheduler is not None:
            found = _ADDRESS.match(str(scheduler))
            if found is None or not 1 <= int(found.group(3)) <= 65535:
                raise UserInputError(
                    f"scheduler {scheduler!r} is not a Dask scheduler address; accepted: "
                    "tcp://HOST:PORT or tls://HOST:PORT with a port from 1 to 65535, "
                    "e.g. tcp://10.0.0.5:8786"
                )
        self.scheduler = scheduler
        self.local_workers = local_workers or 2
        self._client: Any = None
        self._cluster: Any = None
        self._pool: ThreadPoolExecutor | None = None

    def __enter__(self) -> DaskExecutor:
        try:
            import dask.distributed
        except ImportError:
            raise UserInputError(
                "the Dask executor needs Dask: pip install 'ketaclinic[dask]'"
            ) from None
        distributed: Any = dask.distributed  # untyped: its objects are Any here
        if self.scheduler:
            try:
                self._client = distributed.Client(self.scheduler, timeout=DASK_CONNECT_TIMEOUT_S)
            # refused, silent, or something else answering (a non-Dask server's bytes can
            # even make the handshake ask for exabytes): every failure here is the address's
            except Exception as error:
                reason = " ".join(str(error).split())[:160] or type(error).__name__
                raise UserInputError(
                    f"cannot connect to a Dask scheduler at {self.scheduler} within "
                    f"{DASK_CONNECT_TIMEOUT_S:g} s ({type(error).__name__}: {reason}); is one "
                    "running there?"
                ) from None
        else:
            self._cluster = distributed.LocalCluster(
                n_workers=self.local_workers,
                threads_per_worker=1,
                processes=False,
                dashboard_address=None,
            )
            self._client = distributed.Client(self._cluster)
        self._pool = ThreadPoolExecutor(2, thread_name_prefix="ketaclinic-dask-helper")
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        self.close()

    def close(self) -> None:
        """Close the client, the local cluster (if this executor started one) and helpers."""
        if self._client is not None:
            self._client.close()
            self._client = None
        if self._cluster is not None:
            self._cluster.close()
            self._cluster = None
        if self._pool is not None:
            self._pool.shutdown(wait=True)
            self._pool = None

    def map_unordered(self, fn: Callable[..., R], tasks: Sequence[tuple[Any, ...]]) -> Iterator[R]:
        """Submit every task, then yield results as they complete (each released at once)."""
        if self._client is None:
            raise RuntimeError("DaskExecutor is used inside a 'with' block only")
        import dask.distributed

        as_completed: Any = dask.distributed.as_completed
        futures = [self._client.submit(fn, *task, pure=False) for task in tasks]
        for future in as_completed(futures):
            result: R = future.result()
            future.release()
            yield result

    def submit(self, fn: Callable[..., R], *args: Any) -> Future[R]:
        """Helper work in this process (the band percentiles), on two threads."""
        if self._pool is None:
            raise RuntimeError("DaskExecutor is used inside a 'with' block only")
        return self._pool.submit(fn, *args)
