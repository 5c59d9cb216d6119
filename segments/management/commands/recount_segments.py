"""``manage.py recount_segments [--dry-run]``: repair ``customer_count`` drift, saying what it fixed."""

from __future__ import annotations

from django.core.management.base import BaseCommand

from crm_project.core.text import plural
from segments.selectors import segment_count_drift
from segments.services import segment_recount_all


class Command(BaseCommand):
    help = (
        "Make every segment's customer_count equal its membership rows (they drift only when rows "
        "are written around the services, e.g. by raw SQL). Prints each correction as CODE: old → new."
    )

    def add_arguments(self, parser):
        parser.add_argument("--dry-run", action="store_true", help="Report the drift without fixing it.")

    def handle(self, *args, dry_run: bool, **options):
        drift = segment_count_drift()
        if not drift:
            self.stdout.write(self.style.SUCCESS("Every segment's customer count is true."))
            return
        if dry_run:
            for segment, true_count in drift:
                self.stdout.write(f"  {segment.code}: {segment.customer_count} → {true_count}")
            self.stdout.write(self.style.WARNING(f"{plural(len(drift), 'segment count')} would be fixed (dry run)."))
            return
        # Each one recounted under its row lock: the rows may have changed since the scan.
        fixed = [r for r in segment_recount_all(segment_ids=[s.pk for s, _ in drift]) if r.corrected]
        for recount in fixed:
            self.stdout.write(f"  {recount.code}: {recount.old} → {recount.new}")
        self.stdout.write(self.style.SUCCESS(f"Fixed {plural(len(fixed), 'segment count')}."))
