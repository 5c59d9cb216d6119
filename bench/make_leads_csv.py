#!/usr/bin/env python3
"""
Write a lead CSV for timing ``manage.py import_leads`` (the columns of ``export_leads``):

    python bench/make_leads_csv.py 50000 /tmp/leads-50k.csv [--assignee rep1]
    time python manage.py import_leads /tmp/leads-50k.csv

Every column is filled, emails are unique (``bench-<run>-<n>@import.example``, a fresh run
id each time, so the file imports into a database that already holds an earlier one).
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import os
import random
import sys
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "crm_project.settings")

import django

django.setup()

from leads.lead_csv import COLUMNS  # noqa: E402 - after Django is set up

COMPANIES = ["Harbor Hotels", "Lotus Retail", "Apex Logistics", "Nova Airlines", "Greenfield Schools"]
PEOPLE = ["John Doe", "Anita Rao", "Vikram Singh", "Sara Thomas", "Meena Iyer"]
SOURCES = ["website", "referral", "phone", "email", "trade_show", "partner", "other"]
PRIORITIES = ["low", "medium", "high", "urgent"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.strip().splitlines()[0])
    parser.add_argument("rows", type=int)
    parser.add_argument("path")
    parser.add_argument("--assignee", default="", help="Username for the assigned_to column (default none).")
    args = parser.parse_args()

    rng = random.Random(2025)
    run = uuid.uuid4().hex[:8]
    today = dt.date.today()
    with open(args.path, "w", encoding="utf-8", newline="") as stream:
        writer = csv.writer(stream)
        writer.writerow(COLUMNS)
        for n in range(1, args.rows + 1):
            values = {
                "company_name": f"{rng.choice(COMPANIES)} {n}",
                "contact_person": rng.choice(PEOPLE),
                "email": f"bench-{run}-{n}@import.example",
                "phone": f"'+91 98{rng.randrange(10**8):08d}",
                "industry": "Retail",
                "company_size": "50-100",
                "website": f"https://lead{n}.import.example",
                "title_position": "Purchasing Manager",
                "city": "Mumbai",
                "state": "Maharashtra",
                "country": "India",
                "source": rng.choice(SOURCES),
                "priority": rng.choice(PRIORITIES),
                "estimated_deal_value": f"{rng.randrange(5_000, 500_000)}.00",
                "requirements": "Bulk garments, quarterly orders",
                "notes": "Met at the trade show, asked for samples",
                "next_follow_up_date": (today + dt.timedelta(days=rng.randrange(1, 30))).isoformat(),
                "assigned_to": args.assignee,
            }
            writer.writerow([values[column] for column in COLUMNS])


if __name__ == "__main__":
    main()
