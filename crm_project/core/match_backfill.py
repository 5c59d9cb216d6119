"""
Filling in the duplicate-matching keys (``matching.match_keys``) of rows written without them:
a migration's existing rows, a benchmark's generated ones. The services keep them on every
later write.
"""

from __future__ import annotations

from collections.abc import Callable

from django.db import transaction

from crm_project.core.matching import match_keys

BACKFILL_BATCH = 20_000
KEY_COLUMNS = ("match_company_name", "match_email_domain", "match_phone")


def backfill_match_keys(connection, table: str, *, progress: Callable[[int], None] | None = None) -> int:
    """
    Set the keys of every row of ``table`` (with ``company_name``, ``email``, ``phone`` and the
    three ``match_*`` columns) from its fields; return how many rows got a key.

    Read in key order in batches (the primary key's index, never one long scan held open);
    on PostgreSQL the keys go to a temporary table through ``COPY`` and one joined ``UPDATE``
    writes them all (a million leads in well under a minute), elsewhere row by row.
    """
    quote = connection.ops.quote_name
    table_sql = quote(table)
    postgres = connection.vendor == "postgresql"
    written = 0
    # One transaction: the temporary table lives until its end.
    with transaction.atomic(using=connection.alias), connection.cursor() as cursor:
        if postgres:
            cursor.execute(
                "CREATE TEMPORARY TABLE match_keys_backfill "
                "(id uuid PRIMARY KEY, n varchar(200), d varchar(254), p varchar(10)) ON COMMIT DROP"
            )
        last_id = None
        while True:
            after = "" if last_id is None else "WHERE id > %s"
            cursor.execute(
                f"SELECT id, company_name, email, phone FROM {table_sql} {after} ORDER BY id LIMIT %s",
                ([] if last_id is None else [last_id]) + [BACKFILL_BATCH],
            )
            rows = cursor.fetchall()
            if not rows:
                break
            last_id = rows[-1][0]
            keyed = []
            for pk, company_name, email, phone in rows:
                keys = match_keys(company_name=company_name, email=email, phone=phone)
                if any(keys.values()):
                    keyed.append((pk, *(keys[column] for column in KEY_COLUMNS)))
            if postgres:
                with cursor.cursor.copy("COPY match_keys_backfill (id, n, d, p) FROM STDIN") as copy:
                    for row in keyed:
                        copy.write_row(row)
            else:
                cursor.executemany(
                    f"UPDATE {table_sql} SET match_company_name = %s, match_email_domain = %s, match_phone = %s "
                    "WHERE id = %s",
                    [(*row[1:], row[0]) for row in keyed],
                )
            written += len(keyed)
            if progress is not None:
                progress(len(rows))
        if postgres:
            cursor.execute(
                f"UPDATE {table_sql} AS t SET match_company_name = k.n, match_email_domain = k.d, match_phone = k.p "
                "FROM match_keys_backfill AS k WHERE t.id = k.id"
            )
            cursor.execute("DROP TABLE match_keys_backfill")
    return written
