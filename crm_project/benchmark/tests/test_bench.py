"""
The benchmark's tools: ``manage.py bench_data`` builds a consistent data set that the API
then works on, and the floor endpoint answers what the lead list answers, mounted only when
the benchmark setting is on.
"""

from __future__ import annotations

import io
import os
import subprocess
import sys
import uuid
from pathlib import Path

import orjson
import pytest
from django.apps import apps
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.db import connection
from django.db.models import Max
from django.test import RequestFactory

from communications.models import Communication
from crm_project.benchmark.urls import floor_leads
from customers.models import Customer
from leads.models import Lead, LeadStatus
from leads.services import lead_create
from leads.tests.factories import LeadFactory
from opportunities.models import Opportunity
from segments.models import Segment

ROOT = Path(__file__).resolve().parents[3]

# Everything but the check that the tools are absent without the setting needs them installed.
needs_the_benchmark_app = pytest.mark.skipif(
    not apps.is_installed("crm_project.benchmark"),
    reason="the benchmark app is installed only with CRM_BENCHMARK=1 (make test sets it)",
)

SIZES = {"customers": 40, "leads": 300, "opportunities": 200, "communications": 600}


def _bench_data(**overrides):
    options = {**SIZES, "reps": 3, "seed": 7, **overrides}
    out = io.StringIO()
    call_command("bench_data", stdout=out, stderr=io.StringIO(), **options)
    return out.getvalue()


@needs_the_benchmark_app
@pytest.mark.django_db(transaction=True)  # VACUUM runs outside any transaction on PostgreSQL.
def test_bench_data_builds_a_consistent_data_set():
    summary = _bench_data()

    assert "Loaded 40 customers, 300 leads, 200 opportunities, 600 communications" in summary
    assert Customer.objects.count() == 40
    assert Lead.objects.count() == 300
    assert Opportunity.objects.count() == 200
    assert Communication.objects.count() == 600
    # Every number is unique (a database constraint would have refused the load otherwise),
    # and the counters continue after them: the API's next lead gets a fresh number.
    numbers = set(Lead.objects.values_list("lead_number", flat=True))
    assert len(numbers) == 300
    manager = get_user_model().objects.get(username="bench_manager")
    after = lead_create(
        actor=manager, data={"company_name": "After", "contact_person": "A", "email": "after@x.example"}
    )
    assert after.lead_number not in numbers
    # Records refer only to what existed on their day.
    for opportunity in Opportunity.objects.exclude(lead=None).select_related("lead")[:50]:
        assert opportunity.lead.created_at.date() <= opportunity.created_at.date()
    # Derived values are true: a lead's last contact is its latest communication.
    latest = dict(
        Communication.objects.exclude(lead=None).values_list("lead").annotate(Max("communication_date")).order_by()
    )
    assert latest
    for lead in Lead.objects.filter(pk__in=list(latest)):
        assert lead.last_contacted_at == latest[lead.pk]
    assert not Lead.objects.exclude(pk__in=list(latest)).exclude(last_contacted_at=None).exists()
    # Converted leads name their customer.
    assert not Lead.objects.filter(status=LeadStatus.CONVERTED, converted_customer=None).exists()
    assert Segment.objects.filter(code__startswith="BENCH-").count() == 8


@needs_the_benchmark_app
@pytest.mark.django_db(transaction=True)
def test_the_same_seed_builds_the_same_records():
    _bench_data(seed=3)
    first = list(Lead.objects.order_by("lead_number").values_list("company_name", "status", "source"))
    _bench_data(seed=3, reset=True)
    second = list(Lead.objects.order_by("lead_number").values_list("company_name", "status", "source"))
    assert first == second
    assert Lead.objects.count() == 300  # --reset replaced, not added


@needs_the_benchmark_app
@pytest.mark.django_db(transaction=True)
def test_bench_data_keeps_the_indexes_and_foreign_keys_it_drops_while_loading():
    if connection.vendor != "postgresql":
        pytest.skip("the index and foreign-key juggling is PostgreSQL's")

    def schema():
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT indexname FROM pg_indexes WHERE schemaname = current_schema() "
                "UNION ALL SELECT conname FROM pg_constraint WHERE contype = 'f' ORDER BY 1"
            )
            return [name for (name,) in cursor.fetchall()]

    before = schema()
    _bench_data(leads=20, opportunities=10, communications=30, customers=5)
    assert schema() == before


@needs_the_benchmark_app
def test_bench_data_refuses_bad_sizes():
    from django.core.management.base import CommandError

    with pytest.raises(CommandError, match="--leads cannot be negative"):
        call_command("bench_data", leads=-1)
    with pytest.raises(CommandError, match="need customers"):
        call_command("bench_data", customers=0, opportunities=5)


# --- the floor ----------------------------------------------------------------------------------


def _without_the_benchmark_setting(*args: str) -> subprocess.CompletedProcess:
    env = {name: value for name, value in os.environ.items() if name != "CRM_BENCHMARK"}
    env["DATABASE_URL"] = "sqlite:////tmp/crm-benchmark-off.sqlite3"
    return subprocess.run(
        [sys.executable, *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120, check=False
    )


def test_without_the_benchmark_setting_neither_the_floor_nor_bench_data_exists():
    probe = (
        "import django; django.setup()\n"
        "from django.apps import apps; from django.urls import Resolver404, resolve\n"
        "print(apps.is_installed('crm_project.benchmark'))\n"
        "try:\n    resolve('/bench/floor/leads'); print('routed')\n"
        "except Resolver404:\n    print('not routed')\n"
    )
    settings_module = "import os; os.environ.setdefault('DJANGO_SETTINGS_MODULE', 'crm_project.settings')\n"
    result = _without_the_benchmark_setting("-c", settings_module + probe)
    assert result.stdout.split() == ["False", "not", "routed"], result.stderr
    command = _without_the_benchmark_setting("manage.py", "bench_data", "--help")
    assert command.returncode != 0
    assert "Unknown command: 'bench_data'" in command.stderr


def test_the_floor_answers_what_the_lead_list_answers(manager_client, rep):
    LeadFactory.create_batch(7, assigned_to=rep)
    LeadFactory.create_batch(3, assigned_to=None)
    api = manager_client.get("/api/v1/crm/leads", {"page_size": 4, "page": 2}).json()
    floor = orjson.loads(floor_leads(RequestFactory().get("/bench/floor/leads", {"page_size": 4, "page": 2})).content)

    assert {key: floor[key] for key in ("count", "page", "page_size", "total_pages")} == {
        key: api[key] for key in ("count", "page", "page_size", "total_pages")
    }
    # (SQLite keeps a UUID as 32 hex digits: the floor's raw SQL reads it back as such.)
    floor_ids = [str(uuid.UUID(lead["id"])) for lead in floor["results"]]
    assert floor_ids == [lead["id"] for lead in api["results"]]
    assert set(floor["results"][0]) == set(api["results"][0])
    by_id = {lead["id"]: lead for lead in api["results"]}
    for lead_id, lead in zip(floor_ids, floor["results"], strict=True):
        assert lead["assigned_to_name"] == by_id[lead_id]["assigned_to_name"]
