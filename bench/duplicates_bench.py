"""
What duplicate matching costs at scale (``bench/run --duplicates``; see bench/README.md).

1. Data: 100,000 customers and 1,000,000 leads in a scratch database (``--database``, migrated
   here; reused when it already holds them), written through ``COPY`` with the matching keys the
   services would give them. Names are Indian wholesale company names (a surname or a coined
   brand, sometimes a place or a second word, a trade, a legal suffix); 40% free-mail addresses;
   phones written four ways; 3% of the records are planted variants of an earlier one (another
   legal suffix, a phone written another way, a colleague at the same domain, a typo).
2. ``POST /check-duplicates`` for customers and for leads, as a manager and (leads) as a sales
   rep, with bodies of records about to be created: half variants of an existing record, half
   new names. ``GET /{id}/duplicates`` of existing records. Through Django's test client
   in-process (the whole API stack, no network; authentication forced), after 20 unmeasured
   requests; p50/p95/p99.
3. ``manage.py find_duplicates customers`` over all 100,000 customers (output to a file):
   the wall time, clusters and pairs.
"""

from __future__ import annotations

import argparse
import datetime as dt
import io
import os
import platform
import random
import sys
import tempfile
import time
import uuid
from pathlib import Path

from inprocess import ensure_database, percentile_ms, say, setup_django, write_section

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_DATABASE = "postgres://postgres@127.0.0.1:5432/crm_bench_dup"
RESULTS = ROOT / "bench" / "RESULTS.md"
# Its section of RESULTS.md, between these lines; a full ``bench/run`` keeps it.
DUPLICATES_SECTION = ("<!-- bench/run --duplicates: begin -->", "<!-- bench/run --duplicates: end -->")
SECTION_START, SECTION_END = DUPLICATES_SECTION
CUSTOMERS = 100_000
LEADS = 1_000_000
VARIANT_SHARE = 0.03
TARGET_CHECK_P95_MS = 30
TARGET_FIND_SECONDS = 60


def words(text: str) -> list[str]:
    return text.split()


SURNAMES = words(
    "Sharma Verma Gupta Agarwal Patel Shah Mehta Desai Joshi Kulkarni Deshpande Iyer Iyengar Nair Menon Pillai "
    "Reddy Rao Naidu Choudhary Singh Chauhan Rathore Thakur Yadav Mishra Pandey Tiwari Dubey Trivedi Saxena "
    "Srivastava Kapoor Khanna Malhotra Arora Bhatia Sethi Chopra Bansal Goyal Mittal Jindal Khandelwal Jain "
    "Oswal Kothari Bhandari Ghosh Bose Banerjee Chatterjee Mukherjee Das Dutta Sen Roy Sarkar Paul Mondal "
    "Hegde Shetty Kamath Pai Bhat Gowda Naik Patil Pawar Jadhav Shinde Kale Gaikwad Sawant Chavan Bhosale "
    "Khan Qureshi Ansari Siddiqui Sheikh Mirza Fernandes DSouza Pereira Rodrigues Gomes Lobo Mathew Thomas "
    "George Varghese Kurian Abraham Joseph Chandra Prakash Kumar Lal Nath Anand Bajaj Birla Tata Wadia Godrej"
)
SYLLABLES = words(
    "ka ri lo tus man dhi ra vi sha ne pa tel go shi na ban ja ku mar si de vo zen tri ax el om ya lu fi "
    "bro cha dru fal gur hem ind jol kel lam mor nix pru ros sty tho urb vex wyn yol zap ash bel cor dun eve "
    "fen gil hal jun kip lin mab nor pel rud sol tam var wes yar zel gam hob kov lux mip pix rha sug tiv uno"
)
PLACES = words(
    "Shree Sri Sai Om Jai New Royal National Global United Bharat Hindustan Indo Asian Mumbai Delhi Pune Surat "
    "Rajkot Kolkata Chennai Bengaluru Hyderabad Jaipur Ludhiana Kanpur Nagpur Indore Coimbatore Kochi Deccan "
    "Western Eastern Southern Northern Golden Silver Star Sun Moon Lotus Ganga Himalaya Sagar Vijay Laxmi Ganesh "
    "Krishna Balaji Shiva Durga Ambika Matrix Apex Prime Classic Modern Supreme Universal Perfect Quality"
)
TRADES = words(
    "Traders Enterprises Industries Textiles Retail Distributors Foods Pharma Agencies Exports Logistics Steel "
    "Plastics Electricals Garments Chemicals Papers Motors Systems Solutions Hardware Polymers Ceramics Packaging "
    "Impex Overseas Spices Agro Builders Fabrics Jewellers Auto Components Tools Machinery Engineering Castings "
    "Healthcare Cosmetics Beverages Dairy Rice Mills Sugar Cotton Silk Leather Footwear Furniture Glass Paints"
)
SUFFIXES = ["Pvt Ltd"] * 6 + ["Private Limited"] * 3 + ["Pvt. Ltd."] * 2 + ["LLP", "Ltd", "& Co", "Co.", ""] * 2
FREE_MAIL = ["gmail.com", "gmail.com", "gmail.com", "yahoo.co.in", "yahoo.com", "rediffmail.com", "hotmail.com"]
FIRST_NAMES = words(
    "Ravi Priya Amit Sunita Rahul Neha Vikram Anjali Suresh Kavita Arjun Pooja Rajesh Meera Sanjay Deepa Anil "
    "Lakshmi Manoj Rekha Vijay Asha Kiran Nisha Ashok Geeta Prakash Divya Rohit Swati Mahesh Shalini Nitin Usha"
)


