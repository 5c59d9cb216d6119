"""
``manage.py find_duplicates {customers|leads} [--format csv|json] [--min-score 0.5] [--output FILE]``:
the clusters of likely duplicates across all customers or leads, by the rules of the API's
``duplicates`` (``crm_project/core/duplicate_clusters.py``).
"""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from crm_project.core.commands import (
    actor_from,
    add_actor_argument,
    json_text,
    output_file,
    progress,
    write_csv,
)
from crm_project.core.duplicate_clusters import duplicate_clusters
from crm_project.core.text import plural
from customers.selectors import customer_list_visible_to
from leads.selectors import lead_list_visible_to

# What each kind of record is read from, and the number it is known by.
RECORDS = {
    "customers": (customer_list_visible_to, "customer_code", "customer"),
    "leads": (lead_list_visible_to, "lead_number", "lead"),
}
DEFAULT_MIN_SCORE = 0.5
CSV_HEADERS = [
    "cluster",
    "cluster_size",
    "cluster_score",
    "id",
    "number",
    "company_name",
    "contact_person",
    "email",
    "phone",
    "reasons",
]


def _min_score(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        value = -1.0
    if not 0 <= value <= 1:
        raise CommandError(f"--min-score: {text!r} is not a number from 0 to 1.")
    return value


class Command(BaseCommand):
    help = (
        "List the clusters of likely duplicates across all customers or leads (same e-mail, phone or company "
        "domain, similar company name), largest first, as CSV (a row per record) or JSON."
    )

    def add_arguments(self, parser):
        parser.add_argument("records", choices=sorted(RECORDS), help="Which records to look through.")
        parser.add_argument("--format", choices=["csv", "json"], default="csv", help="Output format (default csv).")
        parser.add_argument(
            "--min-score",
            default=str(DEFAULT_MIN_SCORE),
            metavar="0.x",
            help=f"Pair two records from this score on, 0 to 1 (default {DEFAULT_MIN_SCORE}: a similar name "
            "or a shared phone alone; a shared company domain alone scores 0.4).",
        )
        parser.add_argument("--output", "-o", metavar="FILE", help="Write to FILE (default: standard output).")
        add_actor_argument(parser)

    def handle(self, *args, **options):
        visible, number_field, noun = RECORDS[options["records"]]
        min_score = _min_score(options["min_score"])
        records = visible(actor_from(options))
        with progress(total=records.count(), description=f"Reading {options['records']}") as bar:
            found = duplicate_clusters(records, number_field=number_field, min_score=min_score, progress=bar.update)
        with output_file(options["output"], self.stdout) as stream:
            if options["format"] == "json":
                stream.write(json_text(found.clusters) + "\n")
            else:
                write_csv(stream, CSV_HEADERS, self._csv_rows(found.clusters, number_field))
        in_clusters = sum(cluster["size"] for cluster in found.clusters)
        summary = (
            f"{plural(len(found.clusters), 'cluster')} of likely duplicates ({plural(in_clusters, noun)}) among "
            f"{plural(found.records_read, noun)}; {plural(found.pairs_scored, 'pair')} scored."
        )
        if found.skipped_keys:
            summary += (
                " Keys shared too widely to pair by: "
                + ", ".join(
                    f"{plural(count, key.replace('_', ' '))}" for key, count in sorted(found.skipped_keys.items())
                )
                + "."
            )
        # The clusters may be on stdout: the summary goes to stderr.
        self.stderr.write(summary, style_func=lambda text: text)

    @staticmethod
    def _csv_rows(clusters, number_field):
        for number, cluster in enumerate(clusters, start=1):
            reasons_of: dict = {}
            for pair in cluster["pairs"]:
                for record_id in pair["ids"]:
                    reasons_of.setdefault(record_id, set()).update(pair["reasons"])
            for record in cluster["records"]:
                yield [
                    number,
                    cluster["size"],
                    cluster["score"],
                    record["id"],
                    record[number_field],
                    record["company_name"],
                    record["contact_person"],
                    record["email"],
                    record["phone"],
                    " ".join(sorted(reasons_of.get(record["id"], ()))),
                ]
