"""
What history and the webhook outbox cost (``bench/run --history``; see bench/README.md).

1. Writes. Lead creation and an opportunity stage change, through the services on PostgreSQL,
   one transaction each as the API makes them, in three variants measured in interleaved
   rounds (the machine is shared: the median round is reported):
   - "bare": history and events switched off (patched out: the cost floor);
   - "history": as in production with no subscription (one history row per change);
   - "history + 1 subscription": also the outbox (the event row; its delivery is written after
     the commit, by the hand-over) and the announcement to a real Redis broker (no worker drains
     it: the web's cost only).
   Reported: changes per second, p50/p95 per change, and each variant's rate as a share of the
   "history" variant (the target: one subscription keeps ≥ 85% of it) and of bare.
2. The customer timeline at 1M history rows: 1,000,000 entries spread over 100,000 customers,
   and one customer with 10,000 events (7,000 history entries of the customer, its leads and
   its opportunities, and 3,000 communications). Requests through Django's test client
   in-process (no network): the first page, pages deep in the stream by cursor, each item
   type alone, and as a sales rep (the visibility subqueries); p50/p95/p99.

The database is a scratch one (``--database``), migrated here; it is reused when it already
holds the 1M rows.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import os
import platform
import sys
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from unittest import mock

from inprocess import ensure_database, percentile_ms, say, setup_django, write_section

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_DATABASE = "postgres://postgres@127.0.0.1:5432/crm_bench_history"
REDIS_URL = "redis://127.0.0.1:6379/0"
HISTORY_ROWS = 1_000_000
OTHER_CUSTOMERS = 100_000
TIMELINE_HISTORY = 7_000
TIMELINE_COMMUNICATIONS = 3_000
RESULTS = ROOT / "bench" / "RESULTS.md"
# Its section of RESULTS.md, between these lines; a full ``bench/run`` keeps it.
HISTORY_SECTION = ("<!-- bench/run --history: begin -->", "<!-- bench/run --history: end -->")
SECTION_START, SECTION_END = HISTORY_SECTION


# --- measuring -----------------------------------------------------------------------------------


@dataclass
class Run:
    variant: str
    seconds: list[float]

    @property
    def rate(self) -> float:
        return len(self.seconds) / sum(self.seconds)

    def percentile(self, fraction: float) -> float:
        ordered = sorted(self.seconds)
        return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))] * 1000


def timed(calls) -> list[float]:
    seconds = []
    for call in calls:
        started = time.perf_counter()
        call()
        seconds.append(time.perf_counter() - started)
    return seconds


@contextlib.contextmanager
def variant(name: str, subscription_url: str):
    """Switch history and events off ("bare"), or add one subscription to everything."""
    from crm_project.core import changes, history
    from crm_project.core.models import WebhookSubscription

    subscription = None
    with contextlib.ExitStack() as stack:
        if name == "bare":
            stack.enter_context(mock.patch.object(history, "record_change", lambda **kwargs: None))
            stack.enter_context(mock.patch.object(changes, "emit", lambda *args, **kwargs: None))
        elif name == "history + 1 subscription":
            subscription = WebhookSubscription.objects.create(url=subscription_url, events=["*"], secret="whsec_bench")
        try:
            yield
        finally:
            if subscription is not None:
                subscription.delete()


VARIANTS = ["bare", "history", "history + 1 subscription"]


def measure_writes(manager, *, changes: int, rounds: int) -> dict[str, dict[str, list[Run]]]:
    from customers.services import customer_create
    from leads.services import lead_create
    from opportunities.models import Opportunity
    from opportunities.services import opportunity_create, opportunity_update

    customer = customer_create(actor=manager, data={"company_name": "Bench Mills"})
    deals = [
        opportunity_create(actor=manager, data={"name": f"Deal {n}", "customer": customer, "estimated_value": 1000})
        for n in range(changes)
    ]
    runs: dict[str, dict[str, list[Run]]] = {"lead creation": {}, "opportunity stage change": {}}
    stages = ["qualification", "proposal"]
    for round_number in range(rounds):
        # A different variant first in each round: none always gets the warm (or the cold) slot.
        order = VARIANTS[round_number % 3 :] + VARIANTS[: round_number % 3]
        for name in order:
            tag = uuid.uuid4().hex[:8]
            stage = stages[(round_number * 3 + order.index(name)) % 2]
            with variant(name, "https://receiver.example.com/hooks/crm"):
                lead_calls = [
                    (
                        lambda n=n, tag=tag: lead_create(
                            actor=manager,
                            data={
                                "company_name": f"Bench Lead {tag} {n}",
                                "contact_person": "Buyer",
                                "email": f"buyer{n}.{tag}@bench.example",
                            },
                        )
                    )
                    for n in range(changes)
                ]
                runs["lead creation"].setdefault(name, []).append(Run(name, timed(lead_calls)))
                deal_calls = [
                    (
                        lambda deal=deal, stage=stage: opportunity_update(
                            actor=manager, opportunity=deal, data={"stage": stage}
                        )
                    )
                    for deal in Opportunity.objects.filter(pk__in=[d.pk for d in deals])
                ]
                runs["opportunity stage change"].setdefault(name, []).append(Run(name, timed(deal_calls)))
            say(f"  round {round_number + 1}: {name} done")
    return runs


# --- the timeline at 1M rows ------------------------------------------------------------------------


def load_history(customer_id: uuid.UUID, rep_lead_ids: list, rep_deal_ids: list) -> None:
    """1M history rows over 100,000 other customers, and the customer's own 7,000 (by SQL: seconds)."""
    from django.db import connection

    from crm_project.core.models import HistoryEntry

    table = HistoryEntry._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT count(*) FROM {table}")
        if cursor.fetchone()[0] >= HISTORY_ROWS:
            return
        cursor.execute(
            f"""
            INSERT INTO {table}
                (at, record_type, record_id, customer_id, action, actor_name, source, request_id, changes)
            SELECT now() - (n % 1000000) * interval '30 seconds',
                   (ARRAY['customer','lead','opportunity','communication'])[1 + n % 4],
                   md5('record' || (n % 400000))::uuid,
                   md5('customer' || (n % {OTHER_CUSTOMERS}))::uuid,
                   (ARRAY['updated','created','stage_changed'])[1 + n % 3],
                   'Bench', 'api', '',
                   jsonb_build_object('city', jsonb_build_array('Old ' || n, 'New ' || n))
            FROM generate_series(1, {HISTORY_ROWS - TIMELINE_HISTORY}) AS n
            """
        )
    own = []
    now = dt.datetime.now(dt.UTC)
    records = (
        [("customer", customer_id)]
        + [("lead", pk) for pk in rep_lead_ids]
        + [("opportunity", pk) for pk in rep_deal_ids]
    )
    for n in range(TIMELINE_HISTORY):
        record_type, record_id = records[n % len(records)] if n % 3 else ("opportunity", uuid.uuid4())
        own.append(
            HistoryEntry(
                at=now - dt.timedelta(minutes=n * 7),
                record_type=record_type,
                record_id=record_id,
                customer_id=customer_id,
                action="stage_changed" if record_type == "opportunity" else "updated",
                actor_name="Bench",
                source="api",
                changes={"stage": ["prospecting", "proposal"]}
                if record_type == "opportunity"
                else {"city": ["A", "B"]},
            )
        )
    HistoryEntry.objects.bulk_create(own, batch_size=2000)


