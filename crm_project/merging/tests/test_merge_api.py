"""Merging customers and leads through the API, reading merges, and undoing them."""

from __future__ import annotations

import datetime as dt
import uuid

import pytest
from django.utils import timezone

from communications.services import communication_log
from crm_project.core.models import HistoryEntry, MergeRedirect
from crm_project.core.tests.factories import ManagerFactory
from crm_project.merging.models import Merge
from customers.models import Customer
from customers.tests.factories import CustomerFactory
from leads.models import Lead, LeadStatus
from leads.tests.factories import LeadFactory
from opportunities.tests.factories import OpportunityFactory
from segments.models import SegmentMembership
from segments.tests.factories import SegmentFactory, SegmentMembershipFactory, assert_count_is_true

pytestmark = pytest.mark.django_db

CRM = "/api/v1/crm"


def customer_merge(client, survivor, duplicates, fields=None):
    body = {"duplicate_ids": [str(d.pk) for d in duplicates]}
    if fields is not None:
        body["fields"] = fields
    return client.post(f"{CRM}/customers/{survivor.pk}/merge", body, format="json")


@pytest.fixture
def family(manager):
    """Lotus Retail twice over: a survivor and a duplicate, each with records hanging off it."""
    survivor = CustomerFactory(company_name="Lotus Retail Pvt Ltd", phone="", email="buy@lotus.example")
    duplicate = CustomerFactory(company_name="Lotus Retail", phone="+91 98450 12345", city="Pune")
    other = CustomerFactory(company_name="Someone else")
    both, only_dup, only_survivor = SegmentFactory(), SegmentFactory(), SegmentFactory()
    for segment, customer in ((both, survivor), (both, duplicate), (only_dup, duplicate), (only_survivor, survivor)):
        SegmentMembershipFactory(segment=segment, customer=customer)
    SegmentMembershipFactory(segment=both, customer=other)
    dup_opportunity = OpportunityFactory(customer=duplicate)
    survivor_opportunity = OpportunityFactory(customer=survivor)
    dup_calls = [
        communication_log(actor=manager, data={"customer": duplicate, "subject": f"Call {n}"}) for n in range(3)
    ]
    opportunity_call = communication_log(actor=manager, data={"opportunity": dup_opportunity, "subject": "On the deal"})
    converted = LeadFactory(status=LeadStatus.CONVERTED, converted_customer=duplicate)
    return {
        "survivor": survivor,
        "duplicate": duplicate,
        "other": other,
        "segments": [both, only_dup, only_survivor],
        "opportunities": [dup_opportunity, survivor_opportunity],
        "communications": [*dup_calls, opportunity_call],
        "leads": [converted],
    }


def representations(client, family) -> dict:
    """Every involved record as the API shows it, but ``updated_at``."""
    paths = [f"customers/{family['survivor'].pk}", f"customers/{family['duplicate'].pk}"]
    paths += [f"customers/{family['other'].pk}"]
    paths += [f"segments/{s.pk}" for s in family["segments"]]
    paths += [f"opportunities/{o.pk}" for o in family["opportunities"]]
    paths += [f"communications/{c.pk}" for c in family["communications"]]
    paths += [f"leads/{lead.pk}" for lead in family["leads"]]
    shown = {}
    for path in paths:
        response = client.get(f"{CRM}/{path}")
        assert response.status_code == 200, (path, response.status_code)
        shown[path] = {name: value for name, value in response.json().items() if name != "updated_at"}
    return shown


# --- merge ---------------------------------------------------------------------------------------


