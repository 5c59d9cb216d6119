"""
A client generated from the OpenAPI document works: openapi-python-client (the pinned version)
turns the document into a typed package, as an API consumer would, and through that package
alone, against a live server, a manager and a sales rep sign in, run the CRM's four workflows
(a lead's journey to customer, the sales pipeline, customer relationship tracking, customer
segmentation), and read every GET operation of the API, each answer parsed into its model.

So the document cannot drift from what a typed consumer needs: an enum it cannot parse, an
error shape repeated per operation, a body without a name all fail here.
"""

from __future__ import annotations

import datetime as dt
import importlib
import re
import subprocess
import sys
import uuid
from types import ModuleType, SimpleNamespace

import pytest
from django.utils import timezone
from drf_spectacular.generators import SchemaGenerator
from drf_spectacular.renderers import OpenApiYamlRenderer

from communications.tests.factories import CommunicationFactory
from crm_project.core import history
from crm_project.core.models import Job, JobStatus, WebhookDelivery, WebhookEvent, WebhookSubscription
from crm_project.core.tests.factories import PASSWORD
from crm_project.merging.models import Merge
from customers.tests.factories import CustomerFactory
from leads.tests.factories import LeadFactory
from opportunities.models import Quota
from opportunities.tests.factories import OpportunityFactory, OpportunityStageChangeFactory
from segments.tests.factories import SegmentFactory, SegmentMembershipFactory

pytest.importorskip("openapi_python_client", reason="openapi-python-client is not installed (requirements-dev.txt)")

pytestmark = [
    # The live server answers from another thread: what a test arranges must be committed.
    pytest.mark.django_db(transaction=True),
]

PACKAGE = "crm_generated_client"
# Measured: 72 models, then 95 with history, the timeline and webhooks, 129 with merges,
# duplicates, quotas and the forecast; room left for new endpoints (509 while each operation had
# its own error models).
MAX_MODELS = 140


# --- the generated package ----------------------------------------------------------------------


@pytest.fixture(scope="module")
def generated(tmp_path_factory) -> SimpleNamespace:
    """The typed package generated from the document ``/api/schema`` serves (its generator), imported."""
    root = tmp_path_factory.mktemp("generated-client")
    document = SchemaGenerator().get_schema(request=None, public=True)
    schema_file = root / "schema.yaml"
    schema_file.write_bytes(OpenApiYamlRenderer().render(document, renderer_context={}))
    config = root / "config.yaml"
    config.write_text("post_hooks: []\n")  # No formatting of the generated code: not needed to run it.
    command = [
        *(sys.executable, "-m", "openapi_python_client", "generate"),
        *("--path", str(schema_file), "--output-path", str(root / PACKAGE), "--meta", "none"),
        *("--config", str(config), "--fail-on-warning"),
    ]
    generation = subprocess.run(command, capture_output=True, text=True, timeout=120)
    assert generation.returncode == 0, generation.stdout + generation.stderr

    sys.path.insert(0, str(root))
    try:
        yield SimpleNamespace(models=importlib.import_module(f"{PACKAGE}.models"), document=document, root=root)
    finally:
        sys.path.remove(str(root))
        for name in [name for name in sys.modules if name == PACKAGE or name.startswith(f"{PACKAGE}.")]:
            del sys.modules[name]


def operation_module(generated, tag: str, operation_id: str) -> ModuleType:
    return importlib.import_module(f"{PACKAGE}.api.{tag}.{operation_id}")


@pytest.fixture
def sign_in(generated, live_server):
    """``sign_in(user)``: a typed client holding that user's access token, got through the API."""
    from crm_generated_client import AuthenticatedClient, Client
    from crm_generated_client.api.auth import auth_token_create
    from crm_generated_client.models import TokenObtainRequest, TokenPair

    def sign_in(user) -> AuthenticatedClient:
        anonymous = Client(base_url=live_server.url, raise_on_unexpected_status=True)
        tokens = auth_token_create.sync(
            client=anonymous, body=TokenObtainRequest(username=user.get_username(), password=PASSWORD)
        )
        assert isinstance(tokens, TokenPair)
        return AuthenticatedClient(base_url=live_server.url, token=tokens.access, raise_on_unexpected_status=True)

    return sign_in


