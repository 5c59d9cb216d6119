"""
Duplicate matching, without any domain: the normalised keys that records are compared by, the
trigram similarity that compares company and contact names, the one table of scoring weights,
and the clustering of matched pairs. The domains keep the keys on their records (their
services set them on every write) and look candidates up by them (their selectors).

- ``phone_key``: the last 10 digits of a phone number ("+91 98450-12345", "098450 12345" and
  "9845012345" are one number); "" when it has fewer than 7 digits (an extension, a typo).
- ``email_domain_key``: the lower-cased domain of an e-mail address, "" for a free-mail
  provider (two gmail.com addresses say nothing about being one company).
- ``company_name_key``: the company name lower-cased, without accents, punctuation and legal
  suffixes ("Lotus Retail Pvt. Ltd." → "lotus retail").

Names compare by trigram similarity as PostgreSQL's pg_trgm computes it (``trigram_similarity``
is the same computation, for SQLite and for the scoring), so that the ``%`` operator with
``pg_trgm.similarity_threshold = NAME_SIMILARITY_THRESHOLD`` finds exactly the names that
score as similar here.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Hashable, Iterable
from dataclasses import dataclass

PHONE_KEY_DIGITS = 10
PHONE_KEY_MIN_DIGITS = 7

# Providers whose addresses anyone can have: a shared domain there is no reason. Matched on
# the whole domain, or on its first label for providers with a domain per country (yahoo.co.in).
FREE_MAIL_DOMAINS = frozenset(
    {
        "gmail.com",
        "googlemail.com",
        "ymail.com",
        "rocketmail.com",
        "msn.com",
        "icloud.com",
        "me.com",
        "mac.com",
        "aol.com",
        "protonmail.com",
        "proton.me",
        "pm.me",
        "mail.com",
        "email.com",
        "zoho.com",
        "zohomail.com",
        "rediffmail.com",
        "gmx.com",
        "gmx.net",
        "web.de",
        "qq.com",
        "163.com",
        "126.com",
        "mail.ru",
        "inbox.com",
        "fastmail.com",
        "tutanota.com",
        "hey.com",
    }
)
FREE_MAIL_PROVIDERS = frozenset({"yahoo", "hotmail", "outlook", "live", "windowslive", "yandex", "gmx", "aol"})

# Words that say what legal form a company has, not which company it is: dropped from the end
# of a name ("Lotus Retail Pvt Ltd", "Lotus Retail Private Limited" and "Lotus Retail" match).
LEGAL_SUFFIXES = frozenset(
    {
        "ltd",
        "limited",
        "pvt",
        "private",
        "llc",
        "llp",
        "lp",
        "plc",
        "gmbh",
        "inc",
        "incorporated",
        "corp",
        "corporation",
        "co",
        "company",
        "sa",
        "ag",
        "bv",
        "nv",
        "srl",
        "spa",
        "sas",
        "sarl",
        "pty",
        "pte",
        "kg",
        "oy",
        "ab",
        "as",
        "kk",
        "ltda",
        "sdn",
        "bhd",
        "opc",
    }
)
LEADING_WORDS = frozenset({"the"})

# Two names are similar from this trigram similarity on (also the ``%`` operator's threshold).
NAME_SIMILARITY_THRESHOLD = 0.5

# How much each reason says that two records are one: a reason with weight w leaves a chance
# (1 - w) that they are different, the chances multiply, and the score is 1 - that product
# (0-1; more reasons, higher score). A similar name counts with its similarity times the weight.
# The only place these numbers live.
WEIGHTS = {
    "same_email": 0.9,
    "same_phone": 0.8,
    "similar_company_name": 0.7,
    "same_email_domain": 0.4,
    "similar_contact_name": 0.4,
}
# A candidate needs one of these; a similar contact name only adds to one (common names abound).
PRIMARY_REASONS = ("same_email", "same_phone", "similar_company_name", "same_email_domain")
REASON_ORDER = tuple(WEIGHTS)

_ACRONYM_DOTS = re.compile(r"\b(?:\w\.){2,}")
_NOT_WORD = re.compile(r"[\W_]+")
_NOT_DIGIT = re.compile(r"\D+")


def _ascii_folded(value: str) -> str:
    decomposed = unicodedata.normalize("NFKD", value)
    return "".join(char for char in decomposed if not unicodedata.combining(char)).casefold()


def phone_key(phone: str | None) -> str:
    """The last 10 digits of ``phone``; "" when it has fewer than 7."""
    digits = _NOT_DIGIT.sub("", phone or "")
    return digits[-PHONE_KEY_DIGITS:] if len(digits) >= PHONE_KEY_MIN_DIGITS else ""


def is_free_mail(domain: str) -> bool:
    domain = domain.lower()
    return domain in FREE_MAIL_DOMAINS or domain.split(".", 1)[0] in FREE_MAIL_PROVIDERS


def email_key(email: str | None) -> str:
    """The address as compared: trimmed, lower-cased."""
    return (email or "").strip().lower()


def email_domain_key(email: str | None) -> str:
    """The lower-cased domain of ``email``; "" for a free-mail provider or no address."""
    _, at, domain = email_key(email).rpartition("@")
    domain = domain.strip(".")
    if not at or not domain or is_free_mail(domain):
        return ""
    return domain


def company_name_key(name: str | None) -> str:
    """``name`` lower-cased, without accents, punctuation, a leading "the" and trailing legal suffixes."""
    folded = _ascii_folded(name or "").replace("&", " and ")
    # "L.L.C." and "S.A." are one word each; other punctuation separates words ("Pvt.Ltd.").
    folded = _ACRONYM_DOTS.sub(lambda match: match.group(0).replace(".", ""), folded)
    words = _NOT_WORD.sub(" ", folded).split()
    # "Müller GmbH & Co. KG": the "and" left between two suffixes goes with them.
    while len(words) > 1 and (words[-1] in LEGAL_SUFFIXES or words[-1] == "and"):
        words.pop()
    while len(words) > 1 and words[0] in LEADING_WORDS:
        words.pop(0)
    return " ".join(words)


def match_keys(*, company_name: str | None, email: str | None, phone: str | None) -> dict[str, str]:
    """The three keys a record keeps, by field name (``match_*`` on Customer and Lead)."""
    return {
        "match_company_name": company_name_key(company_name),
        "match_email_domain": email_domain_key(email),
        "match_phone": phone_key(phone),
    }


def set_match_keys(record) -> None:
    """Set a record's ``match_*`` keys from its company name, e-mail and phone (before its save)."""
    keys = match_keys(company_name=record.company_name, email=record.email, phone=record.phone)
    for name, value in keys.items():
        setattr(record, name, value)