def test_merge_moves_everything_to_the_survivor_and_the_duplicate_answers_404_naming_it(manager_client, family):
    survivor, duplicate = family["survivor"], family["duplicate"]

    response = customer_merge(manager_client, survivor, [duplicate], fields={"phone": str(duplicate.pk)})

    assert response.status_code == 200, response.json()
    body = response.json()
    assert body["id"] == str(survivor.pk)
    assert body["phone"] == "+91 98450 12345"
    assert body["city"] == survivor.city  # not taken: the survivor's own
    both = family["segments"][0]
    assert sorted(body["segment_ids"]) == sorted(str(s.pk) for s in family["segments"])
    gone = manager_client.get(f"{CRM}/customers/{duplicate.pk}")
    assert gone.status_code == 404
    assert gone.json()["merged_into"] == str(survivor.pk)
    assert "detail" in gone.json()
    for opportunity in family["opportunities"]:
        opportunity.refresh_from_db()
        assert opportunity.customer_id == survivor.pk
    for communication in family["communications"]:
        communication.refresh_from_db()
        assert communication.customer_id == survivor.pk
    assert Lead.objects.get(pk=family["leads"][0].pk).converted_customer_id == survivor.pk
    # Nobody is in a segment twice, and every count is the number of its rows.
    assert SegmentMembership.objects.filter(customer=survivor).count() == 3
    assert_count_is_true(*family["segments"])
    both.refresh_from_db()
    assert both.customer_count == 2
    # The survivor's last contact is the latest of both.
    survivor.refresh_from_db()
    assert survivor.last_contacted_at == max(c.communication_date for c in family["communications"])
    # History on both sides, through the merge.
    merged = HistoryEntry.objects.filter(action="merged", source="merge")
    assert set(merged.values_list("record_id", flat=True)) == {survivor.pk, duplicate.pk}
    # The duplicate's timeline entries show on the survivor's timeline.
    assert not HistoryEntry.objects.filter(customer_id=duplicate.pk).exclude(action="merged").exists()


def test_merged_customer_history_stays_readable_by_managers(manager_client, family):
    customer_merge(manager_client, family["survivor"], [family["duplicate"]])

    response = manager_client.get(f"{CRM}/customers/{family['duplicate'].pk}/history")

    assert response.status_code == 200
    assert response.json()["results"][0]["action"] == "merged"
    assert response.json()["results"][0]["source"] == "merge"


def test_merge_then_undo_leaves_every_record_as_it_was(manager_client, family):
    before = representations(manager_client, family)
    counts_before = {s.pk: s.customer_count for s in family["segments"] if s.refresh_from_db() is None}
    assert counts_before[family["segments"][0].pk] == 3
    response = customer_merge(
        manager_client,
        family["survivor"],
        [family["duplicate"]],
        fields={"phone": str(family["duplicate"].pk), "city": str(family["duplicate"].pk)},
    )
    merge_id = response["X-CRM-Merge"]

    undone = manager_client.post(f"{CRM}/merges/{merge_id}/undo")

    assert undone.status_code == 200, undone.json()
    assert undone.json()["undone_at"] is not None
    after = representations(manager_client, family)
    for path, shown in before.items():
        assert after[path] == shown, path
    for segment in family["segments"]:
        segment.refresh_from_db()
        assert segment.customer_count == counts_before[segment.pk]
    assert not MergeRedirect.objects.exists()
    assert HistoryEntry.objects.filter(customer_id=family["duplicate"].pk, action="created").exists()


def test_undo_twice_is_409(manager_client, family):
    merge_id = customer_merge(manager_client, family["survivor"], [family["duplicate"]])["X-CRM-Merge"]
    assert manager_client.post(f"{CRM}/merges/{merge_id}/undo").status_code == 200

    response = manager_client.post(f"{CRM}/merges/{merge_id}/undo")

    assert response.status_code == 409
    assert "undone already" in response.json()["detail"]


def test_undo_after_30_days_is_409(manager_client, family):
    merge_id = customer_merge(manager_client, family["survivor"], [family["duplicate"]])["X-CRM-Merge"]
    Merge.objects.filter(pk=merge_id).update(merged_at=timezone.now() - dt.timedelta(days=31))

    response = manager_client.post(f"{CRM}/merges/{merge_id}/undo")

    assert response.status_code == 409
    assert Customer.objects.filter(pk=family["duplicate"].pk).exists() is False


