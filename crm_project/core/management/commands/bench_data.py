"""
``manage.py bench_data``: a realistic CRM data set at benchmark scale, fast.

On PostgreSQL rows stream through ``COPY`` with the tables' secondary indexes dropped during
the load and rebuilt after it (one sort per index instead of millions of insertions), then
the tables are analysed. On SQLite it falls back to large ``bulk_create`` batches. Document
numbers are reserved per day from the shared counters, so numbers created afterwards by the
API continue the sequences without a clash.
"""

from __future__ import annotations

import datetime as dt
import json
import random
import sys
import uuid
from collections.abc import Iterable, Iterator
from decimal import Decimal

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.management.base import BaseCommand, CommandError
from django.db import connection, models, transaction
from django.utils import timezone
from tqdm import tqdm

from communications.models import Communication, CommunicationDirection, CommunicationType
from crm_project.core.numbering import next_running_numbers, reserve_daily_numbers
from crm_project.core.roles import SALES_MANAGER, SALES_REP
from customers.models import CreditRating, Customer, OrderFrequency
from leads.models import Lead, LeadPriority, LeadSource, LeadStatus
from opportunities.models import (
    CLOSING_PROBABILITY,
    Opportunity,
    OpportunityStage,
    compute_expected_revenue,
)
from segments.models import Segment, SegmentMembership

HISTORY_DAYS = 3 * 365
BENCH_PASSWORD = "bench-password-2025"

PREFIXES = [
    "Alpha",
    "Blue",
    "Coastal",
    "Delta",
    "Evergreen",
    "Fashion",
    "Golden",
    "Harbor",
    "Indigo",
    "Jade",
    "Kingfisher",
    "Lotus",
    "Metro",
    "Northern",
    "Orchid",
    "Prime",
    "Royal",
    "Sapphire",
    "Tiger",
    "Urban",
]
NOUNS = [
    "Apparel",
    "Garments",
    "Textiles",
    "Uniforms",
    "Knitwear",
    "Fabrics",
    "Clothing",
    "Outfitters",
    "Threads",
    "Retail",
    "Workwear",
    "Fashions",
    "Stores",
    "Traders",
    "Exports",
]
SUFFIXES = ["Ltd", "Pvt Ltd", "LLP", "& Co", "Group", "Enterprises", "Industries", "International"]
FIRST = ["Anil", "Priya", "John", "Fatima", "Li", "Ravi", "Meera", "Arjun", "Sara", "Vikram", "Neha", "Omar"]
LAST = ["Kumar", "Shah", "Mathew", "Khan", "Wei", "Patel", "Iyer", "Singh", "Fernandes", "Das", "Rao", "Gupta"]
PLACES = [
    ("Mumbai", "Maharashtra", "India"),
    ("Bengaluru", "Karnataka", "India"),
    ("Chennai", "Tamil Nadu", "India"),
    ("Delhi", "Delhi", "India"),
    ("Surat", "Gujarat", "India"),
    ("Kolkata", "West Bengal", "India"),
    ("Dubai", "Dubai", "UAE"),
    ("Dhaka", "Dhaka", "Bangladesh"),
    ("Colombo", "Western", "Sri Lanka"),
]
INDUSTRIES = ["Retail", "Corporate uniforms", "Hospitality", "Healthcare", "Education", "Security", "Sports"]
SUBJECTS = [
    "Follow-up on bulk order inquiry",
    "Quotation for winter collection",
    "Sample feedback",
    "Delivery schedule",
    "Payment terms discussion",
    "New catalogue walkthrough",
    "Reorder reminder",
]

STATUS_WEIGHTS = {
    LeadStatus.NEW: 30,
    LeadStatus.CONTACTED: 25,
    LeadStatus.QUALIFIED: 15,
    LeadStatus.CONVERTED: 15,
    LeadStatus.LOST: 15,
}
STAGE_WEIGHTS = {
    OpportunityStage.PROSPECTING: 20,
    OpportunityStage.QUALIFICATION: 15,
    OpportunityStage.NEEDS_ANALYSIS: 12,
    OpportunityStage.PROPOSAL: 12,
    OpportunityStage.NEGOTIATION: 8,
    OpportunityStage.CLOSED_WON: 18,
    OpportunityStage.CLOSED_LOST: 15,
}


