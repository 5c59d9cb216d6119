"""``manage.py prune_idempotency_keys``: delete stored Idempotency-Key answers past their lifetime."""

from __future__ import annotations

from datetime import timedelta

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from crm_project.core.idempotency import KEY_LIFETIME
from crm_project.core.models import IdempotencyRecord


class Command(BaseCommand):
    help = "Delete Idempotency-Key records older than their 24-hour lifetime (run it daily, e.g. from cron)."

    def add_arguments(self, parser):
        parser.add_argument(
            "--older-than-hours",
            type=float,
            default=KEY_LIFETIME.total_seconds() / 3600,
            help="Delete records older than this many hours (default 24).",
        )

    def handle(self, *args, older_than_hours: float, **options):
        if older_than_hours < 0:
            raise CommandError("--older-than-hours cannot be negative.")
        cutoff = timezone.now() - timedelta(hours=older_than_hours)
        deleted, _by_model = IdempotencyRecord.objects.filter(created_at__lt=cutoff).delete()
        self.stdout.write(f"Deleted {deleted} idempotency record(s) older than {older_than_hours:g} hours.")
