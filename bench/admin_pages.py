#!/usr/bin/env python
"""
Time the admin pages sales staff open most: the dashboard and each changelist (unfiltered,
filtered, searched, drilled down by date), as a manager and as a rep, against the database
in DATABASE_URL (load it first with ``manage.py bench_data``).

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/crm_dash \\
        .venv/bin/python manage.py bench_data --reset --leads 100000 --opportunities 50000 \\
        --customers 20000 --communications 100000
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/crm_dash .venv/bin/python bench/admin_pages.py

Each page is loaded once to warm up, then ``--repeat`` times through Django's test client
(the whole request: middleware, session, queries, template rendering); the median and the
worst time and the query count are printed. Nothing is written to the database.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "crm_project.settings")

import django

django.setup()

from django.contrib.auth import get_user_model  # noqa: E402
from django.db import connection  # noqa: E402
from django.test import Client  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402
from django.utils import timezone  # noqa: E402

YEAR = timezone.localdate().year
PAGES = [
    ("dashboard", "/admin/"),
    ("leads", "/admin/leads/lead/"),
    ("leads, page 100", "/admin/leads/lead/?p=100"),
    ("leads, status=new", "/admin/leads/lead/?status__exact=new"),
    ("leads, search", "/admin/leads/lead/?q=textiles"),
    ("leads, this year", f"/admin/leads/lead/?created_at__year={YEAR}"),
    ("opportunities", "/admin/opportunities/opportunity/"),
    ("opportunities, proposal", "/admin/opportunities/opportunity/?stage__exact=proposal"),
    ("customers", "/admin/customers/customer/"),
    ("communications", "/admin/communications/communication/"),
    ("communications, overdue", "/admin/communications/communication/?follow_up=overdue"),
    ("segments", "/admin/segments/segment/"),
]


def say(line: str) -> None:
    sys.stdout.write(line + "\n")


def measure(client: Client, url: str, repeat: int) -> tuple[float, float, int] | None:
    response = client.get(url)  # Warm-up (and a check that the page works).
    if response.status_code != 200:
        return None  # E.g. a page number past a rep's own records.
    timings = []
    for _ in range(repeat):
        started = time.perf_counter()
        client.get(url)
        timings.append((time.perf_counter() - started) * 1000)
    with CaptureQueriesContext(connection) as queries:
        client.get(url)
    return statistics.median(timings), max(timings), len(queries.captured_queries)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeat", type=int, default=10, help="Timed loads per page (default 10).")
    parser.add_argument("--manager", default="bench_manager")
    parser.add_argument("--rep", default="bench_rep_01")
    args = parser.parse_args()

    User = get_user_model()
    counts = {}
    with connection.cursor() as cursor:
        for table in ("leads_lead", "opportunities_opportunity", "customers_customer", "communications_communication"):
            cursor.execute(f"SELECT count(*) FROM {table}")
            counts[table] = cursor.fetchone()[0]
    say(f"{connection.vendor}, rows: " + ", ".join(f"{table} {count:,}" for table, count in counts.items()))
    say(f"{'page':<28} {'user':<14} {'median ms':>10} {'max ms':>8} {'queries':>8}")
    for username in (args.manager, args.rep):
        client = Client()
        client.force_login(User.objects.get(username=username))
        for name, url in PAGES:
            result = measure(client, url, args.repeat)
            if result is None:
                say(f"{name:<28} {username:<14} {'(no such page for this user)':>28}")
                continue
            median, worst, queries = result
            say(f"{name:<28} {username:<14} {median:>10.1f} {worst:>8.1f} {queries:>8}")


if __name__ == "__main__":
    main()
