"""
What a large merge costs (``bench/run --merge``; see bench/README.md).

A duplicate customer holding 1,000 communications (each with its history entry), 100
opportunities, 5 converted leads and 3 segment memberships (one shared with the survivor) is
merged into a survivor through the API (``POST /api/v1/crm/customers/{id}/merge``, Django's
test client in-process: no network), then the merge is undone through the API (``POST
/api/v1/crm/merges/{id}/undo``), which brings the duplicate and everything back. Each round
has a new pair (made unmeasured: a customer is merged once, not the same rows back and forth),
and one unmeasured round warms the process up first. Both are timed each round; reported:
p50, p95 and max over the rounds, and the target (the merge ≤ 1 s). Every round checks that
the merge moved everything and the undo moved it all back.

The database is a scratch one (``--database``), migrated here, with ``--customers`` other
customers and ten communications each around the pair (the tables a merge updates are not
empty); it is reused when it holds them already.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import platform
import statistics
import sys
import time
import uuid
from pathlib import Path

from inprocess import ensure_database, say, setup_django, write_section

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_DATABASE = "postgres://postgres@127.0.0.1:5432/crm_bench_merge"
RESULTS = ROOT / "bench" / "RESULTS.md"
# Its section of RESULTS.md, between these lines; a full ``bench/run`` keeps it.
MERGE_SECTION = ("<!-- bench/run --merge: begin -->", "<!-- bench/run --merge: end -->")
SECTION_START, SECTION_END = MERGE_SECTION
COMMUNICATIONS, OPPORTUNITIES, CONVERTED_LEADS = 1_000, 100, 5
TARGET_SECONDS = 1.0


def load_background(customers: int) -> None:
    """Other customers, ten communications each: the tables a merge reads and updates are not empty."""
    from communications.models import Communication
    from crm_project.core.services import bulk_insert
    from customers.models import Customer

    have = Customer.objects.filter(customer_code__startswith="CUST-BG").count()
    if have >= customers:
        return
    say(f"Loading {customers:,} background customers and {customers * 10:,} communications…")
    now = dt.datetime.now(dt.UTC)
    for start in range(have, customers, 10_000):
        batch = [
            Customer(customer_code=f"CUST-BG{n:07d}", company_name=f"Background buyer {n}")
            for n in range(start, min(start + 10_000, customers))
        ]
        bulk_insert(batch)
        bulk_insert(
            [
                Communication(customer_id=customer.pk, subject=f"Call {k}", communication_date=now)
                for customer in batch
                for k in range(10)
            ]
        )


def make_pair(manager):
    """The survivor, and the duplicate with everything a large merge moves."""
    from communications.models import Communication
    from crm_project.core import history
    from crm_project.core.services import bulk_insert
    from customers.models import Customer
    from leads.models import Lead, LeadStatus
    from opportunities.models import Opportunity
    from segments.models import Segment, SegmentMembership

    tag = uuid.uuid4().hex[:8]
    survivor = Customer.objects.create(customer_code=f"CUST-S{tag}", company_name="Lotus Retail Pvt Ltd")
    duplicate = Customer.objects.create(
        customer_code=f"CUST-D{tag}", company_name="Lotus Retail", phone="+91 98450 12345"
    )
    now = dt.datetime.now(dt.UTC)
    opportunities = [
        Opportunity(
            opportunity_number=f"OPP-{tag}-{n:04d}",
            name=f"Deal {n}",
            customer_id=duplicate.pk,
            estimated_value=1000,
            owner=manager,
        )
        for n in range(OPPORTUNITIES)
    ]
    bulk_insert(opportunities)
    communications = [
        Communication(
            customer_id=duplicate.pk,
            opportunity_id=opportunities[n % OPPORTUNITIES].pk if n % 2 else None,
            subject=f"Call {n}",
            communication_date=now - dt.timedelta(minutes=n),
            our_representative=manager,
        )
        for n in range(COMMUNICATIONS)
    ]
    bulk_insert(communications)
    leads = [
        Lead(
            lead_number=f"LEAD-{tag}-{n}",
            company_name="Lotus Retail",
            contact_person="Asha",
            email=f"asha{n}.{tag}@lotus.example",
            status=LeadStatus.CONVERTED,
            converted_customer_id=duplicate.pk,
            converted_at=now,
        )
        for n in range(CONVERTED_LEADS)
    ]
    bulk_insert(leads)
    history.record_changes(
        [
            history.entry(
                record_type="communication", record_id=c.pk, action="created", actor=manager, customer_id=duplicate.pk
            )
            for c in communications
        ]
        + [
            history.entry(
                record_type="opportunity", record_id=o.pk, action="created", actor=manager, customer_id=duplicate.pk
            )
            for o in opportunities
        ]
    )
    segments = [Segment.objects.create(name=f"Bench {tag} {n}", code=f"B{tag}{n}") for n in range(3)]
    SegmentMembership.objects.create(segment=segments[0], customer=survivor)
    for segment in segments:
        SegmentMembership.objects.create(segment=segment, customer=duplicate)
    return survivor, duplicate


def measure(manager, rounds: int) -> tuple[list[float], list[float]]:
    from rest_framework.test import APIClient

    from communications.models import Communication
    from customers.models import Customer
    from opportunities.models import Opportunity

    client = APIClient()
    client.force_authenticate(manager)
    merges, undos = [], []
    for n in range(-1, rounds):  # Round -1 warms up (imports, first queries), unmeasured.
        # A new pair each round: a customer is merged once, not the same rows back and forth.
        survivor, duplicate = make_pair(manager)
        started = time.perf_counter()
        response = client.post(
            f"/api/v1/crm/customers/{survivor.pk}/merge",
            {"duplicate_ids": [str(duplicate.pk)], "fields": {"phone": str(duplicate.pk)}},
            format="json",
        )
        merged = time.perf_counter() - started
        assert response.status_code == 200, response.content
        assert Communication.objects.filter(customer_id=survivor.pk).count() == COMMUNICATIONS
        assert Opportunity.objects.filter(customer_id=survivor.pk).count() == OPPORTUNITIES
        started = time.perf_counter()
        undone = client.post(f"/api/v1/crm/merges/{response['X-CRM-Merge']}/undo")
        unmerged = time.perf_counter() - started
        assert undone.status_code == 200, undone.content
        assert Customer.objects.filter(pk=duplicate.pk).exists()
        assert Communication.objects.filter(customer_id=duplicate.pk).count() == COMMUNICATIONS
        if n < 0:
            continue
        merges.append(merged)
        undos.append(unmerged)
        say(f"  round {n + 1}: merge {merged * 1000:.0f} ms, undo {unmerged * 1000:.0f} ms")
    return merges, undos


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(fraction * (len(ordered) - 1)))]


def report(args, merges, undos, elapsed: float) -> str:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SHOW server_version")
        server = cursor.fetchone()[0]

    def row(name, values):
        return (
            f"| {name} | {len(values)} | {statistics.median(values) * 1000:.0f} | "
            f"{percentile(values, 0.95) * 1000:.0f} | {max(values) * 1000:.0f} |"
        )

    p95 = percentile(merges, 0.95)
    met = "met" if p95 <= TARGET_SECONDS else "**missed**"
    return "\n".join(
        [
            SECTION_START,
            "",
            "## A large merge, and its undo (`bench/run --merge`)",
            "",
            f"Measured {dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M} UTC on {platform.node() or 'this host'} "
            f"({os.cpu_count()} CPUs), PostgreSQL {server}, in {elapsed:.0f} s: "
            f"`bench/run --merge --rounds {args.rounds} --customers {args.customers}`.",
            "",
            f"A duplicate customer holding {COMMUNICATIONS:,} communications (each with its history entry), "
            f"{OPPORTUNITIES} opportunities, {CONVERTED_LEADS} converted leads and 3 segment memberships "
            f"(one shared with the survivor) merged into a survivor, taking its phone, through the API "
            "(in-process test client, no network; a new pair each round, one unmeasured warm-up round first), "
            f"among {args.customers:,} other customers with "
            f"{args.customers * 10:,} communications; then undone through the API. Each round checks what moved.",
            "",
            "| operation | rounds | p50 ms | p95 ms | max ms |",
            "|---|---|---|---|---|",
            row("merge (POST /customers/{id}/merge)", merges),
            row("undo (POST /merges/{id}/undo)", undos),
            "",
            f"- {met}: the merge of a customer holding {COMMUNICATIONS:,} communications and {OPPORTUNITIES} "
            f"opportunities: p95 {p95 * 1000:.0f} ms (≤ {TARGET_SECONDS * 1000:.0f})",
            "",
            SECTION_END,
        ]
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="bench/run --merge", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--database", default=DEFAULT_DATABASE)
    parser.add_argument("--rounds", type=int, default=10, help="merges (each followed by its undo)")
    parser.add_argument("--customers", type=int, default=100_000, help="background customers")
    parser.add_argument("--output", type=Path, default=RESULTS)
    args = parser.parse_args(argv)
    started = time.monotonic()
    ensure_database(args.database)
    setup_django(args.database, name="merge")

    from django.contrib.auth import get_user_model
    from django.contrib.auth.models import Group
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    load_background(args.customers)
    users = get_user_model()
    manager, _ = users.objects.get_or_create(username="merge_bench_manager", defaults={"first_name": "Bench"})
    manager.groups.add(Group.objects.get(name="sales_manager"))
    from django.db import connection

    connection.ensure_connection()
    connection.connection.autocommit = True  # VACUUM runs outside a transaction.
    with connection.cursor() as cursor:
        # The background rows were just written: settle them (visibility map, statistics) first,
        # so that autovacuum does not do it in the middle of the measurement.
        cursor.execute("VACUUM ANALYZE")
        cursor.execute("CHECKPOINT")
    say("Merging…")
    merges, undos = measure(manager, args.rounds)
    section = report(args, merges, undos, time.monotonic() - started)
    write_section(args.output, section, MERGE_SECTION)
    say(section)
    say(f"Written to {args.output}")
    return 0 if "**missed**" not in section else 1


if __name__ == "__main__":
    sys.exit(main())
