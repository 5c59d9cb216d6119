"""
The import under load (``bench/run --import``; see bench/README.md).

A lead import through the API (``POST /api/v1/crm/leads/import``, 50,000 rows by default), run
by a real Celery worker, while wrk reads the lead list as the benchmark's manager:

1. a private ``redis-server`` is the cache and the broker; a ``celery worker`` (its own
   process group, its own queue) runs next to gunicorn with production settings;
2. a small import goes through first (the whole path works, the worker is warm);
3. then, in each of ``--import-rounds`` rounds: the lead list's first page is measured with
   wrk while nothing else runs (idle); the import file is posted, and from its 202 the same
   wrk scenario runs until the job, polled at ``/api/v1/jobs/{id}``, has ``succeeded``: the
   list's p95 during the import, and the import's rows per second over that wall time; the
   database must hold every imported lead once;
4. the imported leads are deleted (between rounds too: the data set stays as ``bench_data``
   built it) unless ``--keep-imported``.

The machine is shared and its other work comes and goes: the targets are judged on the
median round. The figures go to their own section of bench/RESULTS.md (the rest of the file
is kept), each target marked met or missed; the exit status is 1 if one was missed.
"""

from __future__ import annotations

import contextlib
import csv
import datetime as dt
import os
import platform
import secrets
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import psycopg
import requests
from run import (
    API,
    BIN,
    IMPORT_SECTION,
    ROOT,
    Result,
    Scenario,
    gunicorn,
    machine,
    ms,
    redis_server,
    server_env,
    sign_in,
    with_section,
    wrk_command,
    wrk_result,
)

TARGET_RATIO = 2.0  # the list's p95 during the import, to its p95 idle
TARGET_ROWS_PER_SECOND = 2500
LEAD_LIST = Scenario("lead list, first page", f"{API}/leads", {"page_size": 50})
POLL_SECONDS = 0.25
FINISHED = {"succeeded", "failed", "cancelled"}


@dataclass
class ImportRun:
    rows: int
    seconds: float  # from the 202 to the poll that saw the job succeeded
    job: dict
    progress_seen: list[int]  # the distinct ``progress.done`` values the polls saw
    leads_in_database: int

    @property
    def rows_per_second(self) -> float:
        return self.rows / self.seconds if self.seconds else 0.0

    @property
    def worker_seconds(self) -> float:
        """The job's own time, from its start in the worker to its end (its timestamps)."""
        started = dt.datetime.fromisoformat(self.job["started_at"])
        finished = dt.datetime.fromisoformat(self.job["finished_at"])
        return (finished - started).total_seconds()


# --- the worker --------------------------------------------------------------------------------------


def stop_group(process: subprocess.Popen, timeout: float = 30) -> None:
    """SIGTERM to the process's group (a Celery worker and its pool), SIGKILL if it lingers."""
    if process.poll() is not None:
        return
    os.killpg(process.pid, signal.SIGTERM)
    try:
        process.wait(timeout)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()


@contextlib.contextmanager
def celery_worker(env: dict, queue: str, log: Path):
    """A ``celery worker`` consuming ``queue`` only, in a process group of its own."""
    command = [str(BIN / "celery"), "-A", "crm_project", "worker", "-Q", queue, "-n", f"{queue}@%h"]
    command += ["--loglevel", "INFO", "--without-gossip", "--without-mingle"]
    with log.open("w") as output:
        process = subprocess.Popen(
            command, cwd=ROOT, env=env, stdout=output, stderr=subprocess.STDOUT, start_new_session=True
        )
        try:
            deadline = time.monotonic() + 90
            while " ready." not in log.read_text():
                if process.poll() is not None or time.monotonic() > deadline:
                    raise SystemExit(f"the Celery worker did not start; see {log}")
                time.sleep(0.2)
            yield process
        finally:
            stop_group(process)


# --- the import, through the API ----------------------------------------------------------------------