def test_undo_is_409_naming_an_opportunity_moved_elsewhere_since(manager_client, family):
    merge_id = customer_merge(manager_client, family["survivor"], [family["duplicate"]])["X-CRM-Merge"]
    moved = family["opportunities"][0]
    elsewhere = CustomerFactory()
    response = manager_client.patch(
        f"{CRM}/opportunities/{moved.pk}", {"customer_id": str(elsewhere.pk)}, format="json"
    )
    assert response.status_code == 200, response.json()

    response = manager_client.post(f"{CRM}/merges/{merge_id}/undo")

    assert response.status_code == 409
    assert str(moved.pk) in response.json()["detail"]
    assert not Customer.objects.filter(pk=family["duplicate"].pk).exists()
    assert Merge.objects.get(pk=merge_id).undone_at is None


def test_undo_is_409_naming_a_taken_field_changed_since(manager_client, family):
    duplicate = family["duplicate"]
    merge_id = customer_merge(manager_client, family["survivor"], [duplicate], fields={"phone": str(duplicate.pk)})[
        "X-CRM-Merge"
    ]
    manager_client.patch(f"{CRM}/customers/{family['survivor'].pk}", {"phone": "022 555 0101"}, format="json")

    response = manager_client.post(f"{CRM}/merges/{merge_id}/undo")

    assert response.status_code == 409
    assert "phone" in response.json()["detail"]


def test_undo_is_409_when_a_moved_communication_was_deleted(manager_client, family):
    merge_id = customer_merge(manager_client, family["survivor"], [family["duplicate"]])["X-CRM-Merge"]
    call = family["communications"][0]
    assert manager_client.delete(f"{CRM}/communications/{call.pk}").status_code == 204

    response = manager_client.post(f"{CRM}/merges/{merge_id}/undo")

    assert response.status_code == 409
    assert str(call.pk) in response.json()["detail"]


def test_a_communication_logged_on_the_survivor_after_the_merge_stays_there_on_undo(manager_client, manager, family):
    merge_id = customer_merge(manager_client, family["survivor"], [family["duplicate"]])["X-CRM-Merge"]
    later = communication_log(actor=manager, data={"customer": family["survivor"], "subject": "After"})

    assert manager_client.post(f"{CRM}/merges/{merge_id}/undo").status_code == 200

    later.refresh_from_db()
    assert later.customer_id == family["survivor"].pk


# --- validation ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"duplicate_ids": []},
        {"duplicate_ids": "not a list"},
        {"duplicate_ids": ["not-a-uuid"]},
        {"duplicate_ids": [None]},
        {"duplicate_ids": [{"id": 1}]},
        {"duplicate_ids": ["DUP", "DUP"]},
        {"duplicate_ids": ["SELF"]},
        {"duplicate_ids": [str(uuid.UUID(int=7))]},
        {"duplicate_ids": ["DUP"], "fields": {"nonsense": "DUP"}},
        {"duplicate_ids": ["DUP"], "fields": {"phone": str(uuid.UUID(int=7))}},
        {"duplicate_ids": ["DUP"], "fields": {"phone": "not-a-uuid"}},
        {"duplicate_ids": ["DUP"], "fields": ["phone"]},
        {"duplicate_ids": ["DUP"], "fields": {"customer_code": "DUP"}},
        {"duplicate_ids": ["DUP"], "fields": {"id": "DUP"}},
    ],
)
def test_malformed_merges_are_400_and_change_nothing(manager_client, family, body):
    survivor, duplicate = family["survivor"], family["duplicate"]

    def fill(value):
        if value == "DUP":
            return str(duplicate.pk)
        if value == "SELF":
            return str(survivor.pk)
        if isinstance(value, list):
            return [fill(v) for v in value]
        if isinstance(value, dict):
            return {k: fill(v) for k, v in value.items()}
        return value

    response = manager_client.post(f"{CRM}/customers/{survivor.pk}/merge", fill(body), format="json")

    assert response.status_code == 400, response.json()
    assert Customer.objects.filter(pk=duplicate.pk).exists()
    assert not Merge.objects.exists()