# --- the data ------------------------------------------------------------------------------------


def company_name(rng: random.Random) -> str:
    if rng.random() < 0.5:
        core = rng.choice(SURNAMES)
    else:
        core = "".join(rng.choice(SYLLABLES) for _ in range(rng.choice((2, 3)))).capitalize()
    words = [core]
    if rng.random() < 0.35:
        words.insert(0, rng.choice(PLACES))
    if rng.random() < 0.15:
        words.append(rng.choice(SURNAMES))
    words.append(rng.choice(TRADES))
    suffix = rng.choice(SUFFIXES)
    return " ".join(words) + (" " + suffix if suffix else "")


def phone_written(digits: str, rng: random.Random) -> str:
    style = rng.randrange(4)
    if style == 0:
        return f"+91 {digits[:5]} {digits[5:]}"
    if style == 1:
        return f"0{digits[:5]}-{digits[5:]}"
    if style == 2:
        return digits
    return f"({digits[:3]}) {digits[3:6]}-{digits[6:]}"


def domain_of(name: str, n: int) -> str:
    slug = "".join(char for char in name.split(" ")[0].lower() if char.isalnum())
    return f"{slug}{n % 997}.in"


def records(count: int, seed: int):
    """(company_name, contact_person, email, phone) per record; some are variants of earlier ones."""
    rng = random.Random(seed)
    made: list[tuple[str, str, str, str]] = []
    for n in range(count):
        contact = f"{rng.choice(FIRST_NAMES)} {rng.choice(SURNAMES)}"
        if made and rng.random() < VARIANT_SHARE:
            name, _, email, phone = made[rng.randrange(len(made))]
            kind = rng.randrange(4)
            if kind == 0:  # another legal suffix
                base = name.rsplit(" ", 2)[0] if " " in name else name
                name = f"{base} {rng.choice(SUFFIXES)}".strip()
            elif kind == 1 and phone:  # the phone written another way
                digits = "".join(char for char in phone if char.isdigit())[-10:]
                phone = phone_written(digits, rng)
            elif kind == 2:  # a colleague at the same company
                phone = ""
            else:  # a typo in the name
                at = rng.randrange(1, max(2, len(name) - 1))
                name = name[:at] + name[at + 1 : at + 2] + name[at : at + 1] + name[at + 2 :]
            domain = email.split("@", 1)[1]
        else:
            name = company_name(rng)
            domain = rng.choice(FREE_MAIL) if rng.random() < 0.4 else domain_of(name, n)
            phone = "" if rng.random() < 0.1 else phone_written(str(rng.randrange(6_000_000_000, 9_999_999_999)), rng)
        email = f"{contact.split(' ')[0].lower()}.{n}@{domain}"
        made.append((name, contact, email, phone))
        yield n, name, contact, email, phone