def write_lead_csv(rows: int, path: Path, env: dict) -> str:
    """A lead CSV from ``bench/make_leads_csv.py``; returns the prefix of its rows' emails."""
    subprocess.run(
        [sys.executable, str(ROOT / "bench" / "make_leads_csv.py"), str(rows), str(path)], env=env, check=True
    )
    with path.open(newline="", encoding="utf-8") as stream:
        reader = csv.DictReader(stream)
        email = next(reader)["email"]  # bench-<run>-1@import.example
    return email.rsplit("-", 1)[0] + "-"


def post_import(base: str, token: str, path: Path) -> dict:
    with path.open("rb") as upload:
        response = requests.post(
            f"{base}{API}/leads/import",
            headers={"Authorization": f"Bearer {token}"},
            files={"file": (path.name, upload, "text/csv")},
            timeout=600,
        )
    if response.status_code != 202:
        raise SystemExit(f"the import was answered {response.status_code}: {response.text[:300]}")
    return response.json()


def follow(base: str, token: str, job_id: str, timeout: float = 1800) -> tuple[dict, list[int]]:
    """Poll the job until it ends; its last state, and the progress each poll saw."""
    deadline = time.monotonic() + timeout
    done_seen: list[int] = []
    with requests.Session() as http:
        while time.monotonic() < deadline:
            job = http.get(f"{base}/api/v1/jobs/{job_id}", headers={"Authorization": f"Bearer {token}"}, timeout=60)
            job.raise_for_status()
            job = job.json()
            if not done_seen or done_seen[-1] != job["progress"]["done"]:
                done_seen.append(job["progress"]["done"])
            if job["status"] in FINISHED:
                return job, done_seen
            time.sleep(POLL_SECONDS)
    raise SystemExit(f"job {job_id} did not finish within {timeout:.0f} s")


def run_import(base, token, path: Path, rows: int, email_prefix: str, database: str, *, alongside=None):
    """
    Post the file and follow the job to its end; ``alongside()``, called at the 202, starts what
    runs during the import and gives what stops it (and returns its measurement).
    """
    accepted = post_import(base, token, path)
    load = alongside() if alongside else None
    started = time.monotonic()
    job, progress_seen = follow(base, token, accepted["id"])
    seconds = time.monotonic() - started
    measured = load.stop() if load else None
    if job["status"] != "succeeded":
        raise SystemExit(f"the import {job['status']}: {job.get('failure')} {job.get('errors', [])[:5]}")
    run = ImportRun(
        rows=rows,
        seconds=seconds,
        job=job,
        progress_seen=progress_seen,
        leads_in_database=leads_with(database, email_prefix),
    )
    return run, measured


class BackgroundWrk:
    """wrk on one scenario until stopped (SIGINT: wrk stops and reports what it measured)."""

    def __init__(self, port: int, scenario: Scenario, token: str, clients: int):
        self.scenario, self.clients = scenario, clients
        command = wrk_command(port, scenario, token, clients, seconds=3600)
        env = dict(os.environ, BENCH_RUN_ID=secrets.token_hex(4))
        self.process = subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)

    def stop(self) -> Result:
        self.process.send_signal(signal.SIGINT)
        output, errors = self.process.communicate(timeout=60)
        if "BENCH_REPORT " not in output:
            raise SystemExit(f"wrk gave no report: {errors[-500:]}")
        return wrk_result(output, self.scenario, self.clients)


# --- the database ---------------------------------------------------------------------------------------


def leads_with(database: str, email_prefix: str) -> int:
    with psycopg.connect(database) as db:
        return db.execute("SELECT count(*) FROM leads_lead WHERE email LIKE %s", [email_prefix + "%"]).fetchone()[0]


def settle(database: str) -> dict:
    """Start from a settled table (fresh visibility map and statistics); the data set's size."""
    with psycopg.connect(database, autocommit=True) as db:
        db.execute("VACUUM (ANALYZE) leads_lead")
        return {
            "leads": db.execute("SELECT count(*) FROM leads_lead").fetchone()[0],
            "customers": db.execute("SELECT count(*) FROM customers_customer").fetchone()[0],
            "postgres": db.execute("SHOW server_version").fetchone()[0],
        }