def prepare_timeline(manager, rep):
    from django.db import connection

    from communications.models import Communication
    from customers.models import Customer
    from customers.services import customer_create
    from leads.models import Lead
    from opportunities.models import Opportunity

    customer = Customer.objects.filter(company_name="Timeline Textiles").first()
    if customer is None:
        customer = customer_create(actor=manager, data={"company_name": "Timeline Textiles"})
        leads = Lead.objects.bulk_create(
            Lead(
                lead_number=f"LEAD-HB-{n:05d}",
                company_name="Timeline Textiles",
                contact_person="Buyer",
                email=f"timeline{n}@bench.example",
                assigned_to=rep,
            )
            for n in range(20)
        )
        deals = Opportunity.objects.bulk_create(
            Opportunity(
                opportunity_number=f"OPP-HB-{n:05d}",
                name=f"Timeline deal {n}",
                customer=customer,
                owner=rep,
                estimated_value=1000,
                probability=10,
            )
            for n in range(20)
        )
        now = dt.datetime.now(dt.UTC)
        Communication.objects.bulk_create(
            (
                Communication(
                    customer=customer,
                    type="phone",
                    direction="outbound",
                    subject=f"Call {n}",
                    communication_date=now - dt.timedelta(minutes=n * 23),
                    our_representative=rep if n % 2 else manager,
                )
                for n in range(TIMELINE_COMMUNICATIONS)
            ),
            batch_size=1000,
        )
        load_history(customer.pk, [lead.pk for lead in leads], [deal.pk for deal in deals])
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")
    return customer


