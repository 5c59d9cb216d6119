"""
The import under load (``bench/run --import``; see bench/README.md).

A lead import through the API (``POST /api/v1/crm/leads/import``, 50,000 rows by default), run
by a real Celery worker, while wrk reads the lead list as the benchmark's manager:

1. a private ``redis-server`` is the cache and the broker; a ``celery worker`` (its own
   process group, its own queue) runs next to gunicorn with production settings;
2. a small import goes through first (the whole path works, the worker is warm);
3. the lead list's first page is measured with wrk while nothing else runs (idle);
4. the import file is posted; from its 202, the same wrk scenario runs until the job, polled
   at ``/api/v1/jobs/{id}``, has ``succeeded``: the list's p95 during the import, and the
   import's rows per second over that wall time;
5. the database must hold every imported lead once; then the imported leads are deleted (the
   data set stays as ``bench_data`` built it) unless ``--keep-imported``.

The figures go to their own section of bench/RESULTS.md (the rest of the file is kept), each
target marked met or missed; the exit status is 1 if one was missed.
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
    upload_seconds: float  # posting the file, until the 202
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


def post_import(base: str, token: str, path: Path) -> tuple[dict, float]:
    started = time.monotonic()
    with path.open("rb") as upload:
        response = requests.post(
            f"{base}{API}/leads/import",
            headers={"Authorization": f"Bearer {token}"},
            files={"file": (path.name, upload, "text/csv")},
            timeout=600,
        )
    if response.status_code != 202:
        raise SystemExit(f"the import was answered {response.status_code}: {response.text[:300]}")
    return response.json(), time.monotonic() - started


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
    accepted, upload_seconds = post_import(base, token, path)
    load = alongside() if alongside else None
    started = time.monotonic()
    job, progress_seen = follow(base, token, accepted["id"])
    seconds = time.monotonic() - started
    measured = load.stop() if load else None
    if job["status"] != "succeeded":
        raise SystemExit(f"the import {job['status']}: {job.get('failure')} {job.get('errors', [])[:5]}")
    run = ImportRun(
        rows=rows,
        upload_seconds=upload_seconds,
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


def run_import_bench(args) -> int:
    if not shutil.which("wrk"):
        raise SystemExit("wrk is missing: apt-get install -y wrk")
    if not shutil.which("redis-server"):
        raise SystemExit("redis-server is missing (the broker): apt-get install -y redis-server")
    started = time.monotonic()
    load_before = os.getloadavg()
    out = ROOT / "bench" / "out"
    out.mkdir(exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix="crm-import-bench-"))
    queue = f"bench-import-{secrets.token_hex(4)}"
    env = server_env(args)
    env.update(CELERY_QUEUE=queue, MEDIA_ROOT=str(work / "media"))
    prefixes: list[str] = []
    try:
        sys.stderr.write(f"  writing {args.import_rows:,} rows to import\n")
        small_prefix = write_lead_csv(200, work / "warm-up.csv", env)
        big_prefix = write_lead_csv(args.import_rows, work / "leads.csv", env)
        prefixes = [small_prefix, big_prefix]
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
                run_import(base, token, work / "warm-up.csv", 200, small_prefix, args.database)
                # The warm-up's leads are new pages for the list's count: settled again.
                settle(args.database)

                clients = args.import_clients
                sys.stderr.write(f"  the lead list idle, {args.seconds:.0f} s at {clients} client(s)\n")
                warm = BackgroundWrk(port, LEAD_LIST, token, clients)
                time.sleep(args.warmup)
                warm.stop()
                idle_wrk = BackgroundWrk(port, LEAD_LIST, token, clients)
                time.sleep(args.seconds)
                idle = idle_wrk.stop()

                sys.stderr.write(f"  importing {args.import_rows:,} rows while wrk reads the lead list\n")
                run, busy = run_import(
                    base,
                    token,
                    work / "leads.csv",
                    args.import_rows,
                    big_prefix,
                    args.database,
                    alongside=lambda: BackgroundWrk(port, LEAD_LIST, token, clients),
                )
    finally:
        if prefixes and not args.keep_imported:
            delete_imported(args.database, prefixes)
        shutil.rmtree(work, ignore_errors=True)
    load = (load_before[0], os.getloadavg()[0])
    verdicts, section = report(args, facts, idle, busy, run, load, time.monotonic() - started)
    output = Path(args.output)
    output.write_text(with_section(output.read_text() if output.exists() else "", section, IMPORT_SECTION))
    sys.stdout.write(section + "\n")
    return 0 if all(line.startswith("- met") for line in verdicts) else 1


# --- the report ------------------------------------------------------------------------------------------


def report(args, facts, idle: Result, busy: Result, run: ImportRun, load: tuple[float, float], took: float):
    ratio = busy.p95 / idle.p95 if idle.p95 else float("inf")
    result = run.job.get("result") or {}
    verdicts = []

    def verdict(met: bool, text: str) -> None:
        verdicts.append(f"- {'met' if met else '**missed**'}: {text}")

    verdict(
        ratio <= TARGET_RATIO,
        f"the lead list's p95 during the import is {ratio:.2f}× its p95 idle (≤ {TARGET_RATIO:g}×)",
    )
    verdict(
        run.rows_per_second >= TARGET_ROWS_PER_SECOND,
        f"the import: {run.rows_per_second:,.0f} rows/s (≥ {TARGET_ROWS_PER_SECOND:,})",
    )
    verdict(
        result.get("created") == run.rows == run.leads_in_database,
        f"every row imported once: {result.get('created')} created by the job, "
        f"{run.leads_in_database:,} in the database, of {run.rows:,}",
    )
    verdict(len(run.progress_seen) > 2, f"progress moved: {len(run.progress_seen)} distinct values seen by the polls")
    failed = idle.failed + busy.failed
    verdict(not failed, f"every list request answered 2xx ({failed} did not)")
    rows = [
        f"| {name} | {r.requests:,} | {r.rps:,.1f} | {ms(r.p50)} | {ms(r.p95)} | {ms(r.p99)} | {r.failed or ''} |"
        for name, r in (("idle", idle), ("during the import", busy))
    ]
    lines = [
        IMPORT_SECTION[0],
        "## A lead import under load (`bench/run --import`)",
        "",
        f"Run on {dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M} UTC ({took / 60:.0f} minutes). Machine: {machine()}; "
        f"1-minute load average {load[0]:.2f} when it started and {load[1]:.2f} when it ended (other work "
        "shares the machine; this run's own processes count in the second). "
        f"PostgreSQL {facts['postgres']}, Python {platform.python_version()}. "
        f"Data (`manage.py bench_data`): {facts['customers']:,} customers, {facts['leads']:,} leads before the "
        "import.",
        "",
        f"gunicorn ({args.workers} sync workers), one `celery worker` (prefork, its own queue), Redis as "
        "cache and broker, production settings, all on the same cores as PostgreSQL and wrk. "
        f"`bench_manager` posts a {run.rows:,}-row CSV (`bench/make_leads_csv.py`) to "
        f"`POST {API}/leads/import`; wrk reads `{LEAD_LIST.url}` at {args.import_clients} client(s), "
        f"{args.seconds:.0f} s idle (after a {args.warmup:.0f} s warm-up), then from the import's 202 until "
        f"`/api/v1/jobs/{{id}}` (polled every {POLL_SECONDS:g} s) says `succeeded`.",
        "",
        "| the lead list | requests | req/s | p50 ms | p95 ms | p99 ms | non-2xx |",
        "|---|---:|---:|---:|---:|---:|---:|",
        *rows,
        "",
        f"The import: {run.rows:,} rows in {run.seconds:.1f} s from the 202 to `succeeded` "
        f"(**{run.rows_per_second:,.0f} rows/s**; the job's own start to end in the worker: "
        f"{run.worker_seconds:.1f} s, {run.rows / run.worker_seconds:,.0f} rows/s; posting the "
        f"file took {run.upload_seconds:.1f} s before the 202). "
        f"p95 during the import / idle: **{ratio:.2f}×**.",
        "",
        "### Targets",
        "",
        *verdicts,
        "",
        IMPORT_SECTION[1],
    ]
    return verdicts, "\n".join(lines)