def _weighted(rng: random.Random, weights: dict) -> list:
    """A pool of 1,000 choices in the given proportions: picking from it is one call."""
    pool = [value for value, weight in weights.items() for _ in range(weight)]
    return [rng.choice(pool) for _ in range(1000)]


class Loader:
    """Writes rows of a model: COPY on PostgreSQL, bulk_create elsewhere."""

    def __init__(self, stderr):
        self.postgres = connection.vendor == "postgresql"
        self.stderr = stderr

    def columns(self, model) -> list[str]:
        return [field.column for field in model._meta.concrete_fields]

    def load(self, model, rows: Iterable[tuple], total: int, label: str) -> None:
        rows = tqdm(rows, total=total, desc=label, file=sys.stderr, unit="row", mininterval=1.0)
        if self.postgres:
            self._copy(model, rows)
        else:
            self._bulk_create(model, rows)

    def _copy(self, model, rows) -> None:
        table = model._meta.db_table
        columns = ", ".join(f'"{column}"' for column in self.columns(model))
        # JSON values travel as their text; every other value as psycopg adapts it.
        json_positions = [
            index for index, field in enumerate(model._meta.concrete_fields) if isinstance(field, models.JSONField)
        ]
        with connection.cursor() as cursor, cursor.cursor.copy(f"COPY {table} ({columns}) FROM STDIN") as copy:
            for row in rows:
                if json_positions:
                    row = list(row)
                    for index in json_positions:
                        row[index] = json.dumps(row[index])
                copy.write_row(row)

    def _bulk_create(self, model, rows, batch_size: int = 2000) -> None:
        attnames = [field.attname for field in model._meta.concrete_fields]
        batch = []
        for row in rows:
            batch.append(model(**dict(zip(attnames, row, strict=True))))
            if len(batch) >= batch_size:
                model.objects.bulk_create(batch)
                batch = []
        if batch:
            model.objects.bulk_create(batch)

    def without_secondary_indexes(self, models_: list[type[models.Model]]):
        return _IndexesDropped(self, models_)


class _IndexesDropped:
    """Drop plain (non-unique, non-primary) indexes for the load; recreate them afterwards."""

    def __init__(self, loader: Loader, models_):
        self.loader = loader
        self.tables = [model._meta.db_table for model in models_]
        self.definitions: list[tuple[str, str]] = []

    def __enter__(self):
        if not self.loader.postgres:
            return self
        with connection.cursor() as cursor:
            cursor.execute(
                """
                SELECT i.indexname, i.indexdef FROM pg_indexes i
                JOIN pg_class c ON c.relname = i.indexname
                JOIN pg_index x ON x.indexrelid = c.oid
                WHERE i.tablename = ANY(%s) AND NOT x.indisunique AND NOT x.indisprimary
                """,
                [self.tables],
            )
            self.definitions = cursor.fetchall()
            for name, _definition in self.definitions:
                cursor.execute(f'DROP INDEX IF EXISTS "{name}"')
        return self

    def __exit__(self, exc_type, exc, tb):
        if not self.loader.postgres or exc_type is not None:
            return False
        with connection.cursor() as cursor:
            cursor.execute("SET maintenance_work_mem = '512MB'")
            for _name, definition in tqdm(self.definitions, desc="indexes", file=sys.stderr, unit="index"):
                cursor.execute(definition)
            for table in self.tables:
                cursor.execute(f"ANALYZE {table}")
        return False