# --- trigram similarity, as pg_trgm computes it -------------------------------------------------

_TRIGRAM_WORD = re.compile(r"[^\W_]+")


def trigrams(value: str) -> frozenset[str]:
    """pg_trgm's ``show_trgm``: each alphanumeric word lower-cased, padded "  word ", cut in threes."""
    result = set()
    for word in _TRIGRAM_WORD.findall(value.lower()):
        padded = f"  {word} "
        result.update(padded[index : index + 3] for index in range(len(padded) - 2))
    return frozenset(result)


def trigram_similarity(left: str, right: str) -> float:
    """pg_trgm's ``similarity()``: shared trigrams over all trigrams of the two; 0 when either has none."""
    a, b = trigrams(left or ""), trigrams(right or "")
    if not a or not b:
        return 0.0
    shared = len(a & b)
    return shared / (len(a) + len(b) - shared)


# --- scoring ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class MatchProbe:
    """What a record is compared by: its keys and its contact name."""

    email: str = ""
    match_email_domain: str = ""
    match_phone: str = ""
    match_company_name: str = ""
    contact_person: str = ""

    @classmethod
    def of(cls, *, company_name="", email="", phone="", contact_person="") -> MatchProbe:
        keys = match_keys(company_name=company_name, email=email, phone=phone)
        return cls(email=email_key(email), contact_person=(contact_person or "").strip(), **keys)

    @classmethod
    def of_record(cls, record) -> MatchProbe:
        """A saved Customer or Lead, by the keys its service keeps."""
        return cls(
            email=email_key(record.email),
            match_email_domain=record.match_email_domain,
            match_phone=record.match_phone,
            match_company_name=record.match_company_name,
            contact_person=(record.contact_person or "").strip(),
        )

    @property
    def is_empty(self) -> bool:
        return not (self.email or self.match_email_domain or self.match_phone or self.match_company_name)


@dataclass(frozen=True)
class Match:
    score: float
    reasons: tuple[str, ...]


def match(probe: MatchProbe, candidate: MatchProbe) -> Match | None:
    """How likely ``candidate`` is the same as ``probe``, and why; ``None`` when nothing says so."""
    strengths: dict[str, float] = {}
    if probe.email and probe.email == candidate.email:
        strengths["same_email"] = 1.0
    elif probe.match_email_domain and probe.match_email_domain == candidate.match_email_domain:
        # Implied by the same address: counted only for two addresses at one company.
        strengths["same_email_domain"] = 1.0
    if probe.match_phone and probe.match_phone == candidate.match_phone:
        strengths["same_phone"] = 1.0
    if probe.match_company_name and candidate.match_company_name:
        similarity = trigram_similarity(probe.match_company_name, candidate.match_company_name)
        if similarity >= NAME_SIMILARITY_THRESHOLD:
            strengths["similar_company_name"] = similarity
    if not any(reason in strengths for reason in PRIMARY_REASONS):
        return None
    if probe.contact_person and candidate.contact_person:
        similarity = trigram_similarity(probe.contact_person, candidate.contact_person)
        if similarity >= NAME_SIMILARITY_THRESHOLD:
            strengths["similar_contact_name"] = similarity
    chance_different = 1.0
    for reason, strength in strengths.items():
        chance_different *= 1.0 - WEIGHTS[reason] * strength
    reasons = tuple(reason for reason in REASON_ORDER if reason in strengths)
    return Match(score=round(1.0 - chance_different, 3), reasons=reasons)


# --- clusters -----------------------------------------------------------------------------------


def clusters(pairs: Iterable[tuple[Hashable, Hashable]]) -> list[list[Hashable]]:
    """
    Join matched pairs into clusters (union-find): a~b and b~c make {a, b, c}. Clusters of two
    or more, each sorted, the largest first.
    """
    parent: dict[Hashable, Hashable] = {}

    def root(item):
        parent.setdefault(item, item)
        while parent[item] != item:
            # Path halving: later look-ups of this chain take fewer steps.
            parent[item] = parent[parent[item]]
            item = parent[item]
        return item

    for left, right in pairs:
        a, b = root(left), root(right)
        if a != b:
            parent[max(a, b, key=str)] = min(a, b, key=str)
    groups: dict[Hashable, list] = {}
    for item in parent:
        groups.setdefault(root(item), []).append(item)
    found = [sorted(members, key=str) for members in groups.values() if len(members) > 1]
    return sorted(found, key=lambda members: (-len(members), str(members[0])))