def test_a_field_not_mergeable_is_named(manager_client, family):
    response = customer_merge(
        manager_client, family["survivor"], [family["duplicate"]], fields={"nonsense": str(family["duplicate"].pk)}
    )

    assert response.status_code == 400
    assert "nonsense" in response.json()["fields"][0]


def test_merging_a_customer_merged_away_already_is_409_naming_its_survivor(manager_client, family):
    customer_merge(manager_client, family["survivor"], [family["duplicate"]])

    response = customer_merge(manager_client, family["other"], [family["duplicate"]])

    assert response.status_code == 409
    assert str(family["survivor"].pk) in response.json()["detail"]


def test_merging_into_an_unknown_customer_is_404(manager_client, family):
    response = manager_client.post(
        f"{CRM}/customers/{uuid.UUID(int=9)}/merge", {"duplicate_ids": [str(family["duplicate"].pk)]}, format="json"
    )
    assert response.status_code == 404
    assert manager_client.post(f"{CRM}/customers/{'-' * 36}/merge", {}, format="json").status_code == 404


def test_reps_cannot_merge_undo_or_read_merges(rep_client, manager_client, family):
    assert customer_merge(rep_client, family["survivor"], [family["duplicate"]]).status_code == 403
    merge_id = customer_merge(manager_client, family["survivor"], [family["duplicate"]])["X-CRM-Merge"]
    assert rep_client.get(f"{CRM}/merges").status_code == 403
    assert rep_client.get(f"{CRM}/merges/{merge_id}").status_code == 403
    assert rep_client.post(f"{CRM}/merges/{merge_id}/undo").status_code == 403
    lead, other = LeadFactory(), LeadFactory()
    assert (
        rep_client.post(f"{CRM}/leads/{lead.pk}/merge", {"duplicate_ids": [str(other.pk)]}, format="json").status_code
        == 403
    )


# --- merge records ---------------------------------------------------------------------------------


def test_merges_are_listed_and_read_with_what_moved(manager_client, manager, family):
    merge_id = customer_merge(manager_client, family["survivor"], [family["duplicate"]])["X-CRM-Merge"]

    listed = manager_client.get(f"{CRM}/merges?kind=customer")
    detail = manager_client.get(f"{CRM}/merges/{merge_id}")

    assert listed.status_code == 200
    assert listed.json()["count"] == 1
    row = listed.json()["results"][0]
    assert row["survivor_id"] == str(family["survivor"].pk)
    assert row["duplicate_ids"] == [str(family["duplicate"].pk)]
    assert row["merged_by_id"] == manager.pk
    assert row["moved_counts"]["communications"] == 4
    assert row["moved_counts"]["opportunities"] == 1
    assert detail.status_code == 200
    moved = detail.json()["moved"]
    assert moved["opportunities"] == {str(family["duplicate"].pk): [str(family["opportunities"][0].pk)]}
    assert manager_client.get(f"{CRM}/merges?kind=lead").json()["count"] == 0
    assert manager_client.get(f"{CRM}/merges?kind=bogus").status_code == 400
    assert manager_client.get(f"{CRM}/merges/{uuid.UUID(int=3)}").status_code == 404


# --- leads -----------------------------------------------------------------------------------------