# --- what consumers get -------------------------------------------------------------------------


def test_the_generated_client_has_one_model_per_shape(generated):
    modules = sorted(path.stem for path in (generated.root / PACKAGE / "models").glob("*.py"))
    per_operation = [name for name in modules if re.search(r"_response_\d{3}|_body(_type_\d+)?$|_type_\d+$", name)]
    assert not per_operation, per_operation
    assert len(generated.models.__all__) <= MAX_MODELS
    for shared in ("ErrorDetail", "ValidationError", "OpportunityCloseWonRequest", "CustomerIdsRequest", "JSONObject"):
        assert shared in generated.models.__all__


# --- the four workflows -------------------------------------------------------------------------


def test_a_lead_s_journey_to_customer_through_the_typed_client(sign_in, rep):
    from crm_generated_client.api.communications import crm_communications_create
    from crm_generated_client.api.customers import crm_customers_create
    from crm_generated_client.api.leads import (
        crm_leads_convert_create,
        crm_leads_create,
        crm_leads_qualify_create,
        crm_leads_retrieve,
    )
    from crm_generated_client.api.opportunities import (
        crm_opportunities_close_create,
        crm_opportunities_create,
        crm_opportunities_stage_history_list,
        crm_opportunities_update,
    )
    from crm_generated_client.models import (
        ClosingStageEnum,
        Communication,
        CommunicationDirectionEnum,
        CommunicationInputRequest,
        CommunicationTypeEnum,
        Customer,
        CustomerInputRequest,
        JSONObject,
        Lead,
        LeadConvertRequest,
        LeadCreateRequest,
        LeadPriorityEnum,
        LeadQualifyRequest,
        LeadSourceEnum,
        LeadStatusEnum,
        Opportunity,
        OpportunityCloseWonRequest,
        OpportunityInputRequest,
        OpportunityStageChange,
        OpportunityStageEnum,
        PaginatedOpportunityStageChangeList,
        PatchedOpportunityInputRequest,
    )

    client = sign_in(rep)
    lead = crm_leads_create.sync(
        client=client,
        body=LeadCreateRequest(
            company_name="Tech Solutions Ltd",
            contact_person="John Doe",
            email="john@techsolutions.example",
            source=LeadSourceEnum.WEBSITE,
            priority=LeadPriorityEnum.HIGH,
            estimated_deal_value=50000.0,
            assigned_to_id=rep.pk,
        ),
    )
    assert isinstance(lead, Lead) and lead.status == LeadStatusEnum.NEW
    assert re.fullmatch(r"LEAD-\d{8}-\d{4,}", lead.lead_number)

    logged = crm_communications_create.sync(
        client=client,
        body=CommunicationInputRequest(
            subject="First call",
            lead_id=lead.id,
            type_=CommunicationTypeEnum.PHONE,
            direction=CommunicationDirectionEnum.OUTBOUND,
            duration_minutes=15,
        ),
    )
    assert isinstance(logged, Communication) and logged.type_ == CommunicationTypeEnum.PHONE
    assert crm_leads_retrieve.sync(lead.id, client=client).status == LeadStatusEnum.CONTACTED

    qualified = crm_leads_qualify_create.sync(
        lead.id, client=client, body=LeadQualifyRequest(qualification_score=85, notes="Budget confirmed")
    )
    assert isinstance(qualified, Lead) and qualified.status == LeadStatusEnum.QUALIFIED

    customer = crm_customers_create.sync(client=client, body=CustomerInputRequest(company_name="Tech Solutions Ltd"))
    assert isinstance(customer, Customer)
    opportunity = crm_opportunities_create.sync(
        client=client,
        body=OpportunityInputRequest(
            name="Q4 Winter Collection Order",
            customer_id=customer.id,
            lead_id=lead.id,
            estimated_value=150000.0,
            probability=70,
            stage=OpportunityStageEnum.PROPOSAL,
            expected_close_date=timezone.now() + dt.timedelta(days=30),
            products_interested=JSONObject.from_dict({"categories": ["Jackets", "Sweaters"], "quantity": 500}),
        ),
    )
    assert isinstance(opportunity, Opportunity) and opportunity.expected_revenue == 105000.0
    assert isinstance(opportunity.products_interested, JSONObject)

    crm_communications_create.sync(
        client=client,
        body=CommunicationInputRequest(
            subject="Sent the quotation",
            opportunity_id=opportunity.id,
            requires_follow_up=True,
            follow_up_date=timezone.now() + dt.timedelta(days=2),
        ),
    )
    moved = crm_opportunities_update.sync(
        opportunity.id,
        client=client,
        body=PatchedOpportunityInputRequest(
            stage=OpportunityStageEnum.NEGOTIATION, probability=85, next_step="Send final proposal with pricing"
        ),
    )
    assert isinstance(moved, Opportunity) and moved.stage == OpportunityStageEnum.NEGOTIATION
    won = crm_opportunities_close_create.sync(
        opportunity.id,
        client=client,
        body=OpportunityCloseWonRequest(stage=ClosingStageEnum.CLOSED_WON, notes="Deal closed - PO received"),
    )
    assert isinstance(won, Opportunity) and won.is_won and won.stage == OpportunityStageEnum.CLOSED_WON

    converted = crm_leads_convert_create.sync(
        lead.id, client=client, body=LeadConvertRequest(customer_id=customer.id, notes="First order")
    )
    assert isinstance(converted, Lead) and converted.status == LeadStatusEnum.CONVERTED
    assert converted.converted_customer_id == customer.id

    history = crm_opportunities_stage_history_list.sync(opportunity.id, client=client)
    assert isinstance(history, PaginatedOpportunityStageChangeList)
    assert all(isinstance(row, OpportunityStageChange) for row in history.results)
    assert [(row.from_stage, row.to_stage) for row in history.results] == [
        (None, OpportunityStageEnum.PROPOSAL),
        (OpportunityStageEnum.PROPOSAL, OpportunityStageEnum.NEGOTIATION),
        (OpportunityStageEnum.NEGOTIATION, OpportunityStageEnum.CLOSED_WON),
    ]


