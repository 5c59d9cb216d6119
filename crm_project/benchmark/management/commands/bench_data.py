"""
``manage.py bench_data``: a realistic CRM data set at benchmark scale, fast.

    manage.py bench_data --reset --customers 100000 --leads 1000000 \\
        --opportunities 1000000 --communications 2000000 --seed 1

Records are spread over three years, busier lately; leads are worked by sales reps, some
converted; opportunities belong to customers and sometimes to a lead; communications concern a
customer, a lead or an opportunity that existed on their day, mostly logged by whoever owns it.
The same seed builds the same records (ids, numbers and "now"-relative dates aside).

On PostgreSQL it is built for speed:

- rows stream through ``COPY``, one table after another, generated in day order;
- while the tables load, their plain indexes and their foreign keys are dropped: an index is
  then rebuilt with one sort instead of a million insertions, and a foreign key is added back
  and validated by one join instead of a trigger firing for every copied row (half of COPY's
  time). It is plain DDL on the tables, so the tables' owner can run it; no superuser needed
  (``ALTER TABLE ... DISABLE TRIGGER ALL`` would need one for the foreign-key triggers);
- derived values (the customers' and leads' ``last_contacted_at``) are computed while
  generating, so no row is written twice;
- after the commit, ``VACUUM ANALYZE`` sets the visibility map (counts become index-only
  scans) and gives the planner fresh statistics.

The load is one transaction: an error leaves the database as it was. It locks the tables it
loads and the users table, so run it where nobody works meanwhile. On SQLite it falls back to
large ``bulk_create`` batches. Document numbers are reserved per day from the shared counters,
so numbers created afterwards by the API continue the sequences without a clash.
"""

from __future__ import annotations

import datetime as dt
import json
import random
import sys
import time
import uuid
from collections.abc import Iterable, Iterator
from decimal import Decimal
from itertools import accumulate

from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import make_password
from django.contrib.auth.models import Group
from django.core.management.base import BaseCommand, CommandError
from django.db import connection, models, transaction
from django.utils import timezone
from tqdm import tqdm

from communications.models import Communication, CommunicationDirection, CommunicationType
from crm_project.core.matching import match_keys
from crm_project.core.numbering import next_running_numbers, reserve_daily_numbers
from crm_project.core.roles import SALES_MANAGER, SALES_REP
from customers.models import CreditRating, Customer, OrderFrequency
from leads.models import Lead, LeadPriority, LeadSource, LeadStatus
from opportunities.models import (
    CLOSING_PROBABILITY,
    STAGE_FORECAST_CATEGORY,
    Opportunity,
    OpportunityStage,
    compute_expected_revenue,
)
from segments.models import Segment, SegmentMembership

HISTORY_DAYS = 3 * 365
BENCH_PASSWORD = "bench-password-2025"
# Segments for the bulk-assignment benchmark: one per concurrent client.
BENCH_SEGMENTS = 8

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
OPEN_LEAD_STATUSES = (LeadStatus.NEW, LeadStatus.CONTACTED, LeadStatus.QUALIFIED)

# The columns each table is written with, in the order its rows are generated. A test checks
# that they are exactly the model's columns, so a new field cannot be silently left out.
# Rows are written as tuples in each model's field order (its concrete columns), so a model's
# own definition is the one list of its columns: a field added to a model without a value in
# its rows below fails the load, it cannot shift the others silently.
TABLE_COLUMNS = {
    model: tuple(field.column for field in model._meta.concrete_fields)
    for model in (Customer, Lead, Opportunity, Communication)
}


def _weighted(rng: random.Random, weights: dict) -> list:
    """A pool of 1,000 choices in the given proportions: picking from it is one call."""
    pool = [value for value, weight in weights.items() for _ in range(weight)]
    return [rng.choice(pool) for _ in range(1000)]


def _progress(iterable: Iterable, *, total: int, label: str, unit: str = "row"):
    return tqdm(iterable, total=total, desc=f"{label:<15}", file=sys.stderr, unit=unit, mininterval=1.0)


# --- loading ---------------------------------------------------------------------------------