def test_lead_merge_moves_communications_and_opportunities_and_undo_restores(manager_client, manager):
    survivor = LeadFactory(email="a@lotus.example", phone="")
    duplicate = LeadFactory(email="b@lotus.example", phone="98450 12345")
    call = communication_log(actor=manager, data={"lead": duplicate, "subject": "Hello"})
    opportunity = OpportunityFactory(lead=duplicate)
    before = {
        path: {k: v for k, v in manager_client.get(f"{CRM}/{path}").json().items() if k != "updated_at"}
        for path in (
            f"leads/{survivor.pk}",
            f"leads/{duplicate.pk}",
            f"communications/{call.pk}",
            f"opportunities/{opportunity.pk}",
        )
    }

    response = manager_client.post(
        f"{CRM}/leads/{survivor.pk}/merge",
        {"duplicate_ids": [str(duplicate.pk)], "fields": {"email": str(duplicate.pk), "phone": str(duplicate.pk)}},
        format="json",
    )

    assert response.status_code == 200, response.json()
    assert response.json()["email"] == "b@lotus.example"
    gone = manager_client.get(f"{CRM}/leads/{duplicate.pk}")
    assert gone.status_code == 404 and gone.json()["merged_into"] == str(survivor.pk)
    call.refresh_from_db()
    opportunity.refresh_from_db()
    assert call.lead_id == survivor.pk and opportunity.lead_id == survivor.pk

    undone = manager_client.post(f"{CRM}/merges/{response['X-CRM-Merge']}/undo")

    assert undone.status_code == 200, undone.json()
    after = {
        path: {k: v for k, v in manager_client.get(f"{CRM}/{path}").json().items() if k != "updated_at"}
        for path in before
    }
    assert after == before


def test_converted_leads_are_not_merged(manager_client):
    survivor = LeadFactory()
    converted = LeadFactory(status=LeadStatus.CONVERTED, converted_customer=CustomerFactory())

    response = manager_client.post(
        f"{CRM}/leads/{survivor.pk}/merge", {"duplicate_ids": [str(converted.pk)]}, format="json"
    )

    assert response.status_code == 409
    assert converted.lead_number in response.json()["detail"]
    assert Lead.objects.filter(pk=converted.pk).exists()


def test_a_merged_away_survivor_cannot_be_undone_before_its_own_merge(manager_client, family):
    first = customer_merge(manager_client, family["survivor"], [family["duplicate"]])["X-CRM-Merge"]
    customer_merge(manager_client, family["other"], [family["survivor"]])

    response = manager_client.post(f"{CRM}/merges/{first}/undo")

    assert response.status_code == 409
    assert "undo that merge first" in response.json()["detail"]
    # Followed through both merges.
    gone = manager_client.get(f"{CRM}/customers/{family['duplicate'].pk}")
    assert gone.json()["merged_into"] == str(family["other"].pk)


def test_a_merged_customer_can_be_merged_again_after_an_undo(manager_client, family):
    merge_id = customer_merge(manager_client, family["survivor"], [family["duplicate"]])["X-CRM-Merge"]
    manager_client.post(f"{CRM}/merges/{merge_id}/undo")

    response = customer_merge(manager_client, family["survivor"], [family["duplicate"]])

    assert response.status_code == 200


def test_managers_other_than_the_merger_may_undo(client_for, manager_client, family):
    merge_id = customer_merge(manager_client, family["survivor"], [family["duplicate"]])["X-CRM-Merge"]

    response = client_for(ManagerFactory()).post(f"{CRM}/merges/{merge_id}/undo")

    assert response.status_code == 200


def test_a_customer_merge_tells_the_subscribers_of_customer_merged(manager_client, family):
    from crm_project.core.models import WebhookEvent, WebhookSubscription

    WebhookSubscription.objects.create(url="https://hooks.example.com/crm", events=["customer.merged"], secret="s" * 16)

    customer_merge(manager_client, family["survivor"], [family["duplicate"]])

    event = WebhookEvent.objects.get(type="customer.merged")
    assert event.record_id == family["survivor"].pk
    assert event.data["id"] == str(family["survivor"].pk)
    assert event.data["merged_ids"] == [str(family["duplicate"].pk)]