def test_the_sales_pipeline_through_the_typed_client(sign_in, manager, rep):
    from crm_generated_client.api.opportunities import (
        crm_opportunities_close_create,
        crm_opportunities_list,
        crm_opportunities_partial_update,
        crm_opportunities_pipeline_stats_retrieve,
    )
    from crm_generated_client.models import (
        ClosingStageEnum,
        Opportunity,
        OpportunityCloseLostRequest,
        OpportunityOrderingEnum,
        OpportunityStageEnum,
        PaginatedOpportunityList,
        PatchedOpportunityInputRequest,
        PipelineStats,
        StageStats,
    )

    first, second = OpportunityFactory.create_batch(2, owner=rep, estimated_value=1000)
    client = sign_in(rep)

    raised = crm_opportunities_partial_update.sync(
        first.pk,
        client=client,
        body=PatchedOpportunityInputRequest(probability=60, next_step_date=timezone.now() + dt.timedelta(days=3)),
    )
    assert isinstance(raised, Opportunity) and raised.expected_revenue == 600.0
    lost = crm_opportunities_close_create.sync(
        second.pk,
        client=client,
        body=OpportunityCloseLostRequest(stage=ClosingStageEnum.CLOSED_LOST, loss_reason="Competitor was cheaper"),
    )
    assert isinstance(lost, Opportunity) and lost.stage == OpportunityStageEnum.CLOSED_LOST

    listed = crm_opportunities_list.sync(
        client=client, stage=OpportunityStageEnum.PROSPECTING, ordering=[OpportunityOrderingEnum("-estimated_value")]
    )
    assert isinstance(listed, PaginatedOpportunityList) and [item.id for item in listed.results] == [first.pk]

    for stats in (
        crm_opportunities_pipeline_stats_retrieve.sync(client=client, owner_id=rep.pk),
        crm_opportunities_pipeline_stats_retrieve.sync(client=sign_in(manager)),
    ):
        assert isinstance(stats, PipelineStats) and isinstance(stats.by_stage.closed_lost, StageStats)
        assert (stats.open_opportunities, stats.by_stage.closed_lost.count, stats.win_rate) == (1, 1, 0.0)
        assert stats.weighted_pipeline_value == 600.0


