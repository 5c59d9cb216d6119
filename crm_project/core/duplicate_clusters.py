"""
Clusters of likely duplicates across a whole table (``manage.py find_duplicates``), for any
model that keeps the matching keys (see ``duplicates.py``).

Pairs come from two sources, then each pair is scored by ``matching.match`` (the same rule as
the API's candidates) and kept from ``min_score`` on; kept pairs join into clusters.

- The same address, phone key or company domain: records grouped by each key. A key shared by
  more than ``MAX_KEY_GROUP`` records (a placeholder phone, a domain with hundreds of contacts)
  pairs nobody: it says little, and would make a quadratic number of pairs. Such keys are
  counted in the result.
- A similar company name: an all-pairs trigram join by prefix filtering, exact for the
  similarity threshold. Two names with trigram similarity ≥ t share at least ⌈t·|A|⌉ of name
  A's trigrams, so they share one of A's |A| − ⌈t·|A|⌉ + 1 rarest trigrams; an inverted index
  of only those "prefix" trigrams gives the candidate pairs, verified exactly. Measured against
  PostgreSQL's own ``%`` self-join over the GIN index: that probes the index once per record,
  about 15 ms each at 100,000 customers (25 minutes), where this takes seconds.

Rows are read once, in primary-key order, in batches.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from django.db.models import QuerySet

from crm_project.core.matching import NAME_SIMILARITY_THRESHOLD, MatchProbe, clusters, match, trigrams

MAX_KEY_GROUP = 50
READ_BATCH = 5000
RECORD_FIELDS = ("id", "company_name", "contact_person", "email", "phone")


@dataclass
class DuplicateClusters:
    """The clusters found (each a list of record dicts, best-matched pairs listed), and what was left out."""

    clusters: list[dict[str, Any]] = field(default_factory=list)
    records_read: int = 0
    pairs_scored: int = 0
    skipped_keys: dict[str, int] = field(default_factory=dict)


def _similar_name_pairs(names: dict[int, str], threshold: float) -> set[tuple[int, int]]:
    """Index pairs whose names have trigram similarity ≥ ``threshold`` (prefix filtering; exact)."""
    grams = {index: trigrams(name) for index, name in names.items()}
    frequency: dict[str, int] = defaultdict(int)
    for gram_set in grams.values():
        for gram in gram_set:
            frequency[gram] += 1
    inverted: dict[str, list[int]] = defaultdict(list)
    pairs: set[tuple[int, int]] = set()
    # Shorter sets first: a set meets only earlier (not longer) ones, so the length filter
    # |B| ≥ t·|A| prunes candidates from the index.
    for index in sorted(grams, key=lambda i: len(grams[i])):
        gram_set = grams[index]
        size = len(gram_set)
        if not size:
            continue
        ordered = sorted(gram_set, key=lambda gram: (frequency[gram], gram))
        prefix = ordered[: size - math.ceil(threshold * size) + 1]
        candidates = set()
        for gram in prefix:
            posting = inverted[gram]
            candidates.update(posting)
            posting.append(index)
        for other in candidates:
            other_set = grams[other]
            if len(other_set) < threshold * size:
                continue
            shared = len(gram_set & other_set)
            if shared / (size + len(other_set) - shared) >= threshold:
                pairs.add((min(index, other), max(index, other)))
    return pairs


def duplicate_clusters(
    queryset: QuerySet,
    *,
    number_field: str,
    min_score: float,
    progress: Callable[[int], None] | None = None,
) -> DuplicateClusters:
    """
    The clusters of likely duplicates among ``queryset``'s records: each ``{"size", "score"
    (its best pair's), "records": [{"id", number_field, "company_name", "contact_person",
    "email", "phone"}], "pairs": [{"ids", "score", "reasons"}]}``, largest and best first.
    ``progress(n)`` is called as records are read.
    """
    result = DuplicateClusters()
    fields = (*RECORD_FIELDS, number_field, "match_company_name", "match_email_domain", "match_phone")
    rows: list[tuple] = []
    queryset = queryset.select_related(None).prefetch_related(None).order_by("pk")
    last_pk = None
    while True:
        batch_queryset = queryset if last_pk is None else queryset.filter(pk__gt=last_pk)
        batch = list(batch_queryset.values_list(*fields)[:READ_BATCH])
        if not batch:
            break
        rows.extend(batch)
        last_pk = batch[-1][0]
        if progress is not None:
            progress(len(batch))
    result.records_read = len(rows)
    position = {name: index for index, name in enumerate(fields)}
    probes = [
        MatchProbe(
            email=(row[position["email"]] or "").strip().lower(),
            match_email_domain=row[position["match_email_domain"]],
            match_phone=row[position["match_phone"]],
            match_company_name=row[position["match_company_name"]],
            contact_person=(row[position["contact_person"]] or "").strip(),
        )
        for row in rows
    ]

    candidate_pairs: set[tuple[int, int]] = set()
    for key, value_of in (
        ("email", lambda probe: probe.email),
        ("phone", lambda probe: probe.match_phone),
        ("email_domain", lambda probe: probe.match_email_domain),
    ):
        groups: dict[str, list[int]] = defaultdict(list)
        for index, probe in enumerate(probes):
            value = value_of(probe)
            if value:
                groups[value].append(index)
        skipped = 0
        for members in groups.values():
            if len(members) > MAX_KEY_GROUP:
                skipped += 1
                continue
            candidate_pairs.update((a, b) for position_a, a in enumerate(members) for b in members[position_a + 1 :])
        if skipped:
            result.skipped_keys[key] = skipped
    names = {index: probe.match_company_name for index, probe in enumerate(probes) if probe.match_company_name}
    candidate_pairs |= _similar_name_pairs(names, NAME_SIMILARITY_THRESHOLD)

    kept: dict[tuple[int, int], Any] = {}
    for a, b in candidate_pairs:
        found = match(probes[a], probes[b])
        if found is not None and found.score >= min_score:
            kept[(a, b)] = found
    result.pairs_scored = len(candidate_pairs)

    def record(index: int) -> dict[str, Any]:
        row = rows[index]
        return {name: row[position[name]] for name in ("id", number_field, *RECORD_FIELDS[1:])}

    pairs_of: dict[int, list] = defaultdict(list)
    for (a, b), found in kept.items():
        pairs_of[a].append((a, b, found))
    for members in clusters(kept):
        member_set = set(members)
        pairs = sorted(
            (pair for index in members for pair in pairs_of[index] if pair[1] in member_set),
            key=lambda pair: -pair[2].score,
        )
        ordered = sorted(members, key=lambda index: rows[index][position[number_field]])
        result.clusters.append(
            {
                "size": len(members),
                "score": pairs[0][2].score,
                "records": [record(index) for index in ordered],
                "pairs": [
                    {"ids": [rows[a][0], rows[b][0]], "score": found.score, "reasons": list(found.reasons)}
                    for a, b, found in pairs
                ],
            }
        )
    result.clusters.sort(key=lambda cluster: (-cluster["size"], -cluster["score"]))
    return result
