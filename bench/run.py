"""
The performance benchmark (``bench/run``; see bench/README.md).

Against a database loaded by ``manage.py bench_data``, it starts gunicorn with production
settings (plus the benchmark-only floor endpoint), measures every scenario with wrk at 1 and
at 8 concurrent clients (bulk assignment with a Python client, as each request needs fresh
ids), counts the SQL queries of one request of each scenario in-process, and writes
``bench/RESULTS.md``: requests per second, p50/p95/p99, queries per request, each list's
ratio to the floor, and every target of the performance issue, met or missed.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import http.client
import json
import os
import platform
import random
import secrets
import shutil
import socket
import subprocess
import sys
import threading
import time
import urllib.parse
from dataclasses import dataclass, field
from pathlib import Path

from duplicates_bench import DUPLICATES_SECTION
from history_bench import HISTORY_SECTION
from merge_bench import MERGE_SECTION

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
WRK_SCRIPT = ROOT / "bench" / "wrk" / "report.lua"
API = "/api/v1/crm"
PASSWORD = "bench-password-2025"  # bench_data's users


@dataclass
class Scenario:
    name: str
    path: str
    query: dict = field(default_factory=dict)
    user: str = "bench_manager"
    kind: str = "list"  # list (ratio to the floor), read, floor, create, bulk
    target_p95_ms: float | None = None  # at 1 client
    note: str = ""

    @property
    def url(self) -> str:
        return self.path + ("?" + urllib.parse.urlencode(self.query) if self.query else "")


@dataclass
class Result:
    scenario: Scenario
    clients: int
    requests: int
    seconds: float
    p50: float
    p95: float
    p99: float
    statuses: dict
    queries: int | None = None

    @property
    def rps(self) -> float:
        return self.requests / self.seconds if self.seconds else 0.0

    @property
    def failed(self) -> int:
        return sum(count for status, count in self.statuses.items() if not str(status).startswith("2"))


# --- set-up ------------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def server_env(args) -> dict:
    env = dict(os.environ)
    env.update(
        DATABASE_URL=args.database,
        DJANGO_DEBUG="0",
        DJANGO_SECRET_KEY="bench-" + secrets.token_urlsafe(32),
        DJANGO_ALLOWED_HOSTS="127.0.0.1,localhost,testserver",
        DJANGO_SECURE_SSL_REDIRECT="0",
        CRM_BENCHMARK="1",
        # The benchmark measures the API, not its throttle.
        API_USER_RATE="100000000/min",
        AUTH_RATE_PER_IP="100000000/min",
        AUTH_RATE_PER_USERNAME="100000000/min",
        LOG_LEVEL="WARNING",
    )
    return env


@contextlib.contextmanager
def redis_server(enabled: bool):
    """A private Redis for the shared cache (the throttle's counts), as production would run."""
    if not enabled or not shutil.which("redis-server"):
        yield None
        return
    port = free_port()
    process = subprocess.Popen(
        ["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
        stdout=subprocess.DEVNULL,
    )
    try:
        for _ in range(50):
            with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), timeout=0.2):
                break
            time.sleep(0.1)
        yield f"redis://127.0.0.1:{port}/0"
    finally:
        process.terminate()
        process.wait()


@contextlib.contextmanager
def gunicorn(env: dict, workers: int, log: Path):
    port = free_port()
    command = [
        str(BIN / "gunicorn"),
        "crm_project.wsgi",
        "--workers",
        str(workers),
        "--bind",
        f"127.0.0.1:{port}",
        "--backlog",
        "256",
        "--error-logfile",
        "-",
    ]
    with log.open("w") as output:
        process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=output, stderr=subprocess.STDOUT)
        try:
            for _ in range(120):
                with contextlib.suppress(OSError):
                    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
                    connection.request("GET", "/health")
                    if connection.getresponse().status == 200:
                        break
                if process.poll() is not None:
                    raise SystemExit(f"gunicorn exited; see {log}")
                time.sleep(0.5)
            yield port
        finally:
            process.terminate()
            process.wait()