def test_customer_relationship_tracking_through_the_typed_client(sign_in, rep):
    from crm_generated_client.api.communications import (
        crm_communications_analytics_engagement_retrieve,
        crm_communications_complete_follow_up_create,
        crm_communications_create,
        crm_communications_customer_list,
        crm_communications_follow_ups_pending_list,
    )
    from crm_generated_client.models import (
        Communication,
        CommunicationDirectionEnum,
        CommunicationInputRequest,
        CommunicationTypeEnum,
        EngagementSummary,
        PaginatedCommunicationList,
    )

    customer = CustomerFactory()
    client = sign_in(rep)
    meeting = crm_communications_create.sync(
        client=client,
        body=CommunicationInputRequest(
            subject="Visit to the showroom",
            customer_id=customer.pk,
            type_=CommunicationTypeEnum.MEETING,
            direction=CommunicationDirectionEnum.INBOUND,
            duration_minutes=45,
            requires_follow_up=True,
            follow_up_date=timezone.now() - dt.timedelta(hours=1),
            attachments=["quotation.pdf"],
        ),
    )
    assert isinstance(meeting, Communication) and meeting.our_representative_id == rep.pk

    pending = crm_communications_follow_ups_pending_list.sync(client=client, representative_id=rep.pk)
    assert isinstance(pending, PaginatedCommunicationList)
    assert [(item.id, item.is_overdue) for item in pending.results] == [(meeting.id, True)]

    completed = crm_communications_complete_follow_up_create.sync(meeting.id, client=client)
    assert isinstance(completed, Communication) and completed.follow_up_completed
    assert crm_communications_follow_ups_pending_list.sync(client=client, representative_id=rep.pk).count == 0

    history = crm_communications_customer_list.sync(customer.pk, client=client)
    assert isinstance(history, PaginatedCommunicationList) and [item.id for item in history.results] == [meeting.id]

    engagement = crm_communications_analytics_engagement_retrieve.sync(client=client, customer_id=customer.pk)
    assert isinstance(engagement, EngagementSummary)
    assert (engagement.total, engagement.by_type.meeting, engagement.by_direction.inbound) == (1, 1, 1)
    assert (engagement.follow_ups.required, engagement.follow_ups.completed) == (1, 1)


