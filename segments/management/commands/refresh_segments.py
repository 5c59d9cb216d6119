"""
``manage.py refresh_segments [--segment CODE] [--dry-run]``: put the customers that meet each
active segment's criteria in it, through ``segment_apply_criteria`` (the API's
``POST /segments/{id}/apply-criteria``).
"""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from crm_project.core.admin import error_message
from crm_project.core.commands import system_actor, table
from crm_project.core.exceptions import DomainError
from crm_project.core.text import plural
from segments.models import Segment
from segments.services import segment_apply_criteria


class Command(BaseCommand):
    help = (
        "Apply each active segment's criteria (as POST /api/v1/crm/segments/{id}/apply-criteria does): customers "
        "that meet them are added; members that no longer meet them stay. Segments with no criterion the CRM can "
        "evaluate are skipped with a note. Each segment is refreshed in its own transaction."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--segment", metavar="CODE", help="Only this segment (its code, any case), even if it is inactive."
        )
        parser.add_argument("--dry-run", action="store_true", help="Report what would be added; change nothing.")

    def handle(self, *args, segment: str | None, dry_run: bool, **options):
        segments = Segment.objects.order_by("priority", "name")
        if segment:
            segments = segments.filter(code__iexact=segment.strip())
            if not segments:
                raise CommandError(f"--segment: no segment with the code {segment!r}.")
        else:
            segments = segments.filter(is_active=True)

        actor = system_actor()
        rows, notes, added, skipped = [], [], 0, 0
        for each in segments:
            try:
                result = self._apply(actor, each, dry_run=dry_run)
            except (DomainError, ValidationError) as exc:
                # No criterion the CRM can evaluate (409 in the API), or stored criteria it
                # refuses: noted, and the other segments go on.
                skipped += 1
                notes.append(f"{each.code}: skipped. {error_message(exc)}")
                continue
            added += result.assigned
            rows.append((each.code, each.name, result.assigned, result.already_assigned, result.customer_count))
            if result.unrecognized_criteria:
                notes.append(f"{each.code}: criteria not evaluated: {', '.join(result.unrecognized_criteria)}.")
        if not rows and not notes:
            self.stdout.write("No active segments.")
            return
        verb = "Would add" if dry_run else "Added"
        self.stdout.write(table(("Code", "Segment", verb, "Already in", "Customers"), rows))
        for note in notes:
            self.stdout.write(f"  {note}")
        summary = f"{verb} {plural(added, 'customer')} to {plural(len(rows), 'segment')}; {skipped:,} skipped."
        self.stdout.write(
            f"\nDry run: {summary} Nothing was changed." if dry_run else self.style.SUCCESS(f"\n{summary}")
        )

    def _apply(self, actor, segment: Segment, *, dry_run: bool):
        if not dry_run:
            return segment_apply_criteria(actor=actor, segment=segment)
        # The service itself, rolled back: the same rules and exact numbers, nothing kept.
        with transaction.atomic():
            result = segment_apply_criteria(actor=actor, segment=segment)
            transaction.set_rollback(True)
        return result
