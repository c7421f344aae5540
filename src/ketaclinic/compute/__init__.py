"""Executors: where the chunks of a population run (adapters the pure core is handed).

``ketaclinic.pharmacology.simulate_population(..., executor=...)`` takes either:

* :class:`ThreadExecutor`: chunks in this process, one after another (each is parallel over
  patients inside), helper work on a thread pool that lives as long as the executor. A web
  worker makes one at start-up and closes it at shut-down;
* :class:`DaskExecutor`: chunks on a Dask cluster (``scheduler="tcp://host:port"``) or on a
  ``LocalCluster`` of ``local_workers`` workers, results copied into place as they arrive.

Both are context managers. The pure packages never import this package, Dask or
``concurrent.futures`` at module level; Dask is imported when a ``DaskExecutor`` opens.

:func:`keep_freed_memory` tunes the process's allocator for repeated population runs; entry
points call it (it is process-wide).
"""

from ketaclinic.compute._dask import DaskExecutor
from ketaclinic.compute._memory import keep_freed_memory
from ketaclinic.compute._threads import ThreadExecutor

__all__ = ["DaskExecutor", "ThreadExecutor", "keep_freed_memory"]