def delete_imported(database: str, email_prefixes: list[str]) -> int:
    """The benchmark's own leads out again (nothing refers to them yet), and the table settled."""
    with psycopg.connect(database, autocommit=True) as db:
        deleted = 0
        for prefix in email_prefixes:
            deleted += db.execute("DELETE FROM leads_lead WHERE email LIKE %s", [prefix + "%"]).rowcount
        db.execute("VACUUM (ANALYZE) leads_lead")
    return deleted


# --- the run --------------------------------------------------------------------------------------------


@dataclass
class Round:
    """One measurement: the list idle, then the list during one import."""

    idle: Result
    busy: Result
    run: ImportRun
    load: float  # the machine's 1-minute load average as the round began

    @property
    def ratio(self) -> float:
        return self.busy.p95 / self.idle.p95 if self.idle.p95 else float("inf")


def run_import_bench(args) -> int:
    if not shutil.which("wrk"):
        raise SystemExit("wrk is missing: apt-get install -y wrk")
    if not shutil.which("redis-server"):
        raise SystemExit("redis-server is missing (the broker): apt-get install -y redis-server")
    started = time.monotonic()
    out = ROOT / "bench" / "out"
    out.mkdir(exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix="crm-import-bench-"))
    queue = f"bench-import-{secrets.token_hex(4)}"
    env = server_env(args)
    env.update(CELERY_QUEUE=queue, MEDIA_ROOT=str(work / "media"))
    prefixes: list[str] = []
    rounds: list[Round] = []
    clients = args.import_clients
    try:
        warm_up_prefix = write_lead_csv(200, work / "warm-up.csv", env)
        prefixes.append(warm_up_prefix)
        facts = settle(args.database)
        with redis_server(True) as redis_url:
            env.update(REDIS_URL=redis_url, CELERY_BROKER_URL=redis_url.removesuffix("/0") + "/1")
            with (
                celery_worker(env, queue, out / "bench-import-celery.log"),
                gunicorn(env, args.workers, out / "bench-import-gunicorn.log") as port,
            ):
                base = f"http://127.0.0.1:{port}"
                token = sign_in(port, "bench_manager")
                sys.stderr.write("  a 200-row import first (the path works, the worker is warm)\n")
                run_import(base, token, work / "warm-up.csv", 200, warm_up_prefix, args.database)
                warm = BackgroundWrk(port, LEAD_LIST, token, clients)
                time.sleep(args.warmup)
                warm.stop()
                for number in range(1, args.import_rounds + 1):
                    path = work / f"leads-{number}.csv"
                    prefixes.append(write_lead_csv(args.import_rows, path, env))
                    # Every round starts from the same settled table: the earlier imports' leads
                    # out again (unless kept), a fresh visibility map and statistics.
                    if not args.keep_imported:
                        delete_imported(args.database, prefixes[:-1])
                    settle(args.database)
                    load = os.getloadavg()[0]
                    sys.stderr.write(f"  round {number}: the lead list idle, {args.seconds:.0f} s\n")
                    idle_wrk = BackgroundWrk(port, LEAD_LIST, token, clients)
                    time.sleep(args.seconds)
                    idle = idle_wrk.stop()
                    sys.stderr.write(f"  round {number}: {args.import_rows:,} rows imported while wrk reads\n")
                    run, busy = run_import(
                        base,
                        token,
                        path,
                        args.import_rows,
                        prefixes[-1],
                        args.database,
                        alongside=lambda: BackgroundWrk(port, LEAD_LIST, token, clients),
                    )
                    rounds.append(Round(idle=idle, busy=busy, run=run, load=load))
    finally:
        if prefixes and not args.keep_imported:
            delete_imported(args.database, prefixes)
        shutil.rmtree(work, ignore_errors=True)
    verdicts, section = report(args, facts, rounds, time.monotonic() - started)
    output = Path(args.output)
    output.write_text(with_section(output.read_text() if output.exists() else "", section, IMPORT_SECTION))
    sys.stdout.write(section + "\n")
    return 0 if all(line.startswith("- met") for line in verdicts) else 1