def call(port: int, method: str, url: str, token: str | None = None, body=None) -> tuple[int, dict | list | None]:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    headers = {"Content-Type": "application/json"}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    connection.request(method, url, body=json.dumps(body) if body is not None else None, headers=headers)
    response = connection.getresponse()
    raw = response.read()
    return response.status, json.loads(raw) if raw else None


def sign_in(port: int, username: str) -> str:
    status, body = call(port, "POST", "/api/v1/auth/token", body={"username": username, "password": PASSWORD})
    if status != 200:
        raise SystemExit(f"cannot sign in as {username} ({status}): was the database loaded by bench_data?")
    return body["access"]


# --- measuring -----------------------------------------------------------------------------------


def wrk_command(port: int, scenario: Scenario, token: str | None, clients: int, seconds: float) -> list[str]:
    command = [
        "wrk",
        f"-t{min(clients, 2)}",
        f"-c{clients}",
        f"-d{round(seconds)}s",
        "--timeout",
        "30s",
        "-s",
        str(WRK_SCRIPT),
    ]
    if token:
        command += ["-H", f"Authorization: Bearer {token}"]
    command.append(f"http://127.0.0.1:{port}{scenario.url}")
    return command


def wrk_result(output: str, scenario: Scenario, clients: int) -> Result:
    """The result in wrk's output (the line that ``bench/wrk/report.lua`` writes)."""
    line = next(line for line in output.splitlines() if line.startswith("BENCH_REPORT "))
    report = json.loads(line.removeprefix("BENCH_REPORT "))
    statuses = dict(report["statuses"])
    if report["errors"] or report["timeouts"]:
        statuses["socket errors"] = report["errors"] + report["timeouts"]
    return Result(
        scenario=scenario,
        clients=clients,
        requests=report["requests"],
        seconds=report["duration_us"] / 1e6,
        p50=report["p50_us"] / 1000,
        p95=report["p95_us"] / 1000,
        p99=report["p99_us"] / 1000,
        statuses=statuses,
    )


def run_wrk(port: int, scenario: Scenario, token: str | None, clients: int, seconds: float, body: str | None = None):
    env = dict(os.environ, BENCH_RUN_ID=secrets.token_hex(4))
    if body:
        env.update(BENCH_METHOD="POST", BENCH_BODY=body)
    command = wrk_command(port, scenario, token, clients, seconds)
    output = subprocess.run(command, env=env, capture_output=True, text=True, check=True).stdout
    return wrk_result(output, scenario, clients)


def percentile(sorted_values: list[float], fraction: float) -> float:
    if not sorted_values:
        return 0.0
    index = min(len(sorted_values) - 1, max(0, round(fraction * len(sorted_values)) - 1))
    return sorted_values[index]


