"""The normalised keys, the pg_trgm-compatible similarity, the scoring and the clustering."""

from __future__ import annotations

import pytest

from crm_project.core.matching import (
    WEIGHTS,
    MatchProbe,
    clusters,
    company_name_key,
    email_domain_key,
    match,
    phone_key,
    trigram_similarity,
    trigrams,
)


@pytest.mark.parametrize("phone", ["+91 98450 12345", "098450-12345", "(984) 501-2345", "9845012345"])
def test_phone_written_any_way_has_the_same_key(phone):
    assert phone_key(phone) == "9845012345"


@pytest.mark.parametrize("phone", ["", None, "ext 12", "123-45"])
def test_a_phone_with_too_few_digits_has_no_key(phone):
    assert phone_key(phone) == ""


@pytest.mark.parametrize(
    "email", ["a@gmail.com", "b@Yahoo.co.in", "c@hotmail.com", "d@outlook.com", "e@icloud.com", "f@yahoo.com"]
)
def test_free_mail_domains_have_no_key(email):
    assert email_domain_key(email) == ""


def test_company_domain_is_the_key_lower_cased():
    assert email_domain_key("Priya@LotusRetail.IN ") == "lotusretail.in"
    assert email_domain_key("not-an-address") == ""
    assert email_domain_key("") == ""


@pytest.mark.parametrize(
    ("name", "key"),
    [
        ("Lotus Retail Pvt Ltd", "lotus retail"),
        ("Lotus Retail Pvt. Ltd.", "lotus retail"),
        ("LOTUS RETAIL PRIVATE LIMITED", "lotus retail"),
        ("Lotus Retail", "lotus retail"),
        ("Acme, Inc.", "acme"),
        ("Acme L.L.C.", "acme"),
        ("Müller GmbH & Co. KG", "muller"),
        ("The Bombay Store", "bombay store"),
        ("Co", "co"),
        ("", ""),
    ],
)
def test_company_name_key_drops_case_punctuation_and_legal_suffixes(name, key):
    assert company_name_key(name) == key


def test_trigrams_as_pg_trgm_shows_them():
    # SELECT show_trgm('cat') → {"  c"," ca","at ",cat}
    assert trigrams("Cat") == {"  c", " ca", "cat", "at "}


def test_trigram_similarity_as_pg_trgm_computes_it():
    # SELECT similarity('word', 'two words') → 0.36363637
    assert trigram_similarity("word", "two words") == pytest.approx(0.363636, abs=1e-5)
    assert trigram_similarity("lotus retail", "lotus retail") == 1.0
    assert trigram_similarity("", "x") == 0.0


def test_legal_suffix_alone_makes_a_similar_company_name():
    found = match(MatchProbe.of(company_name="Lotus Retail Pvt Ltd"), MatchProbe.of(company_name="Lotus Retail"))
    assert found.reasons == ("similar_company_name",)
    assert found.score == WEIGHTS["similar_company_name"]


def test_free_mail_domain_gives_no_reason():
    assert match(MatchProbe.of(email="a@gmail.com"), MatchProbe.of(email="b@gmail.com")) is None


def test_same_company_domain_is_a_reason():
    found = match(MatchProbe.of(email="a@lotus.in"), MatchProbe.of(email="b@lotus.in"))
    assert found.reasons == ("same_email_domain",)


def test_same_email_does_not_count_its_domain_twice():
    found = match(MatchProbe.of(email="A@lotus.in"), MatchProbe.of(email="a@lotus.in"))
    assert found.reasons == ("same_email",)


def test_a_similar_contact_alone_is_no_candidate_but_adds_to_one():
    assert match(MatchProbe.of(contact_person="Priya Shah"), MatchProbe.of(contact_person="Priya Shah")) is None
    with_contact = match(
        MatchProbe.of(phone="98450 12345", contact_person="Priya Shah"),
        MatchProbe.of(phone="+91 9845012345", contact_person="priya shah"),
    )
    without = match(MatchProbe.of(phone="98450 12345"), MatchProbe.of(phone="+91 9845012345"))
    assert with_contact.reasons == ("same_phone", "similar_contact_name")
    assert with_contact.score > without.score


def test_more_reasons_score_higher_and_stay_within_one():
    everything = dict(company_name="Lotus Retail", email="a@lotus.in", phone="9845012345", contact_person="Priya")
    found = match(MatchProbe.of(**everything), MatchProbe.of(**everything))
    assert found.reasons == ("same_email", "same_phone", "similar_company_name", "similar_contact_name")
    assert 0.99 < found.score <= 1.0


def test_dissimilar_names_are_no_match():
    assert match(MatchProbe.of(company_name="Lotus Retail"), MatchProbe.of(company_name="Zenith Motors")) is None


def test_pairs_join_into_clusters():
    assert clusters([("a", "b"), ("c", "b"), ("x", "y"), ("a", "c")]) == [["a", "b", "c"], ["x", "y"]]
    assert clusters([]) == []