def load(manager, rep) -> None:
    """100,000 customers and 1,000,000 leads through COPY, with their matching keys (skipped when there)."""
    from django.db import connection, transaction

    from crm_project.core.matching import match_keys
    from customers.models import Customer
    from leads.models import Lead

    now = dt.datetime.now(dt.UTC)
    if Customer.objects.count() < CUSTOMERS:
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute("TRUNCATE customers_customer CASCADE")
            columns = (
                "id, customer_code, company_name, industry, contact_person, email, phone, website, address, city, "
                "state, country, credit_rating, payment_terms, annual_spend, order_frequency, is_active, created_at, "
                "updated_at, match_company_name, match_email_domain, match_phone"
            )
            with cursor.cursor.copy(f"COPY customers_customer ({columns}) FROM STDIN") as copy:
                for n, name, contact, email, phone in records(CUSTOMERS, seed=1):
                    keys = match_keys(company_name=name, email=email, phone=phone)
                    copy.write_row(
                        (uuid.uuid4(), f"CUST-B{n:07d}", name, "", contact, email, phone, "", "", "", "", "India",
                         "", "", 0, "", True, now, now, *keys.values())
                    )  # fmt: skip
        say(f"  {CUSTOMERS:,} customers loaded")
    if Lead.objects.count() < LEADS:
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute("TRUNCATE leads_lead CASCADE")
            columns = (
                "id, lead_number, company_name, industry, company_size, website, contact_person, title_position, "
                "email, phone, city, state, country, source, status, priority, requirements, notes, is_qualified, "
                "assigned_to_id, created_at, updated_at, match_company_name, match_email_domain, match_phone"
            )
            assignees = [manager.pk, rep.pk, None]
            with cursor.cursor.copy(f"COPY leads_lead ({columns}) FROM STDIN") as copy:
                for n, name, contact, email, phone in records(LEADS, seed=2):
                    keys = match_keys(company_name=name, email=email, phone=phone)
                    copy.write_row(
                        (uuid.uuid4(), f"LEAD-B-{n:07d}", name, "", "", "", contact, "", email, phone, "", "",
                         "India", "website", "new", "medium", "", "", False, assignees[n % 3], now, now,
                         *keys.values())
                    )  # fmt: skip
                    if n and n % 200_000 == 0:
                        say(f"  {n:,} leads…")
        say(f"  {LEADS:,} leads loaded")
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE customers_customer")
        cursor.execute("VACUUM ANALYZE leads_lead")


# --- measuring ------------------------------------------------------------------------------------


