"""
The kernel's Celery tasks: running a job, handing due jobs over again, and housekeeping. Thin:
plain arguments in, one service call. The names are the ones the schedules (django-celery-beat)
and ``apply_async`` use.
"""

from __future__ import annotations

from celery import shared_task

from crm_project.core import housekeeping
from crm_project.core.jobs import runner, services
from crm_project.core.webhooks import delivery


@shared_task(name="crm_project.core.tasks.run_job_task")
def run_job_task(job_id: str) -> str:
    """Run one job; a second delivery of the same job finds it taken or finished and does nothing."""
    return runner.run_job(job_id)


@shared_task(name="crm_project.core.tasks.dispatch_due_jobs")
def dispatch_due_jobs() -> int:
    """Each minute: hand over jobs whose hand-over failed, retries that are due, jobs of dead workers."""
    return services.dispatch_due_jobs()


@shared_task(name="crm_project.core.tasks.prune_expired")
def prune_expired() -> dict:
    """Daily: idempotency keys, rate counters, ended sign-ins, finished jobs past their time."""
    return housekeeping.prune_expired().__dict__


@shared_task(name="crm_project.core.tasks.deliver_webhook")
def deliver_webhook(delivery_id: str) -> str:
    """One attempt at one delivery; a second delivery of the task finds it held or done."""
    return delivery.deliver(delivery_id)


@shared_task(name="crm_project.core.tasks.sweep_webhooks")
def sweep_webhooks() -> int:
    """
    Send deliverers for the deliveries due: on a committed change's announcement, and each minute
    for retries now due and deliveries whose task was lost or whose deliverer died.
    """
    return delivery.hand_over_due()
