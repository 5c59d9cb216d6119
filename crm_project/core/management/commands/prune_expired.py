"""``manage.py prune_expired``: delete idempotency answers, rate counters and sign-in records past their use."""

from __future__ import annotations

from datetime import timedelta

from django.core.management.base import BaseCommand, CommandError

from crm_project.core.housekeeping import prune_expired
from crm_project.core.idempotency import KEY_LIFETIME
from crm_project.core.text import plural


class Command(BaseCommand):
    help = (
        "Delete stored Idempotency-Key answers older than their lifetime, rate counters no limit "
        "reads any more, records of sign-ins and refresh tokens that have expired, and finished jobs older "
        "than JOB_RETENTION_DAYS. Runs daily on its own schedule; run it by hand when there is no scheduler."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--idempotency-hours",
            type=float,
            default=KEY_LIFETIME.total_seconds() / 3600,
            help="Delete Idempotency-Key answers older than this many hours (default 24).",
        )

    def handle(self, *args, idempotency_hours: float, **options):
        if idempotency_hours < 0:
            raise CommandError("--idempotency-hours cannot be negative.")
        pruned = prune_expired(idempotency_lifetime=timedelta(hours=idempotency_hours))
        self.stdout.write(
            "Deleted "
            + ", ".join(
                [
                    plural(pruned.idempotency_records, "idempotency record"),
                    plural(pruned.rate_counters, "rate counter"),
                    plural(pruned.revoked_sign_ins, "logged-out sign-in"),
                    plural(pruned.expired_refresh_tokens, "expired refresh token"),
                    plural(pruned.finished_jobs, "finished job"),
                ]
            )
            + "."
        )
