"""
Finding the likely duplicates of one record among the records a user may see, for any model
that keeps the matching keys (``match_company_name``, ``match_email_domain``, ``match_phone``)
beside ``company_name``, ``contact_person``, ``email`` and ``phone``. The domains' selectors
pass their visible queryset; the scoring is ``matching.match``.

Candidates come from a few narrow look-ups, each through its index and capped, so that one
very common key (a company domain shared by hundreds of contacts) cannot crowd out the
strong matches: the same address (``LOWER(email)``), the same phone key, the same company
domain, and a similar company name (PostgreSQL: the trigram ``%`` operator over the GIN index;
elsewhere: names sharing the key's first three letters, compared here). Each candidate is then
scored in Python, best first.
"""

from __future__ import annotations

from typing import Any

from django.contrib.postgres.search import TrigramSimilarity
from django.db import connections, router, transaction
from django.db.models import Q, QuerySet, Value
from django.db.models.functions import Lower

from crm_project.core.matching import NAME_SIMILARITY_THRESHOLD, MatchProbe, match

CANDIDATE_LIMIT = 20
# Rows read per look-up: enough to hold the best 20 whatever mix of reasons they have.
PER_LOOKUP_LIMIT = 50
# Without trigram search (SQLite): rows sharing the name key's first letters, compared here.
PREFIX_SCAN_LIMIT = 500
RECORD_FIELDS = ("id", "company_name", "contact_person", "email", "phone")
KEY_FIELDS = ("match_company_name", "match_email_domain", "match_phone")


def _lookups(queryset: QuerySet, probe: MatchProbe, *, postgres: bool) -> list[QuerySet]:
    lookups = []
    if probe.email:
        # LOWER(email) = ...: the expression of the leads' unique index and the customers' index.
        lookups.append(queryset.annotate(email_lower=Lower("email")).filter(~Q(email=""), email_lower=probe.email))
    if probe.match_phone:
        lookups.append(queryset.exclude(match_phone="").filter(match_phone=probe.match_phone))
    if probe.match_email_domain:
        lookups.append(queryset.exclude(match_email_domain="").filter(match_email_domain=probe.match_email_domain))
    if probe.match_company_name:
        if postgres:
            similar = queryset.filter(match_company_name__trigram_similar=probe.match_company_name)
            similarity = TrigramSimilarity("match_company_name", Value(probe.match_company_name))
            lookups.append(similar.annotate(similarity=similarity).order_by("-similarity")[:PER_LOOKUP_LIMIT])
        else:
            prefix = probe.match_company_name[:3]
            lookups.append(queryset.filter(match_company_name__startswith=prefix)[:PREFIX_SCAN_LIMIT])
    return lookups


def duplicate_candidates(
    queryset: QuerySet, probe: MatchProbe, *, number_field: str, exclude_pk=None, limit: int = CANDIDATE_LIMIT
) -> list[dict[str, Any]]:
    """
    The records of ``queryset`` (the user's visible ones) likely to be the record ``probe``
    describes, best first, at most ``limit``, without ``exclude_pk`` (the record itself):
    ``{"id", "score", "reasons", "company_name", "contact_person", "email", "phone",
    number_field}`` each. A fixed number of queries, whatever the number of candidates.
    """
    if probe.is_empty:
        return []
    queryset = queryset.select_related(None).prefetch_related(None).order_by()
    if exclude_pk is not None:
        queryset = queryset.exclude(pk=exclude_pk)
    connection = connections[router.db_for_read(queryset.model)]
    postgres = connection.vendor == "postgresql"
    fields = (*RECORD_FIELDS, number_field, *KEY_FIELDS)
    rows: dict[Any, dict] = {}
    with transaction.atomic(using=connection.alias):
        if postgres and probe.match_company_name:
            # The threshold of the ``%`` operator, for this transaction only: the GIN index then
            # returns just the names at least this similar (``similarity() > x`` would scan).
            with connection.cursor() as cursor:
                cursor.execute(
                    "SELECT set_config('pg_trgm.similarity_threshold', %s, true)", [str(NAME_SIMILARITY_THRESHOLD)]
                )
        for lookup in _lookups(queryset, probe, postgres=postgres):
            if lookup.query.high_mark is None:
                lookup = lookup[:PER_LOOKUP_LIMIT]
            for row in lookup.values(*fields):
                rows.setdefault(row["id"], row)
    found = []
    for row in rows.values():
        keys = {key: row[key] for key in KEY_FIELDS}
        matched = match(
            probe, MatchProbe(email=(row["email"] or "").lower(), contact_person=row["contact_person"], **keys)
        )
        if matched is None:
            continue
        found.append(
            {
                "id": row["id"],
                "score": matched.score,
                "reasons": list(matched.reasons),
                "company_name": row["company_name"],
                "contact_person": row["contact_person"],
                "email": row["email"],
                "phone": row["phone"],
                number_field: row[number_field],
            }
        )
    found.sort(key=lambda item: (-item["score"], item[number_field]))
    return found[:limit]