def check_bodies(model, count: int, seed: int) -> list[dict]:
    """Bodies of records about to be created: half variants of existing ones, half new names."""
    rng = random.Random(seed)
    sample = list(model.objects.order_by("?").values("company_name", "contact_person", "email", "phone")[: count // 2])
    bodies = []
    for n, row in enumerate(sample):
        bodies.append(
            {
                "company_name": row["company_name"].replace(" Pvt Ltd", "") + (" Private Limited" if n % 2 else ""),
                "contact_person": row["contact_person"],
                "email": f"someone.new{n}@{row['email'].split('@', 1)[1]}",
                "phone": row["phone"],
            }
        )
    for _, name, contact, email, phone in records(count - len(bodies), seed=seed):
        bodies.append({"company_name": name, "contact_person": contact, "email": email, "phone": phone})
    rng.shuffle(bodies)
    return bodies


def measure(client, calls: list, warmup: int = 20) -> tuple[list[float], int]:
    for method, url, body in calls[:warmup]:
        getattr(client, method)(url, body, format="json") if body else getattr(client, method)(url)
    seconds, found = [], 0
    for method, url, body in calls:
        started = time.perf_counter()
        response = getattr(client, method)(url, body, format="json") if body else getattr(client, method)(url)
        seconds.append(time.perf_counter() - started)
        assert response.status_code == 200, response.content[:300]
        found += len(response.json())
    return seconds, found


def measure_api(manager, rep, requests: int) -> list[tuple[str, list[float], int]]:
    from rest_framework.test import APIClient

    from customers.models import Customer
    from leads.models import Lead

    def client_for(user):
        client = APIClient()
        client.force_authenticate(user)
        return client

    as_manager, as_rep = client_for(manager), client_for(rep)
    rows = []
    for label, model, path in (("customers", Customer, "customers"), ("leads", Lead, "leads")):
        bodies = check_bodies(model, requests, seed=7)
        check = [("post", f"/api/v1/crm/{path}/check-duplicates", body) for body in bodies]
        seconds, found = measure(as_manager, check)
        rows.append((f"POST /{path}/check-duplicates (manager)", seconds, found))
        say(f"  {label}: check-duplicates done")
        if label == "leads":
            seconds, found = measure(as_rep, check)
            rows.append((f"POST /{path}/check-duplicates (sales rep)", seconds, found))
        ids = list(model.objects.order_by("?").values_list("pk", flat=True)[:requests])
        seconds, found = measure(as_manager, [("get", f"/api/v1/crm/{path}/{pk}/duplicates", None) for pk in ids])
        rows.append((f"GET /{path}/{{id}}/duplicates (manager)", seconds, found))
        say(f"  {label}: duplicates done")
    return rows


def measure_find_duplicates() -> tuple[float, str]:
    from django.core.management import call_command

    with tempfile.NamedTemporaryFile(suffix=".csv") as output:
        err = io.StringIO()
        started = time.perf_counter()
        call_command("find_duplicates", "customers", "--output", output.name, stderr=err)
        took = time.perf_counter() - started
    return took, err.getvalue().strip()


# --- the report -----------------------------------------------------------------------------------


def report(api_rows, find_seconds: float, find_summary: str, took: float, requests: int, load: str) -> str:
    from django.db import connection

    from customers.models import Customer
    from leads.models import Lead

    lines = [
        SECTION_START,
        "## Duplicate matching at scale (`bench/run --duplicates`)",
        "",
        f"Run on {dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M} UTC ({took / 60:.0f} minutes, data load included when "
        f"not already there). Machine: {os.cpu_count()} cores, {platform.platform()}; PostgreSQL "
        f"{connection.pg_version // 10000}, Python {platform.python_version()}; load average as it began "
        f"{load} (the machine is shared: other work meanwhile inflates every figure). "
        f"{Customer.objects.count():,} customers, {Lead.objects.count():,} leads "
        f"({VARIANT_SHARE:.0%} planted variants of earlier records).",
        "",
        f"Requests through Django's test client in-process (the whole API stack, no network; authentication "
        f"forced), {requests} per row after 20 unmeasured. check-duplicates bodies: half variants of existing "
        "records (another legal suffix, a new colleague at the same domain), half new companies.",
        "",
        "| request | p50 ms | p95 ms | p99 ms | candidates per answer |",
        "|---|---:|---:|---:|---:|",
    ]
    verdicts = []
    for name, seconds, found in api_rows:
        p95 = percentile_ms(seconds, 0.95)
        lines.append(
            f"| {name} | {percentile_ms(seconds, 0.5):.1f} | {p95:.1f} | {percentile_ms(seconds, 0.99):.1f} "
            f"| {found / len(seconds):.1f} |"
        )
        if "check-duplicates" in name:
            met = "met" if p95 <= TARGET_CHECK_P95_MS else "missed"
            verdicts.append(f"- {name} p95 ≤ {TARGET_CHECK_P95_MS} ms: **{p95:.1f} ms** ({met}).")
    met = "met" if find_seconds <= TARGET_FIND_SECONDS else "missed"
    lines += [
        "",
        f"`manage.py find_duplicates customers` over all {Customer.objects.count():,} customers (CSV to a file): "
        f"**{find_seconds:.1f} s**. {find_summary}",
    ]
    verdicts.append(
        f"- find_duplicates over {Customer.objects.count():,} customers ≤ {TARGET_FIND_SECONDS} s: "
        f"**{find_seconds:.1f} s** ({met})."
    )
    lines += ["", "Targets:", "", *verdicts, SECTION_END]
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="bench/run --duplicates", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--database", default=DEFAULT_DATABASE)
    parser.add_argument("--requests", type=int, default=300, help="requests per row")
    parser.add_argument("--output", type=Path, default=RESULTS)
    parser.add_argument("--skip-find", action="store_true", help="leave out find_duplicates")
    args = parser.parse_args(argv)
    started = time.monotonic()
    load_average = " / ".join(f"{value:.1f}" for value in os.getloadavg())
    ensure_database(args.database)
    setup_django(args.database, name="duplicates")

    from django.contrib.auth import get_user_model
    from django.contrib.auth.models import Group
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    users = get_user_model()
    manager, _ = users.objects.get_or_create(username="dup_bench_manager", defaults={"first_name": "Bench"})
    manager.groups.add(Group.objects.get(name="sales_manager"))
    rep, _ = users.objects.get_or_create(username="dup_bench_rep", defaults={"first_name": "Rep"})
    rep.groups.add(Group.objects.get(name="sales_rep"))

    say("Data…")
    load(manager, rep)
    say("API…")
    api_rows = measure_api(manager, rep, args.requests)
    find_seconds, find_summary = (0.0, "(skipped)") if args.skip_find else (None, "")
    if not args.skip_find:
        say("find_duplicates…")
        find_seconds, find_summary = measure_find_duplicates()
    section = report(api_rows, find_seconds, find_summary, time.monotonic() - started, args.requests, load_average)
    write_section(args.output, section, DUPLICATES_SECTION)
    say(section)
    say(f"Written to {args.output}")
    return 0 if "(missed)" not in section else 1


if __name__ == "__main__":
    sys.exit(main())