def test_customer_segmentation_through_the_typed_client(sign_in, manager, rep):
    from crm_generated_client.api.segments import (
        crm_segments_apply_criteria_create,
        crm_segments_assign_customers_create,
        crm_segments_create,
        crm_segments_customers_list,
        crm_segments_matching_customers_retrieve,
        crm_segments_partial_update,
        crm_segments_performance_retrieve,
        crm_segments_remove_customers_create,
    )
    from crm_generated_client.models import (
        ApplyCriteriaResult,
        AssignResult,
        CustomerIdsRequest,
        JSONObject,
        MatchingCustomersPage,
        PaginatedCustomerList,
        PatchedSegmentInputRequest,
        RemoveResult,
        Segment,
        SegmentInputRequest,
        SegmentPerformance,
    )

    big, small = CustomerFactory(annual_spend=900000), CustomerFactory(annual_spend=1000)
    client = sign_in(manager)
    segment = crm_segments_create.sync(
        client=client,
        body=SegmentInputRequest(
            name="High Value Customers",
            code="HVC",
            criteria=JSONObject.from_dict({"min_annual_spend": 500000, "loyalty": "gold"}),
            benefits=JSONObject.from_dict({"discount_tier": "Platinum"}),
            priority=1,
        ),
    )
    assert isinstance(segment, Segment) and segment.criteria["min_annual_spend"] == 500000

    assigned = crm_segments_assign_customers_create.sync(
        segment.id, client=client, body=CustomerIdsRequest(customer_ids=[big.pk, small.pk], segment_id=segment.id)
    )
    assert isinstance(assigned, AssignResult) and (assigned.assigned, assigned.customer_count) == (2, 2)
    removed = crm_segments_remove_customers_create.sync(segment.id, client=client, body=[small.pk])
    assert isinstance(removed, RemoveResult) and (removed.removed, removed.customer_count) == (1, 1)

    members = crm_segments_customers_list.sync(segment.id, client=sign_in(rep))
    assert isinstance(members, PaginatedCustomerList) and [c.id for c in members.results] == [big.pk]

    matching = crm_segments_matching_customers_retrieve.sync(segment.id, client=client)
    assert isinstance(matching, MatchingCustomersPage)
    assert [c.id for c in matching.results] == [big.pk] and matching.unrecognized_criteria == ["loyalty"]
    applied = crm_segments_apply_criteria_create.sync(segment.id, client=client)
    assert isinstance(applied, ApplyCriteriaResult) and applied.already_assigned == 1

    performance = crm_segments_performance_retrieve.sync(segment.id, client=sign_in(rep))
    assert isinstance(performance, SegmentPerformance) and performance.customer_count == 1

    adjusted = crm_segments_partial_update.sync(
        segment.id, client=client, body=PatchedSegmentInputRequest(criteria=JSONObject.from_dict({"city": "Mumbai"}))
    )
    assert isinstance(adjusted, Segment) and adjusted.criteria.to_dict() == {"city": "Mumbai"}


# --- every read ---------------------------------------------------------------------------------

COLLECTION_RECORD = {
    "jobs": "job",
    "customers": "customer",
    "leads": "lead",
    "opportunities": "opportunity",
    "communications": "communication",
    "segments": "segment",
    "webhooks": "webhook",
    "merges": "merge",
    "quotas": "quota",
}
# Managers' alone: a rep's read is refused, in the shared error model.
MANAGERS_ONLY = ("/api/v1/webhooks", "/api/v1/crm/merges")


def read_operations(document: dict) -> list[tuple[str, str, str, str, bool]]:
    """
    (path, tag, operation id, name of the 200 answer's model, whether it is a list of them) of
    every GET operation answering JSON.
    """
    found = []
    for path, item in document["paths"].items():
        operation = item.get("get")
        if operation is not None and "application/json" in operation["responses"]["200"]["content"]:
            answer = operation["responses"]["200"]["content"]["application/json"]["schema"]
            is_list = answer.get("type") == "array"
            reference = answer["items"]["$ref"] if is_list else answer["$ref"]
            found.append((path, operation["tags"][0], operation["operationId"], reference.rsplit("/", 1)[1], is_list))
    return found


def path_arguments(path: str, records: dict) -> dict:
    """The generated function's arguments for the path's ids: ``id`` or ``customer_id`` and so on."""
    arguments = {}
    for name in re.findall(r"\{(\w+)\}", path):
        collection = path.removeprefix("/api/v1/").removeprefix("crm/").split("/")[0]
        record = COLLECTION_RECORD[collection] if name == "id" else name.removesuffix("_id")
        arguments[name] = records[record].pk
    return arguments