def measure_timeline(customer, manager, rep, *, requests: int) -> list[tuple[str, list[float]]]:
    from rest_framework.test import APIClient

    def client_for(user):
        client = APIClient()
        client.force_authenticate(user)
        return client

    as_manager, as_rep = client_for(manager), client_for(rep)
    url = f"/api/v1/crm/customers/{customer.pk}/timeline"

    def deep_cursor(client, depth: int, page_size: int = 200) -> str:
        cursor, seen = None, 0
        while seen < depth:
            response = client.get(url, {"page_size": page_size, **({"cursor": cursor} if cursor else {})})
            seen += len(response.json()["results"])
            cursor = response.json()["next_cursor"]
        return cursor

    cases = [
        ("first page (50 items)", as_manager, {"page_size": 50}),
        ("first page (200 items)", as_manager, {"page_size": 200}),
        ("page at item 5,000 by cursor", as_manager, {"page_size": 50, "cursor": deep_cursor(as_manager, 5000)}),
        ("page at item 9,000 by cursor", as_manager, {"page_size": 50, "cursor": deep_cursor(as_manager, 9000)}),
        ("?types=change", as_manager, {"page_size": 50, "types": "change"}),
        ("?types=communication", as_manager, {"page_size": 50, "types": "communication"}),
        ("first page as a sales rep", as_rep, {"page_size": 50}),
    ]
    results = []
    for name, client, params in cases:
        for _ in range(5):  # warm-up
            client.get(url, params)
        seconds = []
        for _ in range(requests):
            started = time.perf_counter()
            response = client.get(url, params)
            seconds.append(time.perf_counter() - started)
            assert response.status_code == 200, response.content[:300]
        results.append((name, seconds))
        say(f"  timeline: {name} done")
    return results


# --- the report -----------------------------------------------------------------------------------


