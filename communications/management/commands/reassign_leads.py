"""``manage.py reassign_leads --from USER --to USER [--status ...]``: hand a rep's open leads to another."""

from __future__ import annotations

from django.core.management.base import BaseCommand

from communications.services import reassign_leads_with_follow_ups
from crm_project.core.commands import find_user, refusals_as_command_errors, system_actor
from crm_project.core.text import plural
from leads.models import OPEN_STATUSES


class Command(BaseCommand):
    help = (
        "Move a user's open leads (new, contacted, qualified; not converted or lost) to another user, with the "
        "pending communication follow-ups the first user has on them, in one transaction. The new assignee must "
        "be an active user with a CRM role. Use it when a rep leaves or goes on leave."
    )

    def add_arguments(self, parser):
        parser.add_argument("--from", dest="from_user", metavar="USER", required=True, help="Whose leads move.")
        parser.add_argument("--to", dest="to_user", metavar="USER", required=True, help="Who gets them.")
        parser.add_argument(
            "--status",
            action="append",
            metavar="STATUS",
            help=f"Only leads in this status; repeat for several ({', '.join(sorted(OPEN_STATUSES))}).",
        )

    def handle(self, *args, from_user: str, to_user: str, status: list[str] | None, **options):
        source = find_user(from_user, option="--from")
        target = find_user(to_user, option="--to")
        with refusals_as_command_errors():
            moved = reassign_leads_with_follow_ups(
                actor=system_actor(), from_user=source, to_user=target, statuses=status
            )
        self.stdout.write(
            self.style.SUCCESS(
                f"Moved {plural(moved.leads, 'open lead')} and {plural(moved.follow_ups, 'pending follow-up')} "
                f"from {source.get_username()} to {target.get_username()}."
            )
        )
