"""
Background work as rows: every import, export, digest or refresh is a ``Job`` (core/models.py).

- ``registry``: the kinds of job, registered by the apps that own them (a lead import by leads).
- ``services``: asking for a job (written in the caller's transaction, handed over after
  commit), cancelling one, the dispatch of due jobs, pruning finished ones.
- ``runner``: running one job under a lease, with progress, cancellation and retries.
- ``selectors``: which jobs a user may see.

With a broker (``CELERY_BROKER_URL``) a job is run by a Celery worker (``core/tasks.py``);
without one, in this process right after the commit that asked for it.
"""
