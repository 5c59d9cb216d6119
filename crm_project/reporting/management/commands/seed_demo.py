"""``manage.py seed_demo [--size N]``: demo users for each role and demo records of every domain."""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from crm_project.core.roles import SALES_MANAGER, SALES_REP
from crm_project.reporting.demo import DemoContext, communications, customers, leads, opportunities, segments

# (username, password, role or None for a superuser, first name, last name)
DEMO_USERS = [
    ("admin", "admin-demo-2025", None, "Asha", "Admin"),
    ("manager", "manager-demo-2025", SALES_MANAGER, "Meera", "Manager"),
    ("rep1", "rep1-demo-2025", SALES_REP, "Ravi", "Rep"),
    ("rep2", "rep2-demo-2025", SALES_REP, "Riya", "Rep"),
]


def _demo_steps():
    # Order matters: leads convert into customers, opportunities need customers, etc.
    return [customers, leads, opportunities, communications, segments]


class Command(BaseCommand):
    help = (
        "Create demo users (one per role; their passwords are printed) and demo customers, leads, "
        "opportunities, communications and segments. Safe to run again: it only tops up."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--size", type=int, default=1, help="Scale factor: 1 gives a few hundred records (default 1)."
        )

    def handle(self, *args, size: int, **options):
        if size < 1:
            raise CommandError("--size must be at least 1.")
        users = self._ensure_users()
        ctx = DemoContext(
            admin=users["admin"], manager=users["manager"], reps=[users["rep1"], users["rep2"]], size=size
        )
        for step in _demo_steps():
            # One transaction per domain (each service call inside is a savepoint): a commit per
            # call made SQLite sync the file hundreds of times, most of the command's time.
            with transaction.atomic():
                summary = step.seed(ctx)
            if summary:
                self.stdout.write(f"  {summary}")
        self.stdout.write(self.style.SUCCESS("Demo data ready. Sign in with:"))
        for username, password, role, _first, _last in DEMO_USERS:
            self.stdout.write(f"  {username:<8} / {password:<18} ({role or 'superuser'})")

    @transaction.atomic
    def _ensure_users(self) -> dict:
        User = get_user_model()
        users = {}
        for username, password, role, first_name, last_name in DEMO_USERS:
            user, created = User.objects.get_or_create(
                username=username,
                defaults={
                    "email": f"{username}@demo.example",
                    "first_name": first_name,
                    "last_name": last_name,
                    "is_staff": True,
                    "is_superuser": role is None,
                },
            )
            if created:
                user.set_password(password)
                user.save(update_fields=["password"])
            if role:
                user.groups.add(Group.objects.get(name=role))
            users[username] = user
        return users