class Command(BaseCommand):
    help = (
        "Build a realistic benchmark data set fast (PostgreSQL COPY; bulk inserts on SQLite): sales users, "
        "customers, leads, opportunities, communications and a few segments, spread over three years."
    )

    def add_arguments(self, parser):
        parser.add_argument("--leads", type=int, default=10_000)
        parser.add_argument("--opportunities", type=int, default=10_000)
        parser.add_argument("--customers", type=int, default=5_000)
        parser.add_argument("--communications", type=int, default=20_000)
        parser.add_argument("--reps", type=int, default=20, help="Sales reps to spread records over (default 20).")
        parser.add_argument("--seed", type=int, default=1, help="Random seed: the same seed builds the same data.")
        parser.add_argument(
            "--reset", action="store_true", help="Delete every CRM record first (users and groups are kept)."
        )

    def handle(self, *args, **opts):
        for name in ("leads", "opportunities", "customers", "communications", "reps"):
            if opts[name] < 0:
                raise CommandError(f"--{name} cannot be negative.")
        if opts["customers"] == 0 and (opts["opportunities"] or opts["communications"]):
            raise CommandError("Opportunities and communications need customers: give --customers.")
        self.rng = random.Random(opts["seed"])
        self.now = timezone.now()
        self.loader = Loader(self.stderr)
        if opts["reset"]:
            self._reset()
        self.reps = self._users(opts["reps"])

        with transaction.atomic():
            if connection.vendor == "postgresql":
                # Check foreign keys row by row during COPY rather than at commit: an index
                # cannot be rebuilt on a table with foreign-key checks still pending.
                with connection.cursor() as cursor:
                    cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
            customer_ids = self._customers(opts["customers"])
            lead_ids = self._leads(opts["leads"], customer_ids)
            opportunities = self._opportunities(opts["opportunities"], customer_ids, lead_ids)
            self._communications(opts["communications"], customer_ids, lead_ids, opportunities)
            self._segments(customer_ids)
        self.stdout.write(
            self.style.SUCCESS(
                f"Loaded {opts['customers']} customers, {opts['leads']} leads, {opts['opportunities']} opportunities, "
                f"{opts['communications']} communications; users bench_manager and bench_rep_NN "
                f"(password {BENCH_PASSWORD})."
            )
        )

    # --- set-up ------------------------------------------------------------------------------

    def _reset(self) -> None:
        crm_models = [SegmentMembership, Segment, Communication, Opportunity, Lead, Customer]
        if connection.vendor == "postgresql":
            tables = ", ".join(model._meta.db_table for model in crm_models)
            with connection.cursor() as cursor:
                cursor.execute(f"TRUNCATE {tables} CASCADE")
                cursor.execute("DELETE FROM core_dailysequence WHERE prefix IN ('LEAD', 'OPP', 'CUST')")
        else:
            for model in crm_models:
                model.objects.all()._raw_delete(connection.alias)
            from crm_project.core.models import DailySequence

            DailySequence.objects.filter(prefix__in=["LEAD", "OPP", "CUST"]).delete()

    def _users(self, count: int) -> list:
        User = get_user_model()
        manager, created = User.objects.get_or_create(username="bench_manager", defaults={"is_staff": True})
        if created:
            manager.set_password(BENCH_PASSWORD)
            manager.save()
        manager.groups.add(Group.objects.get(name=SALES_MANAGER))
        reps = []
        rep_group = Group.objects.get(name=SALES_REP)
        for index in range(1, count + 1):
            rep, created = User.objects.get_or_create(username=f"bench_rep_{index:02d}", defaults={"is_staff": True})
            if created:
                rep.set_password(BENCH_PASSWORD)
                rep.save()
            rep.groups.add(rep_group)
            reps.append(rep.pk)
        self.manager_id = manager.pk
        return reps or [manager.pk]

    # --- helpers -----------------------------------------------------------------------------

    def _company(self) -> str:
        rng = self.rng
        return f"{rng.choice(PREFIXES)} {rng.choice(NOUNS)} {rng.choice(SUFFIXES)}"

    def _person(self) -> str:
        return f"{self.rng.choice(FIRST)} {self.rng.choice(LAST)}"

    def _days_per_count(self, total: int) -> Iterator[tuple[dt.date, int]]:
        """Spread ``total`` records over the last three years, busier on recent days."""
        if total == 0:
            return
        today = timezone.localdate()
        weights = [1.0 + day / HISTORY_DAYS + self.rng.random() * 0.5 for day in range(HISTORY_DAYS)]
        scale = total / sum(weights)
        counts = [int(weight * scale) for weight in weights]
        for _ in range(total - sum(counts)):
            counts[self.rng.randrange(HISTORY_DAYS)] += 1
        for offset, count in enumerate(counts):
            if count:
                yield today - dt.timedelta(days=HISTORY_DAYS - 1 - offset), count

    def _numbered_days(self, prefix: str, total: int) -> list[tuple[dt.date, list[str]]]:
        """Each day's share of ``total`` with its document numbers, reserved before the COPY
        starts (the connection can run no other statement while a COPY is open)."""
        return [(day, reserve_daily_numbers(prefix, day, count)) for day, count in self._days_per_count(total)]

    def _moment(self, day: dt.date) -> dt.datetime:
        moment = timezone.make_aware(
            dt.datetime.combine(day, dt.time(8)) + dt.timedelta(seconds=self.rng.randrange(36000))
        )
        return min(moment, self.now)

    # --- tables ------------------------------------------------------------------------------

    def _customers(self, total: int) -> list[uuid.UUID]:
        codes = next_running_numbers("CUST", total) if total else []
        ids = [uuid.uuid4() for _ in range(total)]
        ratings, frequencies = CreditRating.values, OrderFrequency.values

        def rows():
            rng = self.rng
            for index, (pk, code) in enumerate(zip(ids, codes, strict=True)):
                city, state, country = rng.choice(PLACES)
                created = self.now - dt.timedelta(days=rng.randrange(HISTORY_DAYS), seconds=rng.randrange(86400))
                yield (
                    pk,
                    created,
                    created,
                    code,
                    f"{self._company()} {index + 1}",
                    rng.choice(INDUSTRIES),
                    self._person(),
                    f"buyer{index + 1}@customer{index + 1}.example",
                    f"+91 98{rng.randrange(10**8):08d}",
                    "",
                    "",
                    city,
                    state,
                    country,
                    rng.choice(ratings),
                    rng.choice(["Net 30", "Net 45", "Net 60"]),
                    Decimal(rng.randrange(10_000, 5_000_000, 500)),
                    rng.choice(frequencies),
                    rng.choice(self.reps),
                    rng.random() > 0.05,
                    None,
                    self.manager_id,
                )

        with self.loader.without_secondary_indexes([Customer]):
            self.loader.load(Customer, rows(), total, "customers")
        return ids

    def _leads(self, total: int, customer_ids: list[uuid.UUID]) -> list[uuid.UUID]:
        ids: list[uuid.UUID] = []
        statuses, sources = _weighted(self.rng, STATUS_WEIGHTS), LeadSource.values
        priorities = LeadPriority.values
        today = timezone.localdate()
        numbered_days = self._numbered_days("LEAD", total)

        def rows():
            rng = self.rng
            serial = 0
            for day, numbers in numbered_days:
                for number in numbers:
                    serial += 1
                    pk = uuid.uuid4()
                    ids.append(pk)
                    created = self._moment(day)
                    status = rng.choice(statuses)
                    if status == LeadStatus.CONVERTED and not customer_ids:
                        status = LeadStatus.QUALIFIED
                    city, state, country = rng.choice(PLACES)
                    qualified = status in (LeadStatus.QUALIFIED, LeadStatus.CONVERTED)
                    converted = status == LeadStatus.CONVERTED
                    follow_up = None
                    if status in (LeadStatus.NEW, LeadStatus.CONTACTED, LeadStatus.QUALIFIED) and rng.random() < 0.6:
                        # Some due today, some overdue, most ahead.
                        follow_up = self._moment(today + dt.timedelta(days=rng.choice([0, 0, -1, -3, 1, 2, 5, 10, 20])))
                        if follow_up < self.now - dt.timedelta(days=30):
                            follow_up = None
                    converted_at = created + dt.timedelta(days=rng.randrange(1, 90)) if converted else None
                    if converted_at and converted_at > self.now:
                        converted_at = self.now
                    yield (
                        pk,
                        created,
                        created,
                        number,
                        f"{self._company()} {serial}",
                        rng.choice(INDUSTRIES),
                        rng.choice(["1-10", "10-50", "50-100", "100-500", "500+"]),
                        "",
                        self._person(),
                        "Purchasing Manager",
                        f"contact{serial}@lead{serial}.example",
                        f"+91 99{rng.randrange(10**8):08d}",
                        city,
                        state,
                        country,
                        rng.choice(sources),
                        status,
                        rng.choice(priorities),
                        Decimal(rng.randrange(5_000, 500_000, 100)),
                        "Bulk garments",
                        "",
                        rng.randrange(40, 101) if qualified else None,
                        qualified,
                        created if qualified else None,
                        rng.choice(self.reps) if rng.random() > 0.1 else None,
                        follow_up,
                        None,
                        rng.choice(customer_ids) if converted else None,
                        converted_at,
                        self.manager_id,
                    )

        with self.loader.without_secondary_indexes([Lead]):
            self.loader.load(Lead, rows(), total, "leads")
        return ids

    def _opportunities(self, total, customer_ids, lead_ids) -> list[tuple[uuid.UUID, uuid.UUID, int]]:
        opportunities: list[tuple[uuid.UUID, uuid.UUID, int]] = []
        stages = _weighted(self.rng, STAGE_WEIGHTS)
        numbered_days = self._numbered_days("OPP", total)

        def rows():
            rng = self.rng
            serial = 0
            for day, numbers in numbered_days:
                for number in numbers:
                    serial += 1
                    pk, customer, owner = uuid.uuid4(), rng.choice(customer_ids), rng.choice(self.reps)
                    opportunities.append((pk, customer, owner))
                    created = self._moment(day)
                    stage = rng.choice(stages)
                    closed = stage in CLOSING_PROBABILITY
                    probability = CLOSING_PROBABILITY[stage] if closed else rng.choice([10, 20, 30, 50, 70, 85])
                    value = Decimal(rng.randrange(10_000, 2_000_000, 1_000))
                    closed_at = min(created + dt.timedelta(days=rng.randrange(5, 120)), self.now) if closed else None
                    yield (
                        pk,
                        created,
                        created,
                        number,
                        f"{rng.choice(['Summer', 'Winter', 'Festive', 'Uniform'])} order {serial}",
                        "Bulk order",
                        customer,
                        rng.choice(lead_ids) if lead_ids and rng.random() < 0.3 else None,
                        owner,
                        value,
                        probability,
                        compute_expected_revenue(value, probability),
                        created + dt.timedelta(days=rng.randrange(10, 180)),
                        closed_at,
                        stage,
                        "",
                        None,
                        {"categories": ["Jackets"], "quantity": rng.randrange(50, 5000)},
                        "Price" if stage == OpportunityStage.CLOSED_LOST else "",
                        "",
                        self.manager_id,
                    )

        with self.loader.without_secondary_indexes([Opportunity]):
            self.loader.load(Opportunity, rows(), total, "opportunities")
        return opportunities

    def _communications(self, total, customer_ids, lead_ids, opportunities) -> None:
        types, directions = CommunicationType.values, CommunicationDirection.values

        def rows():
            rng = self.rng
            for day, count in self._days_per_count(total):
                for _ in range(count):
                    created = self._moment(day)
                    about = rng.random()
                    customer = lead = opportunity = None
                    if about < 0.5 or not (lead_ids or opportunities):
                        customer = rng.choice(customer_ids)
                    elif about < 0.75 and lead_ids:
                        lead = rng.choice(lead_ids)
                    else:
                        opportunity, customer, _owner = rng.choice(opportunities)
                    follow_up = rng.random() < 0.2
                    completed = follow_up and rng.random() < 0.6
                    due = created + dt.timedelta(days=rng.randrange(1, 14)) if follow_up else None
                    yield (
                        uuid.uuid4(),
                        created,
                        created,
                        customer,
                        lead,
                        opportunity,
                        rng.choice(self.reps),
                        rng.choice(types),
                        rng.choice(directions),
                        rng.choice(SUBJECTS),
                        "Discussed requirements and quantities.",
                        self._person(),
                        created,
                        rng.randrange(1, 90),
                        follow_up,
                        due,
                        completed,
                        due if completed else None,
                        [],
                        self.manager_id,
                    )

        with self.loader.without_secondary_indexes([Communication]):
            self.loader.load(Communication, rows(), total, "communications")
        self._update_last_contacted()

    def _update_last_contacted(self) -> None:
        """Customers' and leads' last_contacted_at from the loaded communications, in two statements."""
        for model, column in ((Customer, "customer_id"), (Lead, "lead_id")):
            table = model._meta.db_table
            comm_table = Communication._meta.db_table
            with connection.cursor() as cursor:
                cursor.execute(
                    f"""
                    UPDATE {table} SET last_contacted_at = latest.at
                    FROM (SELECT {column} AS id, MAX(communication_date) AS at FROM {comm_table}
                          WHERE {column} IS NOT NULL GROUP BY {column}) AS latest
                    WHERE {table}.id = latest.id
                    """
                )

    def _segments(self, customer_ids) -> None:
        specs = [
            ("HVC", "High Value Customers", {"min_annual_spend": 2_000_000}),
            ("MONTHLY", "Monthly buyers", {"order_frequency": "monthly"}),
            ("GULF", "Gulf region", {"country": "UAE"}),
            ("BENCH", "Benchmark bulk target", {}),
        ]
        for code, name, criteria in specs:
            Segment.objects.get_or_create(code=code, defaults={"name": name, "criteria": criteria})