# --- the report ------------------------------------------------------------------------------------------


def report(args, facts, rounds: list[Round], took: float):
    ratio = statistics.median(r.ratio for r in rounds)
    rows_per_second = statistics.median(r.run.rows_per_second for r in rounds)
    verdicts = []

    def verdict(met: bool, text: str) -> None:
        verdicts.append(f"- {'met' if met else '**missed**'}: {text}")

    def spread(values, form: str) -> str:
        values = list(values)
        return f" (rounds: {min(values):{form}} to {max(values):{form}})" if len(values) > 1 else ""

    verdict(
        ratio <= TARGET_RATIO,
        f"the lead list's p95 during an import is {ratio:.2f}× its p95 idle, the median of "
        f"{len(rounds)} round(s){spread((r.ratio for r in rounds), '.2f')} (≤ {TARGET_RATIO:g}×)",
    )
    verdict(
        rows_per_second >= TARGET_ROWS_PER_SECOND,
        f"the import: {rows_per_second:,.0f} rows/s, the median"
        f"{spread((r.run.rows_per_second for r in rounds), ',.0f')} (≥ {TARGET_ROWS_PER_SECOND:,})",
    )
    once = [
        r for r in rounds if (r.run.job.get("result") or {}).get("created") == r.run.rows == r.run.leads_in_database
    ]
    verdict(
        len(once) == len(rounds),
        f"every row imported once: in {len(once)} of {len(rounds)} rounds the job created every row and the "
        "database holds each once",
    )
    moved = min(len(r.run.progress_seen) for r in rounds)
    verdict(moved > 2, f"progress moved: at least {moved} distinct values seen by the polls in each round")
    failed = sum(r.idle.failed + r.busy.failed for r in rounds)
    verdict(not failed, f"every list request answered 2xx ({failed} did not)")
    lines = [
        IMPORT_SECTION[0],
        "## A lead import under load (`bench/run --import`)",
        "",
        f"Run on {dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M} UTC ({took / 60:.0f} minutes). Machine: {machine()}; "
        "other work shares it (the 1-minute load average as each round began is given; this run's own "
        f"processes count in it). PostgreSQL {facts['postgres']}, Python {platform.python_version()}. "
        f"Data (`manage.py bench_data`): {facts['customers']:,} customers, {facts['leads']:,} leads before each "
        "import.",
        "",
        f"gunicorn ({args.workers} sync workers), one `celery worker` (prefork, its own queue), Redis as "
        "cache and broker, production settings, all on the same cores as PostgreSQL and wrk. In each round "
        f"wrk reads `{LEAD_LIST.url}` as `bench_manager` at {args.import_clients} client(s) for "
        f"{args.seconds:.0f} s (idle); then `bench_manager` posts a {args.import_rows:,}-row CSV "
        f"(`bench/make_leads_csv.py`) to `POST {API}/leads/import`, and the same wrk scenario runs from the 202 "
        f"until `/api/v1/jobs/{{id}}` (polled every {POLL_SECONDS:g} s) says `succeeded`; rows/s is the rows "
        "over that time (the job's own start-to-end in the worker is in brackets). The imported leads are "
        "deleted between rounds.",
        "",
        "| round | load | list p95 idle, ms | list p95 during the import, ms | ratio | list req/s idle / during "
        "| import s | rows/s |",
        "|---:|---:|---:|---:|---:|---:|---:|---:|",
        *[
            f"| {n} | {r.load:.2f} | {ms(r.idle.p95)} | {ms(r.busy.p95)} | {r.ratio:.2f}× "
            f"| {r.idle.rps:,.1f} / {r.busy.rps:,.1f} | {r.run.seconds:.1f} ({r.run.worker_seconds:.1f}) "
            f"| {r.run.rows_per_second:,.0f} |"
            for n, r in enumerate(rounds, start=1)
        ],
        "",
        "### Targets",
        "",
        *verdicts,
        "",
        IMPORT_SECTION[1],
    ]
    return verdicts, "\n".join(lines)