class Loader:
    """Writes rows of a model (COPY on PostgreSQL, bulk_create elsewhere), and the bulk-load set-up."""

    def __init__(self):
        self.postgres = connection.vendor == "postgresql"

    def load(self, model, rows: Iterable[tuple], total: int, label: str) -> None:
        rows = _progress(rows, total=total, label=label)
        if self.postgres:
            self._copy(model, rows)
        else:
            self._bulk_create(model, rows)

    def _copy(self, model, rows) -> None:
        columns = TABLE_COLUMNS[model]
        names = ", ".join(f'"{column}"' for column in columns)
        fields = {field.column: field for field in model._meta.concrete_fields}
        # JSON values travel as their text; every other value as psycopg adapts it.
        json_positions = [i for i, column in enumerate(columns) if isinstance(fields[column], models.JSONField)]
        sql = f"COPY {model._meta.db_table} ({names}) FROM STDIN"
        with connection.cursor() as cursor, cursor.cursor.copy(sql) as copy:
            for row in rows:
                if json_positions:
                    row = list(row)
                    for index in json_positions:
                        row[index] = json.dumps(row[index])
                copy.write_row(row)

    def _bulk_create(self, model, rows, batch_size: int = 2000) -> None:
        columns = TABLE_COLUMNS[model]  # Each column is its field's attname.
        batch = []
        for row in rows:
            batch.append(model(**dict(zip(columns, row, strict=True))))
            if len(batch) >= batch_size:
                model.objects.bulk_create(batch)
                batch = []
        if batch:
            model.objects.bulk_create(batch)

    def bulk_load(self, models_: list[type[models.Model]]):
        return _BulkLoad(self, models_)

    def vacuum_analyze(self, models_: list[type[models.Model]]) -> None:
        """Visibility map and statistics after the load (outside any transaction, as VACUUM must be)."""
        if not self.postgres:
            return
        with connection.cursor() as cursor:
            for model in _progress(models_, total=len(models_), label="vacuum analyze", unit="table"):
                cursor.execute(f"VACUUM (ANALYZE) {model._meta.db_table}")


class _BulkLoad:
    """
    Inside the load's transaction: drop the tables' plain (non-unique, non-primary) indexes and
    their foreign keys; on a clean exit rebuild the indexes, add the foreign keys back (each
    validated over the whole table) and analyse. Unique indexes stay: they are the checks.
    """

    def __init__(self, loader: Loader, models_):
        self.loader = loader
        self.tables = [model._meta.db_table for model in models_]
        self.indexes: list[tuple[str, str]] = []
        self.foreign_keys: list[tuple[str, str, str]] = []

    def __enter__(self):
        if not self.loader.postgres:
            return self
        with connection.cursor() as cursor:
            cursor.execute(
                """
                SELECT i.indexname, i.indexdef FROM pg_indexes i
                JOIN pg_class c ON c.relname = i.indexname AND c.relnamespace = to_regnamespace(i.schemaname)
                JOIN pg_index x ON x.indexrelid = c.oid
                WHERE i.schemaname = current_schema() AND i.tablename = ANY(%s)
                  AND NOT x.indisunique AND NOT x.indisprimary
                """,
                [self.tables],
            )
            self.indexes = cursor.fetchall()
            cursor.execute(
                """
                SELECT conrelid::regclass::text, conname, pg_get_constraintdef(oid) FROM pg_constraint
                WHERE contype = 'f' AND conrelid = ANY(%s::regclass[])
                """,
                [self.tables],
            )
            self.foreign_keys = cursor.fetchall()
            for table, name, _definition in self.foreign_keys:
                cursor.execute(f'ALTER TABLE {table} DROP CONSTRAINT "{name}"')
            for name, _definition in self.indexes:
                cursor.execute(f'DROP INDEX "{name}"')
        return self

    def __exit__(self, exc_type, exc, tb):
        if not self.loader.postgres or exc_type is not None:
            return False  # The transaction rolls the drops back.
        with connection.cursor() as cursor:
            cursor.execute("SET LOCAL maintenance_work_mem = '1GB'")
            for _name, definition in _progress(self.indexes, total=len(self.indexes), label="indexes", unit="index"):
                cursor.execute(definition)
            keys = _progress(self.foreign_keys, total=len(self.foreign_keys), label="foreign keys", unit="key")
            for table, name, definition in keys:
                cursor.execute(f'ALTER TABLE {table} ADD CONSTRAINT "{name}" {definition}')
        return False