@pytest.fixture
def rep_s_records(rep) -> dict:
    """One of each record, all the rep's, so that every list (also the rep's) has a row to parse."""
    customer = CustomerFactory(city="Mumbai")
    lead = LeadFactory(assigned_to=rep, next_follow_up_date=timezone.now())
    opportunity = OpportunityFactory(owner=rep, customer=customer, lead=lead)
    OpportunityStageChangeFactory(opportunity=opportunity, from_stage="", changed_by=rep)
    communication = CommunicationFactory(
        customer=customer,
        lead=lead,
        opportunity=opportunity,
        our_representative=rep,
        requires_follow_up=True,
        follow_up_date=timezone.now(),
    )
    segment = SegmentFactory(criteria={"city": "Mumbai"})
    SegmentMembershipFactory(segment=segment, customer=customer)
    quota = Quota.objects.create(user=rep, period_start=dt.date(2026, 1, 1), amount=1000)
    job = Job.objects.create(kind="lead_export", owner=rep, status=JobStatus.SUCCEEDED, result={"rows": 1})
    webhook = WebhookSubscription.objects.create(url="https://hooks.example.com/crm", events=["*"], secret="whsec_t")
    event = WebhookEvent.objects.create(type="customer.created", record_type="customer", record_id=customer.pk)
    WebhookDelivery.objects.create(subscription=webhook, event=event, record_key="customer", seq=event.pk)
    # Factories write no history: one entry each, so that every history page has a row to parse.
    for record_type, record in [
        ("customer", customer),
        ("lead", lead),
        ("opportunity", opportunity),
        ("communication", communication),
        ("segment", segment),
    ]:
        history.record_change(
            record_type=record_type, record_id=record.pk, action="updated", actor=rep, changes={"name": ["a", "b"]}
        )
    merge = Merge.objects.create(kind="customer", survivor_id=customer.pk, duplicate_ids=[str(uuid.uuid4())])
    return {
        "job": job,
        "merge": merge,
        "webhook": webhook,
        "customer": customer,
        "lead": lead,
        "opportunity": opportunity,
        "communication": communication,
        "segment": segment,
        "quota": quota,
    }


@pytest.mark.parametrize("persona", ["manager", "rep"])
def test_every_read_parses_into_its_typed_model(generated, sign_in, rep_s_records, request, persona):
    client = sign_in(request.getfixturevalue(persona))
    operations = read_operations(generated.document)
    assert len(operations) >= 20
    for path, tag, operation_id, model_name, is_list in operations:
        module = operation_module(generated, tag, operation_id)
        answer = module.sync(client=client, **path_arguments(path, rep_s_records))
        if persona == "rep" and path.startswith(MANAGERS_ONLY):
            assert isinstance(answer, generated.models.ErrorDetail), f"GET {path}: {answer!r}"
            continue
        model = getattr(generated.models, model_name)
        if is_list:
            # A plain list (a record's duplicates, lead cohorts): every item of its model.
            assert isinstance(answer, list), f"GET {path}: {answer!r}"
            assert all(isinstance(item, model) for item in answer), f"GET {path}: {answer!r}"
            continue
        assert isinstance(answer, model), f"GET {path}: {answer!r}"
        if hasattr(answer, "results"):
            assert answer.results, f"GET {path} lists nothing"
            item_model = type(answer.results[0])
            assert item_model.__module__.startswith(f"{PACKAGE}.models"), f"GET {path}: untyped rows"


def test_the_creation_row_of_the_stage_history_has_no_stage_left(sign_in, rep, rep_s_records):
    from crm_generated_client.api.opportunities import crm_opportunities_stage_history_list
    from crm_generated_client.models import OpportunityStageEnum

    history = crm_opportunities_stage_history_list.sync(rep_s_records["opportunity"].pk, client=sign_in(rep))
    (creation,) = history.results
    assert creation.from_stage is None and creation.to_stage is OpportunityStageEnum.PROSPECTING


