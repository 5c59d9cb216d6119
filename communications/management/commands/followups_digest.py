"""
``manage.py followups_digest [--date D] [--representative USER] [--email]``: each
representative's follow-ups for a day (``communications/digest.py``), printed, and with
``--email`` sent to each of them at once, with a report of who got theirs.
"""

from __future__ import annotations

import datetime as dt
import smtplib

from django.conf import settings
from django.core.mail import get_connection
from django.core.management.base import BaseCommand, CommandError

from communications.digest import HEADERS, Digest, digest_email, follow_up_digests
from crm_project.core.commands import display_name, find_user, parse_day, table
from crm_project.core.text import plural


class Command(BaseCommand):
    help = (
        "Each representative's follow-ups for a day (default today in TIME_ZONE): open leads whose next "
        "follow-up falls that day, and pending communication follow-ups due by its end, with overdue ones "
        "(due before that day) marked. With --email each representative is sent their own list through "
        "Django's email backend (EMAIL_* settings); users without an email address are reported."
    )

    def add_arguments(self, parser):
        parser.add_argument("--date", metavar="YYYY-MM-DD", help="The day (default: today in TIME_ZONE).")
        parser.add_argument(
            "--representative", metavar="USER", help="Only this user's follow-ups (username or user id)."
        )
        parser.add_argument("--email", action="store_true", help="Email each representative their own list.")

    def handle(self, *args, **options):
        day = parse_day(options["date"], option="--date")
        user_id = (
            find_user(options["representative"], option="--representative").pk if options["representative"] else None
        )
        digests = follow_up_digests(day, user_id=user_id)
        heading = f"Follow-ups for {day:%A %d %B %Y} (TIME_ZONE {settings.TIME_ZONE}), overdue ones included"
        self.stdout.write(heading)
        if not digests:
            self.stdout.write("Nothing to follow up.")
            return
        for digest in digests:
            self.stdout.write(f"\n{digest.title}: {digest.counts}\n{table(HEADERS, digest.rows, indent='  ')}")
        leads = sum(digest.leads for digest in digests)
        communications = sum(digest.communications for digest in digests)
        overdue = sum(digest.overdue for digest in digests)
        self.stdout.write(
            f"\nTotal: {plural(leads, 'lead follow-up')} and {plural(communications, 'communication follow-up')}, "
            f"{overdue:,} overdue."
        )
        if options["email"]:
            self._send(digests, day)

    def _send(self, digests: list[Digest], day: dt.date) -> None:
        """One email per representative; who could not be emailed is reported, not crashed on."""
        connection = get_connection()
        try:
            connection.open()  # One session for every message.
        except (smtplib.SMTPException, OSError) as exc:
            raise CommandError(
                f"Cannot reach the mail server ({settings.EMAIL_HOST}:{settings.EMAIL_PORT}): {exc}"
            ) from None
        sent, unsent, failed = 0, [], []
        try:
            for digest in digests:
                user = digest.user
                if user is None:
                    unsent.append(f"Unassigned ({digest.counts}): nobody to email")
                elif not user.is_active:
                    unsent.append(f"{display_name(user)}: deactivated")
                elif not user.email:
                    unsent.append(f"{display_name(user)}: no email address")
                else:
                    try:
                        digest_email(digest, day, connection=connection).send()
                    except (smtplib.SMTPException, OSError) as exc:
                        failed.append(f"{display_name(user)}: {exc}")
                    else:
                        sent += 1
        finally:
            connection.close()
        self.stdout.write(self.style.SUCCESS(f"\nEmailed {plural(sent, 'digest')}."))
        for line in unsent:
            self.stdout.write(self.style.WARNING(f"Not emailed: {line}."))
        for line in failed:
            self.stderr.write(f"Sending failed: {line}")
        if failed:
            raise CommandError(f"{plural(len(failed), 'digest')} could not be sent (see above).")