# --- the command -----------------------------------------------------------------------------


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
        started = time.monotonic()
        self.rng = random.Random(opts["seed"])
        self.now = timezone.now()
        self.today = timezone.localdate(self.now)
        self.first_day = self.today - dt.timedelta(days=HISTORY_DAYS - 1)
        self.loader = Loader()
        if opts["reset"]:
            self._reset()
        self.reps = self._users(opts["reps"])

        crm_models = [Customer, Lead, Opportunity, Communication]
        with transaction.atomic(), self.loader.bulk_load(crm_models):
            self._plan(opts)
            self._opportunities()
            self._communications(opts["communications"])
            self._leads()
            self._customers()
        self._segments()
        self.loader.vacuum_analyze(crm_models)
        elapsed = time.monotonic() - started
        self.stdout.write(
            self.style.SUCCESS(
                f"Loaded {opts['customers']} customers, {opts['leads']} leads, {opts['opportunities']} opportunities, "
                f"{opts['communications']} communications in {elapsed // 60:.0f}m{elapsed % 60:02.0f}s; "
                f"users bench_manager and bench_rep_NN (password {BENCH_PASSWORD})."
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
        # One hash for all (hashing is slow by design, and they share the password).
        password = make_password(BENCH_PASSWORD)
        defaults = {"is_staff": True, "password": password}
        manager, _created = User.objects.get_or_create(username="bench_manager", defaults=defaults)
        manager.groups.add(Group.objects.get(name=SALES_MANAGER))
        reps = []
        rep_group = Group.objects.get(name=SALES_REP)
        for index in range(1, count + 1):
            rep, _created = User.objects.get_or_create(username=f"bench_rep_{index:02d}", defaults=defaults)
            rep.groups.add(rep_group)
            reps.append(rep.pk)
        self.manager_id = manager.pk
        return reps or [manager.pk]

    # --- dates -------------------------------------------------------------------------------

    def _daily_counts(self, total: int) -> list[int]:
        """``total`` records spread over the days of the history (index 0 is the first day), busier lately."""
        if total == 0:
            return [0] * HISTORY_DAYS
        weights = [1.0 + day / HISTORY_DAYS + self.rng.random() * 0.5 for day in range(HISTORY_DAYS)]
        scale = total / sum(weights)
        counts = [int(weight * scale) for weight in weights]
        for _ in range(total - sum(counts)):
            counts[self.rng.randrange(HISTORY_DAYS)] += 1
        return counts

    def _day(self, offset: int) -> dt.date:
        return self.first_day + dt.timedelta(days=offset)

    def _working_hours(self, offset: int) -> tuple[dt.datetime, int]:
        """When records of a day are made: from 08:00 for ten hours; today only up to now."""
        day = self._day(offset)
        if day == self.today:
            midnight = timezone.make_aware(dt.datetime.combine(day, dt.time.min))
            return midnight, max(1, int((self.now - midnight).total_seconds()))
        return timezone.make_aware(dt.datetime.combine(day, dt.time(8))), 36_000

    def _numbered(self, prefix: str, counts: list[int]) -> list[str]:
        """The document numbers of each day's records, in day order, reserved before the COPY
        starts (the connection can run no other statement while a COPY is open)."""
        numbers: list[str] = []
        for offset, count in enumerate(counts):
            if count:
                numbers.extend(reserve_daily_numbers(prefix, self._day(offset), count))
        return numbers

    # --- the plan: who refers to whom, drawn before any table is written ---------------------

    def _plan(self, opts) -> None:
        rng, reps = self.rng, self.reps
        self.customer_ids = [uuid.uuid4() for _ in range(opts["customers"])]
        self.account_managers = [rng.choice(reps) for _ in self.customer_ids]
        self.lead_days = self._daily_counts(opts["leads"])
        self.lead_ids = [uuid.uuid4() for _ in range(opts["leads"])]
        self.lead_assignees = [rng.choice(reps) if rng.random() > 0.1 else None for _ in self.lead_ids]
        # Leads (opportunities) created up to each day: what a record of that day may refer to.
        self.leads_by_day = list(accumulate(self.lead_days))
        self.opportunity_days = self._daily_counts(opts["opportunities"])
        self.opportunities_by_day = list(accumulate(self.opportunity_days))
        self.opportunity_ids = [uuid.uuid4() for _ in range(opts["opportunities"])]
        self.opportunity_customers: list[int] = []
        self.opportunity_owners: list[int] = []
        self.lead_last_contact: list[dt.datetime | None] = [None] * opts["leads"]
        self.customer_last_contact: list[dt.datetime | None] = [None] * opts["customers"]

    # --- tables ------------------------------------------------------------------------------

    def _opportunities(self) -> None:
        numbers = self._numbered("OPP", self.opportunity_days)
        stages = _weighted(self.rng, STAGE_WEIGHTS)
        customers, owners = self.opportunity_customers, self.opportunity_owners

        def rows() -> Iterator[tuple]:
            rng, reps, ids, customer_ids, lead_ids = (
                self.rng,
                self.reps,
                self.opportunity_ids,
                self.customer_ids,
                self.lead_ids,
            )
            index = 0
            for offset, count in enumerate(self.opportunity_days):
                start, span = self._working_hours(offset)
                leads_so_far = self.leads_by_day[offset]
                for _ in range(count):
                    customer, owner = rng.randrange(len(customer_ids)), rng.choice(reps)
                    customers.append(customer)
                    owners.append(owner)
                    created = start + dt.timedelta(seconds=rng.randrange(span))
                    stage = rng.choice(stages)
                    closed = stage in CLOSING_PROBABILITY
                    probability = CLOSING_PROBABILITY[stage] if closed else rng.choice([10, 20, 30, 50, 70, 85])
                    value = Decimal(rng.randrange(10_000, 2_000_000, 1_000))
                    closed_at = min(created + dt.timedelta(days=rng.randrange(5, 120)), self.now) if closed else None
                    lead = lead_ids[rng.randrange(leads_so_far)] if leads_so_far and rng.random() < 0.3 else None
                    yield (
                        ids[index],
                        created,
                        created,
                        numbers[index],
                        f"{rng.choice(['Summer', 'Winter', 'Festive', 'Uniform'])} order {index + 1}",
                        "Bulk order",
                        customer_ids[customer],
                        lead,
                        owner,
                        value,
                        probability,
                        compute_expected_revenue(value, probability),
                        created + dt.timedelta(days=rng.randrange(10, 180)),
                        closed_at,
                        stage,
                        STAGE_FORECAST_CATEGORY[stage],
                        False,
                        "",
                        None,
                        {"categories": ["Jackets"], "quantity": rng.randrange(50, 5000)},
                        "Price" if stage == OpportunityStage.CLOSED_LOST else "",
                        "",
                        self.manager_id,
                    )
                    index += 1

        self.loader.load(Opportunity, rows(), len(self.opportunity_ids), "opportunities")

    def _communications(self, total: int) -> None:
        """
        Each communication concerns a customer (half), a lead or an opportunity (a quarter each)
        that existed on its day, and is mostly logged by whoever works that record. The latest
        contact with each lead and customer is noted for their ``last_contacted_at``.
        """
        types, directions = CommunicationType.values, CommunicationDirection.values

        def rows() -> Iterator[tuple]:
            rng, reps = self.rng, self.reps
            customer_ids, lead_ids, opportunity_ids = self.customer_ids, self.lead_ids, self.opportunity_ids
            lead_last, customer_last = self.lead_last_contact, self.customer_last_contact
            for offset, count in enumerate(self._daily_counts(total)):
                start, span = self._working_hours(offset)
                leads_so_far, opportunities_so_far = self.leads_by_day[offset], self.opportunities_by_day[offset]
                for _ in range(count):
                    created = start + dt.timedelta(seconds=rng.randrange(span))
                    about = rng.random()
                    customer = lead = opportunity = worker = None
                    if about < 0.25 and leads_so_far:
                        index = rng.randrange(leads_so_far)
                        lead, worker = lead_ids[index], self.lead_assignees[index]
                        if lead_last[index] is None or created > lead_last[index]:
                            lead_last[index] = created
                    elif about < 0.5 and opportunities_so_far:
                        index = rng.randrange(opportunities_so_far)
                        opportunity, worker = opportunity_ids[index], self.opportunity_owners[index]
                        customer_index = self.opportunity_customers[index]
                    else:
                        customer_index = rng.randrange(len(customer_ids))
                        worker = self.account_managers[customer_index]
                    if lead is None:
                        customer = customer_ids[customer_index]
                        if customer_last[customer_index] is None or created > customer_last[customer_index]:
                            customer_last[customer_index] = created
                    representative = worker if worker is not None and rng.random() < 0.8 else rng.choice(reps)
                    follow_up = rng.random() < 0.2
                    due = created + dt.timedelta(days=rng.randrange(1, 14)) if follow_up else None
                    # Most follow-ups that fell due are done; the rest, and those ahead, are pending.
                    completed = follow_up and due < self.now and rng.random() < 0.85
                    yield (
                        uuid.uuid4(),
                        created,
                        created,
                        customer,
                        lead,
                        opportunity,
                        representative,
                        rng.choice(types),
                        rng.choice(directions),
                        rng.choice(SUBJECTS),
                        "Discussed requirements and quantities.",
                        f"{rng.choice(FIRST)} {rng.choice(LAST)}",
                        created,
                        rng.randrange(1, 90),
                        follow_up,
                        due,
                        completed,
                        due if completed else None,
                        [],
                        self.manager_id,
                    )

        self.loader.load(Communication, rows(), total, "communications")

    def _leads(self) -> None:
        numbers = self._numbered("LEAD", self.lead_days)
        statuses, sources, priorities = _weighted(self.rng, STATUS_WEIGHTS), LeadSource.values, LeadPriority.values
        has_customers = bool(self.customer_ids)

        def rows() -> Iterator[tuple]:
            rng, ids, customer_ids, now = self.rng, self.lead_ids, self.customer_ids, self.now
            index = 0
            for offset, count in enumerate(self.lead_days):
                start, span = self._working_hours(offset)
                for _ in range(count):
                    serial = index + 1
                    created = start + dt.timedelta(seconds=rng.randrange(span))
                    status = rng.choice(statuses)
                    if status == LeadStatus.CONVERTED and not has_customers:
                        status = LeadStatus.QUALIFIED
                    city, state, country = rng.choice(PLACES)
                    qualified = status in (LeadStatus.QUALIFIED, LeadStatus.CONVERTED)
                    converted = status == LeadStatus.CONVERTED
                    follow_up = None
                    if status in OPEN_LEAD_STATUSES and rng.random() < 0.6:
                        # From a month overdue to two months ahead: a few thousand due on any day.
                        follow_up = timezone.make_aware(
                            dt.datetime.combine(self.today, dt.time(8))
                            + dt.timedelta(days=rng.randrange(-30, 61), seconds=rng.randrange(36_000))
                        )
                    converted_at = min(created + dt.timedelta(days=rng.randrange(1, 90)), now) if converted else None
                    name = f"{rng.choice(PREFIXES)} {rng.choice(NOUNS)} {rng.choice(SUFFIXES)} {serial}"
                    industry = rng.choice(INDUSTRIES)
                    size = rng.choice(["1-10", "10-50", "50-100", "100-500", "500+"])
                    contact = f"{rng.choice(FIRST)} {rng.choice(LAST)}"
                    email, phone = f"contact{serial}@lead{serial}.example", f"+91 99{rng.randrange(10**8):08d}"
                    yield (
                        ids[index],
                        created,
                        created,
                        numbers[index],
                        name,
                        industry,
                        size,
                        "",
                        contact,
                        "Purchasing Manager",
                        email,
                        phone,
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
                        self.lead_assignees[index],
                        follow_up,
                        self.lead_last_contact[index],
                        customer_ids[rng.randrange(len(customer_ids))] if converted else None,
                        converted_at,
                        self.manager_id,
                        # The duplicate-matching keys, as the lead services keep them.
                        *match_keys(company_name=name, email=email, phone=phone).values(),
                    )
                    index += 1

        self.loader.load(Lead, rows(), len(self.lead_ids), "leads")

    def _customers(self) -> None:
        total = len(self.customer_ids)
        codes = next_running_numbers("CUST", total) if total else []
        ratings, frequencies = CreditRating.values, OrderFrequency.values

        def rows() -> Iterator[tuple]:
            rng = self.rng
            for index, (pk, code) in enumerate(zip(self.customer_ids, codes, strict=True)):
                serial = index + 1
                city, state, country = rng.choice(PLACES)
                created = self.now - dt.timedelta(days=rng.randrange(HISTORY_DAYS), seconds=rng.randrange(86400))
                name = f"{rng.choice(PREFIXES)} {rng.choice(NOUNS)} {rng.choice(SUFFIXES)} {serial}"
                industry = rng.choice(INDUSTRIES)
                contact = f"{rng.choice(FIRST)} {rng.choice(LAST)}"
                email, phone = f"buyer{serial}@customer{serial}.example", f"+91 98{rng.randrange(10**8):08d}"
                yield (
                    pk,
                    created,
                    created,
                    code,
                    name,
                    industry,
                    contact,
                    email,
                    phone,
                    "",
                    "",
                    city,
                    state,
                    country,
                    rng.choice(ratings),
                    rng.choice(["Net 30", "Net 45", "Net 60"]),
                    Decimal(rng.randrange(10_000, 5_000_000, 500)),
                    rng.choice(frequencies),
                    self.account_managers[index],
                    rng.random() > 0.05,
                    self.customer_last_contact[index],
                    self.manager_id,
                    # The duplicate-matching keys, as the customer services keep them.
                    *match_keys(company_name=name, email=email, phone=phone).values(),
                )

        self.loader.load(Customer, rows(), total, "customers")

    def _segments(self) -> None:
        specs = [
            ("HVC", "High Value Customers", {"min_annual_spend": 2_000_000}),
            ("MONTHLY", "Monthly buyers", {"order_frequency": "monthly"}),
            ("GULF", "Gulf region", {"country": "UAE"}),
            *((f"BENCH-{n}", f"Benchmark bulk target {n}", {}) for n in range(1, BENCH_SEGMENTS + 1)),
        ]
        for code, name, criteria in specs:
            Segment.objects.get_or_create(code=code, defaults={"name": name, "criteria": criteria})
