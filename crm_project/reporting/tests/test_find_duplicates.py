"""``manage.py find_duplicates``: clusters of likely duplicates across customers or leads."""

from __future__ import annotations

import csv
import io
import json
import random
import uuid

import pytest
from django.core.management import CommandError, call_command

from crm_project.core.duplicate_clusters import MAX_KEY_GROUP, _similar_name_pairs, name_threshold
from crm_project.core.matching import trigram_similarity
from customers.tests.factories import CustomerFactory
from leads.tests.factories import LeadFactory

pytestmark = pytest.mark.django_db


def run(*args) -> tuple[str, str]:
    out, err = io.StringIO(), io.StringIO()
    call_command("find_duplicates", *args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def test_customers_cluster_through_shared_keys_and_similar_names():
    a = CustomerFactory(company_name="Lotus Retail Pvt Ltd", email="a@one.example", phone="+91 98450 12345")
    b = CustomerFactory(company_name="Alpha Mills", email="b@two.example", phone="098450-12345")
    c = CustomerFactory(company_name="Lotus Retail", email="c@three.example")
    pair_1 = CustomerFactory(company_name="Zenith Motors", email="z@zenith.example")
    pair_2 = CustomerFactory(company_name="Zenith Motors LLC", email="y@other.example")
    CustomerFactory(company_name="Nothing Alike", email="n@gmail.com")
    CustomerFactory(company_name="Quite Different", email="q@gmail.com")

    out, err = run("customers", "--format", "json")
    clusters = json.loads(out)
    assert [{record["id"] for record in cluster["records"]} for cluster in clusters] == [
        {str(a.pk), str(b.pk), str(c.pk)},
        {str(pair_1.pk), str(pair_2.pk)},
    ]
    assert clusters[1]["pairs"] == [
        {"ids": clusters[1]["pairs"][0]["ids"], "score": 0.7, "reasons": ["similar_company_name"]}
    ]
    assert "2 clusters of likely duplicates (5 customers) among 7 customers" in err


def test_leads_as_csv_a_row_per_record_with_the_cluster_number(tmp_path):
    LeadFactory(company_name="Sharma Traders", email="ravi@sharma.example")
    LeadFactory(company_name="Sharma Traders Private Limited", email="priya@sharma.example")
    path = tmp_path / "dups.csv"
    out, _err = run("leads", "--output", str(path))
    assert out == ""
    rows = list(csv.DictReader(path.open()))
    assert [row["cluster"] for row in rows] == ["1", "1"]
    assert rows[0]["number"].startswith("LEAD-")
    assert rows[0]["reasons"] == "same_email_domain similar_company_name"
    assert float(rows[0]["cluster_score"]) > 0.8


def test_min_score_leaves_out_weaker_pairs():
    CustomerFactory(company_name="Alpha", email="a@acme.example")
    CustomerFactory(company_name="Beta", email="b@acme.example")  # the same company domain: 0.4
    assert len(json.loads(run("customers", "--format", "json")[0])) == 0
    assert len(json.loads(run("customers", "--format", "json", "--min-score", "0.4")[0])) == 1


def test_a_key_shared_by_too_many_records_pairs_nobody():
    # A placeholder phone on every record, and names with nothing in common.
    for n in range(MAX_KEY_GROUP + 1):
        CustomerFactory(company_name=uuid.uuid4().hex, email=f"x{n}@gmail.com", phone="0000000000")
    CustomerFactory(company_name="Alpha", email="a@gmail.com", phone="9845012345")
    CustomerFactory(company_name="Beta", email="b@gmail.com", phone="+91 98450 12345")
    out, err = run("customers", "--format", "json")
    assert [cluster["pairs"][0]["reasons"] for cluster in json.loads(out)] == [["same_phone"]]
    assert "Keys shared too widely to pair by: 1 phone" in err


@pytest.mark.parametrize("score", ["2", "-0.1", "high"])
def test_min_score_must_be_from_0_to_1(score):
    with pytest.raises(CommandError, match="--min-score"):
        run("customers", "--min-score", score)


def test_similar_name_pairs_find_every_pair_over_the_threshold():
    """The prefix filter is exact: it finds what comparing every pair finds."""
    names = [
        "lotus retail",
        "lotus retailers",
        "lotus",
        "retail lotus",
        "sharma traders",
        "verma traders",
        "ram traders",
        "raj traders",
        "kumar and sons",
        "kumar sons",
        "a",
        "ab",
        "abc",
        "zenith motors",
        "zenith motor",
    ]
    rng = random.Random(5)
    words = ["sharma", "verma", "lotus", "retail", "traders", "textile", "textiles", "kumar", "sons", "and", "ab"]
    names += [" ".join(rng.choice(words) for _ in range(rng.randint(1, 3))) for _ in range(150)]
    indexed = dict(enumerate(names))
    expected = {(i, j) for i in indexed for j in indexed if i < j and trigram_similarity(names[i], names[j]) >= 0.5}
    assert expected  # the test compares something
    assert _similar_name_pairs(indexed, 0.5) == expected
    stricter = {(i, j) for i, j in expected if trigram_similarity(names[i], names[j]) >= 0.714}
    assert _similar_name_pairs(indexed, 0.714) == stricter


def test_names_alone_are_paired_from_the_similarity_that_reaches_the_min_score():
    assert name_threshold(0.5) == pytest.approx(0.5 / 0.7)
    assert name_threshold(0.2) == 0.5
    assert name_threshold(0.9) == 1.0