def test_a_merged_lead_is_a_plain_404_to_a_rep_who_may_not_see_its_survivor(manager_client, rep_client, rep, other_rep):
    survivor = LeadFactory(assigned_to=other_rep)
    duplicate = LeadFactory(assigned_to=rep)
    manager_client.post(f"{CRM}/leads/{survivor.pk}/merge", {"duplicate_ids": [str(duplicate.pk)]}, format="json")

    response = rep_client.get(f"{CRM}/leads/{duplicate.pk}")

    assert response.status_code == 404
    assert "merged_into" not in response.json()
    assert manager_client.get(f"{CRM}/leads/{duplicate.pk}").json()["merged_into"] == str(survivor.pk)


def test_a_lead_merge_leaves_history_on_both_sides(manager_client):
    survivor, duplicate = LeadFactory(), LeadFactory()

    manager_client.post(f"{CRM}/leads/{survivor.pk}/merge", {"duplicate_ids": [str(duplicate.pk)]}, format="json")

    for lead in (survivor, duplicate):
        entries = manager_client.get(f"{CRM}/leads/{lead.pk}/history").json()["results"]
        assert (entries[0]["action"], entries[0]["source"]) == ("merged", "merge")


def test_undo_is_409_naming_a_segment_deleted_since(manager_client, family):
    merge_id = customer_merge(manager_client, family["survivor"], [family["duplicate"]])["X-CRM-Merge"]
    only_dup = family["segments"][1]
    assert manager_client.delete(f"{CRM}/segments/{only_dup.pk}").status_code == 204

    response = manager_client.post(f"{CRM}/merges/{merge_id}/undo")

    assert response.status_code == 409
    assert str(only_dup.pk) in response.json()["detail"]


def test_undo_is_409_when_the_survivor_left_a_segment_it_joined_by_the_merge(manager_client, family):
    merge_id = customer_merge(manager_client, family["survivor"], [family["duplicate"]])["X-CRM-Merge"]
    only_dup = family["segments"][1]
    manager_client.post(
        f"{CRM}/segments/{only_dup.pk}/remove-customers",
        {"customer_ids": [str(family["survivor"].pk)]},
        format="json",
    )
    assert not SegmentMembership.objects.filter(segment=only_dup, customer=family["survivor"]).exists()

    response = manager_client.post(f"{CRM}/merges/{merge_id}/undo")

    assert response.status_code == 409
    assert only_dup.code in response.json()["detail"]


def test_undo_of_a_lead_merge_is_409_when_its_email_was_taken_since(manager_client):
    survivor, duplicate = LeadFactory(email="a@lotus.example"), LeadFactory(email="b@lotus.example")
    merge_id = manager_client.post(
        f"{CRM}/leads/{survivor.pk}/merge", {"duplicate_ids": [str(duplicate.pk)]}, format="json"
    )["X-CRM-Merge"]
    newcomer = LeadFactory(email="B@lotus.example")

    response = manager_client.post(f"{CRM}/merges/{merge_id}/undo")

    assert response.status_code == 409
    assert newcomer.lead_number in response.json()["detail"]
    assert not Lead.objects.filter(pk=duplicate.pk).exists()


def test_the_survivor_s_timeline_shows_what_the_duplicate_had(manager_client, family):
    customer_merge(manager_client, family["survivor"], [family["duplicate"]])

    response = manager_client.get(f"{CRM}/customers/{family['survivor'].pk}/timeline?types=communication")

    shown = {item["record_id"] for item in response.json()["results"]}
    assert {str(c.pk) for c in family["communications"]} <= shown


def test_merges_filter_by_undone_and_refuse_a_bad_boolean(manager_client, family):
    merge_id = customer_merge(manager_client, family["survivor"], [family["duplicate"]])["X-CRM-Merge"]

    assert manager_client.get(f"{CRM}/merges?undone=false").json()["count"] == 1
    assert manager_client.get(f"{CRM}/merges?undone=true").json()["count"] == 0
    manager_client.post(f"{CRM}/merges/{merge_id}/undo")
    assert manager_client.get(f"{CRM}/merges?undone=true").json()["count"] == 1
    assert manager_client.get(f"{CRM}/merges?undone=-58800").status_code == 400