def median_run(runs: list[Run]) -> Run:
    return sorted(runs, key=lambda run: run.rate)[len(runs) // 2]


def report(args, writes, timeline, took: float, broker: str) -> str:
    from django.db import connection

    from crm_project.core.models import HistoryEntry

    lines = [
        SECTION_START,
        "## History and webhooks: what they cost (`bench/run --history`)",
        "",
        f"Run on {dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M} UTC ({took / 60:.0f} minutes). "
        f"Machine: {os.cpu_count()} cores, "
        f"{platform.platform()}; PostgreSQL {connection.pg_version // 10000}, Python {platform.python_version()}. "
        f"History table: {HistoryEntry.objects.count():,} rows.",
        "",
        f"Writes: {args.changes:,} changes per variant and round, one transaction each, through the services "
        f"(as the API calls them), {args.rounds} interleaved rounds; the median round by rate is shown. "
        f"Bare: history and events patched out. With a subscription: the event row, and the "
        f"hand-over to {broker} after each commit.",
        "",
        "| change | variant | changes/s | p50 ms | p95 ms | vs no subscription | vs bare | rounds (changes/s) |",
        "|---|---|---:|---:|---:|---:|---:|---|",
    ]
    verdicts = []
    for change, by_variant in writes.items():
        bare = median_run(by_variant["bare"]).rate
        unsubscribed = median_run(by_variant["history"]).rate
        for name in VARIANTS:
            run = median_run(by_variant[name])
            rounds = ", ".join(f"{r.rate:.0f}" for r in by_variant[name])
            lines.append(
                f"| {change} | {name} | {run.rate:.0f} | {run.percentile(0.5):.1f} | {run.percentile(0.95):.1f} "
                f"| {run.rate / unsubscribed:.0%} | {run.rate / bare:.0%} | {rounds} |"
            )
            if change == "lead creation" and name == "history + 1 subscription":
                share = run.rate / unsubscribed
                verdicts.append(
                    f"- Lead creation with history and one subscription at ≥ 85% of its rate without a "
                    f"subscription: **{share:.0%}** ({'met' if share >= 0.85 else 'missed'}); "
                    f"{run.rate / bare:.0%} of its rate with history and events switched off."
                )
    lines += [
        "",
        f"Timeline: one customer with {TIMELINE_HISTORY:,} history entries and {TIMELINE_COMMUNICATIONS:,} "
        f"communications among {HistoryEntry.objects.count():,} history rows; {args.requests} requests per row "
        "through Django's test client in-process (no network; authentication forced), after 5 unmeasured.",
        "",
        "| timeline request | p50 ms | p95 ms | p99 ms |",
        "|---|---:|---:|---:|",
    ]
    worst = 0.0
    for name, seconds in timeline:
        p95 = percentile_ms(seconds, 0.95)
        worst = max(worst, p95)
        lines.append(f"| {name} | {percentile_ms(seconds, 0.5):.1f} | {p95:.1f} | {percentile_ms(seconds, 0.99):.1f} |")
    verdicts.append(f"- Timeline p95 ≤ 50 ms: worst row **{worst:.1f} ms** ({'met' if worst <= 50 else 'missed'}).")
    lines += ["", "Targets:", "", *verdicts, SECTION_END]
    return "\n".join(lines) + "\n"


@contextlib.contextmanager
def broker_queue():
    """The real Redis as broker on a throwaway queue, or no broker when Redis is not there."""
    import redis
    from django.conf import settings

    try:
        client = redis.Redis.from_url(REDIS_URL, socket_connect_timeout=1)
        client.ping()
    except (ImportError, OSError, redis.RedisError):
        # Without a broker, the hand-over would deliver in-process: leave it out, and say so.
        from crm_project.core.webhooks import events

        with mock.patch.object(events, "dispatch", lambda ids: None):
            yield "nothing (no Redis here: the hand-over is left out)"
        return
    queue = f"bench-history-{uuid.uuid4().hex[:8]}"
    settings.CELERY_BROKER_URL = REDIS_URL
    settings.CELERY_TASK_DEFAULT_QUEUE = queue
    try:
        yield "a real Redis broker"
    finally:
        client.delete(queue)
        settings.CELERY_BROKER_URL = ""


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="bench/run --history", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--database", default=DEFAULT_DATABASE)
    parser.add_argument("--changes", type=int, default=1000, help="changes per variant and round")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--requests", type=int, default=200, help="timeline requests per row")
    parser.add_argument("--output", type=Path, default=RESULTS)
    args = parser.parse_args(argv)
    started = time.monotonic()
    ensure_database(args.database)
    setup_django(args.database, name="history")

    from django.contrib.auth import get_user_model
    from django.contrib.auth.models import Group
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    users = get_user_model()
    manager, _ = users.objects.get_or_create(username="history_bench_manager", defaults={"first_name": "Bench"})
    manager.groups.add(Group.objects.get(name="sales_manager"))
    rep, _ = users.objects.get_or_create(username="history_bench_rep", defaults={"first_name": "Rep"})
    rep.groups.add(Group.objects.get(name="sales_rep"))

    say("Writes…")
    with broker_queue() as broker:
        writes = measure_writes(manager, changes=args.changes, rounds=args.rounds)
    say("Timeline…")
    customer = prepare_timeline(manager, rep)
    timeline = measure_timeline(customer, manager, rep, requests=args.requests)
    section = report(args, writes, timeline, time.monotonic() - started, broker)
    write_section(args.output, section, HISTORY_SECTION)
    say(section)
    say(f"Written to {args.output}")
    return 0 if "(missed)" not in section else 1


if __name__ == "__main__":
    sys.exit(main())
