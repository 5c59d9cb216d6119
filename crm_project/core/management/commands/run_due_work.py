"""``manage.py run_due_work``: on a host without Celery, run the background work that is due."""

from __future__ import annotations

from django.core.management.base import BaseCommand

from crm_project.core.jobs.services import dispatch_due_jobs
from crm_project.core.schedules import run_due_schedules
from crm_project.core.text import plural


class Command(BaseCommand):
    help = (
        "Run the background work that is due, for a single host without Celery: the periodic schedules due "
        "now (the morning digest, the nightly refresh...) and the jobs waiting (retries, jobs whose run was "
        "interrupted). Run it every minute from cron: "
        "* * * * * cd /srv/crm && .venv/bin/python manage.py run_due_work"
    )

    def handle(self, *args, **options):
        schedules = run_due_schedules()
        jobs = dispatch_due_jobs()
        ran = f": {', '.join(schedules)}" if schedules else ""
        self.stdout.write(f"Ran {plural(len(schedules), 'schedule')}{ran}; handed over {plural(jobs, 'job')}.")