def run_bulk(port, scenario, token, clients, seconds, segment_ids, customer_ids, size):
    """Each client assigns ``size`` random customers to its own segment (timed), then removes them."""
    latencies: list[float] = []
    statuses: dict = {}
    lock = threading.Lock()
    deadline = time.monotonic() + seconds
    assign = scenario.name.startswith("bulk assign")

    def client(segment_id, seed):
        rng = random.Random(seed)
        while time.monotonic() < deadline:
            ids = rng.sample(customer_ids, size)
            started = time.perf_counter()
            status, _ = call(
                port, "POST", f"{API}/segments/{segment_id}/assign-customers", token, {"customer_ids": ids}
            )
            assigned = time.perf_counter()
            status_removed, _ = call(port, "POST", f"{API}/segments/{segment_id}/remove-customers", token, ids)
            removed = time.perf_counter()
            with lock:
                latencies.append((assigned - started) if assign else (removed - assigned))
                key = str(status if assign else status_removed)
                statuses[key] = statuses.get(key, 0) + 1

    started = time.monotonic()
    threads = [threading.Thread(target=client, args=(segment_ids[n], n)) for n in range(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.monotonic() - started
    latencies.sort()
    return Result(
        scenario=scenario,
        clients=clients,
        requests=len(latencies),
        # Each assignment is followed by its removal: the rate counts pairs.
        seconds=elapsed,
        p50=percentile(latencies, 0.50) * 1000,
        p95=percentile(latencies, 0.95) * 1000,
        p99=percentile(latencies, 0.99) * 1000,
        statuses=statuses,
    )


class QueryCounter:
    """One request of a scenario through Django's test client, in this process: its SQL queries."""

    def __init__(self, env: dict):
        os.environ.update(env)  # The server's settings, floor endpoint included.
        os.environ.setdefault("DJANGO_SETTINGS_MODULE", "crm_project.settings")
        sys.path.insert(0, str(ROOT))
        import django

        django.setup()
        from django.db import connection
        from django.test import Client
        from django.test.utils import CaptureQueriesContext

        self.connection, self.capture = connection, CaptureQueriesContext
        self.client = Client()

    def count(self, method: str, url: str, token: str | None, body=None) -> tuple[int, int]:
        headers = {"HTTP_AUTHORIZATION": f"Bearer {token}"} if token else {}
        with self.capture(self.connection) as captured:
            if method == "GET":
                response = self.client.get(url, **headers)
            else:
                response = self.client.post(url, data=json.dumps(body), content_type="application/json", **headers)
        return response.status_code, len(captured.captured_queries)


# --- the run -------------------------------------------------------------------------------------


def database_facts() -> dict:
    from django.db import connection

    with connection.cursor() as cursor:
        # Earlier runs' lead creations leave pages that autovacuum has not reached yet: start
        # every run from the same settled state (fresh visibility map and statistics).
        for table in ("leads_lead", "opportunities_opportunity", "communications_communication"):
            cursor.execute(f"VACUUM (ANALYZE) {table}")
        facts = {}
        for table in ("customers_customer", "leads_lead", "opportunities_opportunity", "communications_communication"):
            cursor.execute(f"SELECT COUNT(*) FROM {table}")
            facts[table] = cursor.fetchone()[0]
        cursor.execute("SHOW server_version")
        facts["postgres"] = cursor.fetchone()[0]
        cursor.execute("SELECT id FROM auth_user WHERE username = 'bench_rep_01'")
        facts["rep_id"] = cursor.fetchone()[0]
        # A customer with an average history, a lead's email for a selective search.
        cursor.execute(
            "SELECT customer_id FROM communications_communication WHERE customer_id IS NOT NULL "
            "GROUP BY customer_id ORDER BY COUNT(*) DESC OFFSET 5000 LIMIT 1"
        )
        facts["customer_id"] = str(cursor.fetchone()[0])
        cursor.execute("SELECT email FROM leads_lead ORDER BY lead_number OFFSET 123456 LIMIT 1")
        facts["lead_email"] = cursor.fetchone()[0]
        cursor.execute("SELECT id::text FROM customers_customer")
        facts["customer_ids"] = [row[0] for row in cursor.fetchall()]
        cursor.execute("SELECT id FROM segments_segment WHERE code LIKE 'BENCH-%%' ORDER BY code")
        facts["segment_ids"] = [row[0] for row in cursor.fetchall()]
    return facts


def add_months(month: dt.date, count: int) -> dt.date:
    index = month.year * 12 + month.month - 1 + count
    return dt.date(index // 12, index % 12 + 1, 1)


def scenarios(facts: dict, today: dt.date) -> list[Scenario]:
    month_ago = (today - dt.timedelta(days=30)).isoformat()
    leads, opps, comms = f"{API}/leads", f"{API}/opportunities", f"{API}/communications"
    first_page = {"page_size": 50}
    filtered = 50.0
    return [
        Scenario("floor: raw SQL + orjson", "/bench/floor/leads", first_page, user="", kind="floor"),
        Scenario("lead list, first page", leads, first_page, target_p95_ms=100.0),
        Scenario("lead list ?status=contacted", leads, {**first_page, "status": "contacted"}, target_p95_ms=filtered),
        Scenario("lead list ?source=referral", leads, {**first_page, "source": "referral"}, target_p95_ms=filtered),
        Scenario("lead list ?priority=high", leads, {**first_page, "priority": "high"}, target_p95_ms=filtered),
        Scenario(
            "lead list ?assigned_to_id=rep",
            leads,
            {**first_page, "assigned_to_id": facts["rep_id"]},
            target_p95_ms=filtered,
        ),
        Scenario("lead list ?is_qualified=true", leads, {**first_page, "is_qualified": "true"}, target_p95_ms=filtered),
        Scenario(
            "lead list ?created_after (30 days)",
            leads,
            {**first_page, "created_after": month_ago},
            target_p95_ms=filtered,
        ),
        Scenario(
            "lead list ?search= one email", leads, {**first_page, "search": facts["lead_email"]}, target_p95_ms=filtered
        ),
        Scenario("lead list ?search=Apparel (common)", leads, {**first_page, "search": "Apparel"}),
        Scenario("lead list, deep page (page 5,000)", leads, {**first_page, "page": 5000}),
        Scenario("lead list as a sales rep", leads, first_page, user="bench_rep_01", target_p95_ms=filtered),
        Scenario(
            "opportunity list ?min_value&max_value",
            opps,
            {**first_page, "min_value": 500000, "max_value": 510000},
            target_p95_ms=filtered,
        ),
        Scenario("pipeline stats", f"{opps}/pipeline/stats", kind="read", target_p95_ms=100.0),
        Scenario("lead analytics summary", f"{leads}/analytics/summary", kind="read", target_p95_ms=100.0),
        Scenario(
            "forecast, next 12 months (team)",
            f"{opps}/forecast",
            {"start": f"{today:%Y-%m}", "end": f"{add_months(today.replace(day=1), 11):%Y-%m}"},
            kind="read",
            target_p95_ms=100.0,
        ),
        Scenario(
            "velocity, last 90 days (team)",
            f"{opps}/analytics/velocity",
            {"start_date": (today - dt.timedelta(days=90)).isoformat(), "end_date": today.isoformat()},
            kind="read",
            target_p95_ms=100.0,
        ),
        Scenario("today's follow-ups", f"{leads}/follow-ups/today", first_page, target_p95_ms=filtered),
        Scenario(
            "a customer's communication history",
            f"{comms}/customer/{facts['customer_id']}",
            first_page,
            target_p95_ms=filtered,
        ),
        Scenario("communication list as a sales rep", comms, first_page, user="bench_rep_01", target_p95_ms=filtered),
        Scenario("bulk assign 5,000 customers", "", kind="bulk", target_p95_ms=300.0),
        Scenario("bulk remove 5,000 customers", "", kind="bulk"),
        Scenario("lead creation", leads, kind="create"),
    ]


LEAD_BODY = json.dumps(
    {"company_name": "Bench {n} Garments", "contact_person": "Bench Buyer", "email": "bench-{n}@create.example"}
)


def measure(args, port, facts, counter) -> list[Result]:
    results = []
    for scenario in scenarios(facts, dt.date.today()):
        if args.only and not any(word.lower() in scenario.name.lower() for word in args.only):
            continue
        # Fresh tokens for each scenario: the whole run outlasts an access token.
        token = sign_in(port, scenario.user) if scenario.user else None
        for clients in args.clients:
            sys.stderr.write(f"  {scenario.name} at {clients} client(s)\n")
            if scenario.kind == "bulk":
                ids = facts["customer_ids"]
                run_bulk(port, scenario, token, clients, args.warmup, facts["segment_ids"], ids, 5000)
                result = run_bulk(port, scenario, token, clients, args.seconds, facts["segment_ids"], ids, 5000)
            elif scenario.kind == "create":
                result = run_wrk(port, scenario, token, clients, args.seconds, body=LEAD_BODY)
            else:
                run_wrk(port, scenario, token, clients, args.warmup)
                result = run_wrk(port, scenario, token, clients, args.seconds)
            results.append(result)
        count_queries(scenario, results[-len(args.clients) :], token, facts, counter)
    return results


def count_queries(scenario, results, token, facts, counter) -> None:
    if scenario.kind == "bulk":
        segment = facts["segment_ids"][0]
        ids = random.Random(1).sample(facts["customer_ids"], 5000)
        action = "assign" if "assign" in scenario.name else "remove"
        if action == "remove":
            counter.count("POST", f"{API}/segments/{segment}/assign-customers", token, {"customer_ids": ids})
        status, queries = counter.count(
            "POST", f"{API}/segments/{segment}/{action}-customers", token, {"customer_ids": ids}
        )
        if action == "assign":
            counter.count("POST", f"{API}/segments/{segment}/remove-customers", token, {"customer_ids": ids})
    elif scenario.kind == "create":
        body = json.loads(LEAD_BODY.replace("{n}", "count-" + secrets.token_hex(4)))
        status, queries = counter.count("POST", scenario.url, token, body)
    else:
        status, queries = counter.count("GET", scenario.url, token)
        if scenario.kind == "list":
            # The budget must not grow with the page: the same count at 200 rows a page.
            big = Scenario(scenario.name, scenario.path, {**scenario.query, "page_size": 200}, scenario.user)
            _status, big_queries = counter.count("GET", big.url, token)
            if big_queries != queries:
                queries = f"{queries} (200 rows: {big_queries})"
    for result in results:
        result.queries = queries
        if not 200 <= status < 300:
            result.statuses[f"in-process {status}"] = 1


def duplicate_numbers() -> int:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT COUNT(*) - COUNT(DISTINCT lead_number) FROM leads_lead")
        return cursor.fetchone()[0]


# --- the report ----------------------------------------------------------------------------------


def machine() -> str:
    cpu = next(
        (
            line.split(":", 1)[1].strip()
            for line in Path("/proc/cpuinfo").read_text().splitlines()
            if "model name" in line
        ),
        platform.processor(),
    )
    memory_kb = next(
        int(line.split()[1]) for line in Path("/proc/meminfo").read_text().splitlines() if "MemTotal" in line
    )
    return f"{os.cpu_count()} cores ({cpu}), {memory_kb / 1024 / 1024:.0f} GiB memory, {platform.platform()}"


def ms(value: float) -> str:
    return f"{value:.1f}"


def write_report(path: Path, args, facts, results, duplicates, cache: str, took: float) -> list[str]:
    floor = {r.clients: r.rps for r in results if r.scenario.kind == "floor"}
    lines = [
        "# Benchmark results",
        "",
        f"Run on {dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M} UTC by `bench/run` ({took / 60:.0f} minutes). "
        f"Machine: {machine()}. PostgreSQL {facts['postgres']}, Python {platform.python_version()}.",
        "",
        f"Data (`manage.py bench_data`): {facts['customers_customer']:,} customers, "
        f"{facts['leads_lead']:,} leads, {facts['opportunities_opportunity']:,} opportunities, "
        f"{facts['communications_communication']:,} communications.",
        "",
        f"Server: gunicorn, {args.workers} sync workers, production settings (`DJANGO_DEBUG=0`), "
        f"persistent connections, cache: {cache}. Load: wrk ({args.seconds:.0f} s per row after a "
        f"{args.warmup:.0f} s warm-up; bulk rows by a Python client), on the same 2 cores as the "
        "server and PostgreSQL. Signed in as `bench_manager` unless the row says otherwise. "
        "Queries per request are counted in-process for one request (for lists: the same at "
        "page_size 200, or both shown).",
        "",
        "| scenario | clients | req/s | p50 ms | p95 ms | p99 ms | queries/req | vs floor | non-2xx |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for r in results:
        ratio = f"{r.rps / floor[r.clients]:.2f}" if r.scenario.kind == "list" and floor.get(r.clients) else ""
        failed = r.failed or ""
        lines.append(
            f"| {r.scenario.name} | {r.clients} | {r.rps:,.0f} | {ms(r.p50)} | {ms(r.p95)} | {ms(r.p99)} "
            f"| {r.queries if r.queries is not None else ''} | {ratio} | {failed} |"
        )
    verdicts = targets(results, floor, duplicates)
    lines += ["", "## Targets", "", *verdicts, ""]
    # The import under load (``--import``), the cost of history (``--history``), the large merge
    # (``--merge``) and duplicate matching (``--duplicates``) are measured on their own: their
    # sections stay.
    old = path.read_text() if path.exists() else ""
    kept = [
        section
        for section in (
            kept_section(old, IMPORT_SECTION),
            kept_section(old, HISTORY_SECTION),
            kept_section(old, MERGE_SECTION),
            kept_section(old, DUPLICATES_SECTION),
        )
        if section
    ]
    path.write_text("\n".join(lines) + "".join(f"\n{section}\n" for section in kept))
    return verdicts


# ``bench/run --import`` writes its section of RESULTS.md between these lines, replacing only it.
IMPORT_SECTION = ("<!-- bench/run --import: begin -->", "<!-- bench/run --import: end -->")


def kept_section(text: str, markers: tuple[str, str]) -> str:
    """The section between ``markers`` (markers included) in ``text``, or ""."""
    begin, end = markers
    if begin not in text or end not in text:
        return ""
    return text[text.index(begin) : text.index(end) + len(end)]


def with_section(text: str, section: str, markers: tuple[str, str]) -> str:
    """``text`` with its section between ``markers`` replaced by ``section`` (appended when absent)."""
    old = kept_section(text, markers)
    if old:
        return text.replace(old, section)
    return text.rstrip("\n") + "\n\n" + section + "\n"


def targets(results, floor, duplicates) -> list[str]:
    verdicts = []

    def verdict(met: bool, text: str):
        verdicts.append(f"- {'met' if met else '**missed**'}: {text}")

    for r in results:
        if r.scenario.name == "lead list, first page" and floor.get(r.clients):
            ratio = r.rps / floor[r.clients]
            verdict(ratio >= 0.5, f"lead list at {r.clients} client(s): {ratio:.2f} of the floor's throughput (≥ 0.5)")
    for r in results:
        if r.clients == 1 and r.scenario.target_p95_ms is not None:
            verdict(
                r.p95 <= r.scenario.target_p95_ms,
                f"{r.scenario.name}: p95 {ms(r.p95)} ms (≤ {r.scenario.target_p95_ms:.0f})",
            )
    creation = [r for r in results if r.scenario.kind == "create"]
    if creation:
        best = max(creation, key=lambda r: r.rps)
        verdict(
            best.rps >= 300 and duplicates == 0 and best.failed == 0,
            f"lead creation: {best.rps:,.0f}/s at {best.clients} clients (≥ 300), {duplicates} duplicate numbers, "
            f"{best.failed} failed requests",
        )
    lists = [r for r in results if r.scenario.kind == "list" and r.clients == min(x.clients for x in results)]
    growing = [r.scenario.name for r in lists if not isinstance(r.queries, int)]
    verdict(
        not growing,
        "constant queries per list request (50 vs 200 rows a page)" + (f": not {growing}" if growing else ""),
    )
    failures = [f"{r.scenario.name} ({r.clients})" for r in results if r.failed]
    verdict(not failures, "every request answered 2xx" + (f": not {failures}" if failures else ""))
    return verdicts


def main() -> None:
    if "--history" in sys.argv[1:]:
        # The cost of history and webhooks: a benchmark of its own, with its own options.
        from history_bench import main as history_main

        sys.exit(history_main([arg for arg in sys.argv[1:] if arg != "--history"]))
    if "--merge" in sys.argv[1:]:
        # A large merge and its undo: a benchmark of its own, with its own options.
        from merge_bench import main as merge_main

        sys.exit(merge_main([arg for arg in sys.argv[1:] if arg != "--merge"]))
    if "--duplicates" in sys.argv[1:]:
        # Duplicate matching at 100,000 customers and 1,000,000 leads: its own benchmark and options.
        from duplicates_bench import main as duplicates_main

        sys.exit(duplicates_main([arg for arg in sys.argv[1:] if arg != "--duplicates"]))
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument(
        "--database", default=os.environ.get("BENCH_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/crm_bench")
    )
    parser.add_argument("--seconds", type=float, default=10.0, help="measured seconds per scenario and client count")
    parser.add_argument("--warmup", type=float, default=2.0, help="unmeasured seconds before each measurement")
    parser.add_argument("--clients", type=int, nargs="+", default=[1, 8])
    parser.add_argument("--workers", type=int, default=4, help="gunicorn sync workers")
    parser.add_argument("--no-redis", action="store_true", help="keep the database cache even if redis-server is here")
    parser.add_argument("--only", nargs="*", help="run only the scenarios whose names contain one of these words")
    parser.add_argument("--output", type=Path, default=ROOT / "bench" / "RESULTS.md")
    parser.add_argument(
        "--import",
        dest="import_load",
        action="store_true",
        help="instead of the scenarios: a lead import through the API, run by a Celery worker, while wrk reads "
        "the lead list (bench/import_bench.py); its own section of the output",
    )
    parser.add_argument("--import-rows", type=int, default=50_000, help="rows of that import (default 50,000)")
    parser.add_argument("--import-clients", type=int, default=1, help="wrk clients on the lead list meanwhile")
    parser.add_argument(
        "--import-rounds", type=int, default=3, help="imports measured one after another; the median counts"
    )
    parser.add_argument("--keep-imported", action="store_true", help="leave the imported leads in the database")
    parser.add_argument(
        "--history",
        action="store_true",
        help="instead of the scenarios: what history and webhooks cost writes, and the customer timeline at 1M "
        "history rows (bench/history_bench.py; its options: bench/run --history --help)",
    )
    parser.add_argument(
        "--merge",
        action="store_true",
        help="instead of the scenarios: the merge of a customer holding 1,000 communications and 100 "
        "opportunities, and its undo (bench/merge_bench.py; its options: bench/run --merge --help)",
    )
    parser.add_argument(
        "--duplicates",
        action="store_true",
        help="instead of the scenarios: check-duplicates and find_duplicates at 100,000 customers and 1,000,000 "
        "leads (bench/duplicates_bench.py; its options: bench/run --duplicates --help)",
    )
    args = parser.parse_args()
    if args.import_load:
        from import_bench import run_import_bench

        sys.exit(run_import_bench(args))
    if not shutil.which("wrk"):
        raise SystemExit("wrk is missing: apt-get install -y wrk")

    started = time.monotonic()
    out = ROOT / "bench" / "out"
    out.mkdir(exist_ok=True)
    env = server_env(args)
    with redis_server(not args.no_redis) as redis_url:
        if redis_url:
            env["REDIS_URL"] = redis_url
        cache = "Redis" if redis_url else "the database (`crm_cache`)"
        counter = QueryCounter(env)
        facts = database_facts()
        with gunicorn(env, args.workers, out / "bench-gunicorn.log") as port:
            results = measure(args, port, facts, counter)
        duplicates = duplicate_numbers()
    verdicts = write_report(args.output, args, facts, results, duplicates, cache, time.monotonic() - started)
    sys.stdout.write(args.output.read_text())
    sys.exit(0 if all(line.startswith("- met") for line in verdicts) else 1)


if __name__ == "__main__":
    main()
