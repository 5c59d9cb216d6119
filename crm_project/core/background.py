"""
Work that leaves the transaction that decided it: an e-mail now, webhooks and jobs next.

A service names the task (a function in some app's ``tasks.py``, by its dotted path, so the
service need not import the module that imports it) with plain arguments (ids, dates as ISO
text: never model instances, which would be stale by the time it runs). The task runs once the
surrounding transaction commits: a rolled-back change sends nothing, and the task reads the
rows afresh. Outside a transaction it runs at once.

Tasks are thin: arguments in, one service call. They run in this process after the commit;
a failing one is logged and does not undo or fail the request that queued it.
"""

from __future__ import annotations

import logging
from functools import partial
from typing import Any

from django.db import transaction
from django.utils.module_loading import import_string

logger = logging.getLogger("crm.background")


def enqueue(task: str, /, **kwargs: Any) -> None:
    """Run the task at dotted path ``task`` with ``kwargs`` once the current transaction commits."""
    # robust: a failing task is logged, and the other callbacks of the transaction still run.
    transaction.on_commit(partial(run_task, task, kwargs), robust=True)


def run_task(task: str, kwargs: dict[str, Any]) -> None:
    logger.info("Running %s(%s)", task, ", ".join(f"{name}={value!r}" for name, value in kwargs.items()))
    import_string(task)(**kwargs)
