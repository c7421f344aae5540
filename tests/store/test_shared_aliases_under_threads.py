"""The store's shared "newer version" aliases (``newer_version``) are safe when many request
threads use them first at once: SQLAlchemy builds an alias' column proxies lazily, and a race
there left a statement with the model's own column (``records.amends_id = records.id``), which
would have shown amended records as current."""

from __future__ import annotations

import subprocess
import sys

_FRESH_PROCESS = """
import sys, threading, warnings
sys.setswitchinterval(1e-6)  # switch threads as often as possible: the race shows every run
warnings.simplefilter("error")
from sqlalchemy import exists, select
from ketaclinic.store import newer_version
from ketaclinic.store._base import Base, ClinicalRecord

models = [m.class_ for m in Base.registry.mappers if issubclass(m.class_, ClinicalRecord)]
problems = []

def first_use(model, barrier):
    barrier.wait()
    try:
        newer = newer_version(model)
        sql = str(select(model.id).where(~exists().where(newer.amends_id == model.id)))
        if f"{model.__tablename__}_1.amends_id = {model.__tablename__}.id" not in sql:
            problems.append(f"{model.__name__}: {sql}")
    except Exception as exc:  # the SQLAlchemy warning, raised as an error
        problems.append(f"{model.__name__}: {exc!r}")

for model in models:
    barrier = threading.Barrier(8)
    threads = [threading.Thread(target=first_use, args=(model, barrier)) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
print(len(models))
print("\\n".join(problems))
sys.exit(1 if problems else 0)
"""


def test_eight_threads_first_using_each_alias_all_get_the_alias_columns() -> None:
    done = subprocess.run(
        [sys.executable, "-c", _FRESH_PROCESS], capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert int(done.stdout.split()[0]) >= 30  # every clinical record model was tried