def test_duplicates_parse_into_their_typed_models(sign_in, rep):
    from crm_generated_client.api.customers import crm_customers_check_duplicates_create, crm_customers_duplicates_list
    from crm_generated_client.api.leads import crm_leads_duplicates_list
    from crm_generated_client.models import (
        CustomerDuplicate,
        DuplicateCheckRequest,
        LeadDuplicate,
        ReasonsEnum,
        ValidationError,
    )

    client = sign_in(rep)
    customer = CustomerFactory(company_name="Lotus Retail Pvt Ltd", email="a@lotus.example")
    CustomerFactory(company_name="Lotus Retail", email="b@lotus.example")
    lead = LeadFactory(company_name="Lotus Retail", assigned_to=rep, phone="9845012345", email="a@one.example")
    LeadFactory(company_name="Other", assigned_to=None, phone="+91 98450 12345", email="b@two.example")

    [twin] = crm_customers_duplicates_list.sync(customer.pk, client=client)
    assert isinstance(twin, CustomerDuplicate)
    assert twin.reasons == [ReasonsEnum.SIMILAR_COMPANY_NAME, ReasonsEnum.SAME_EMAIL_DOMAIN]
    [lead_twin] = crm_leads_duplicates_list.sync(lead.pk, client=client)
    assert isinstance(lead_twin, LeadDuplicate) and lead_twin.reasons == [ReasonsEnum.SAME_PHONE]
    checked = crm_customers_check_duplicates_create.sync(
        client=client, body=DuplicateCheckRequest(company_name="Lotus Retail Private Limited")
    )
    assert len(checked) == 2 and all(isinstance(item, CustomerDuplicate) for item in checked)
    refused = crm_customers_check_duplicates_create.sync(client=client, body=DuplicateCheckRequest(contact_person="A"))
    assert isinstance(refused, ValidationError)


# --- errors -------------------------------------------------------------------------------------


def test_errors_parse_into_the_shared_error_models(sign_in, live_server, manager, rep):
    from crm_generated_client import Client
    from crm_generated_client.api.auth import auth_token_create
    from crm_generated_client.api.leads import crm_leads_create, crm_leads_retrieve
    from crm_generated_client.api.opportunities import crm_opportunities_close_create
    from crm_generated_client.api.segments import crm_segments_assign_customers_create
    from crm_generated_client.models import (
        ClosingStageEnum,
        ErrorDetail,
        LeadCreateRequest,
        OpportunityCloseWonRequest,
        TokenObtainRequest,
        ValidationError,
    )

    client = sign_in(manager)
    LeadFactory(email="taken@example.com")
    duplicate = crm_leads_create.sync(
        client=client, body=LeadCreateRequest(company_name="Acme", contact_person="Asha", email="TAKEN@example.com")
    )
    assert isinstance(duplicate, ValidationError) and duplicate["email"]

    # A list field's errors are an object of the same shape, keyed by position.
    bad_ids = crm_segments_assign_customers_create.sync(SegmentFactory().pk, client=client, body=["not-a-uuid"])
    assert isinstance(bad_ids, ValidationError) and isinstance(bad_ids["customer_ids"], ValidationError)

    closed = OpportunityFactory(won=True)
    again = crm_opportunities_close_create.sync(
        closed.pk, client=client, body=OpportunityCloseWonRequest(stage=ClosingStageEnum.CLOSED_WON)
    )
    assert isinstance(again, ErrorDetail) and "closed" in again.detail

    hidden = crm_leads_retrieve.sync(LeadFactory(assigned_to=manager).pk, client=sign_in(rep))
    assert isinstance(hidden, ErrorDetail) and hidden.detail

    refused = auth_token_create.sync(
        client=Client(base_url=live_server.url), body=TokenObtainRequest(username="manager", password="wrong")
    )
    assert isinstance(refused, ErrorDetail)
