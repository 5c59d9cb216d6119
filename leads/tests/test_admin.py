import datetime as dt

import pytest
from django.contrib.messages import get_messages
from django.urls import reverse
from django.utils import timezone

from communications.models import Communication
from customers.models import Customer
from customers.tests.factories import CustomerFactory
from leads.models import Lead, LeadStatus

from .factories import LeadFactory

pytestmark = pytest.mark.django_db

CHANGELIST = reverse("admin:leads_lead_changelist")
ADD = reverse("admin:leads_lead_add")


def change_url(lead) -> str:
    return reverse("admin:leads_lead_change", args=[lead.pk])


def qualify_url(lead) -> str:
    return reverse("admin:leads_lead_qualify", args=[lead.pk])


def convert_url(lead) -> str:
    return reverse("admin:leads_lead_convert", args=[lead.pk])


def messages_of(response) -> list[str]:
    return [str(message) for message in get_messages(response.wsgi_request)]


@pytest.fixture
def manager_admin(client, manager):
    client.force_login(manager)
    return client


@pytest.fixture
def rep_admin(client, rep):
    client.force_login(rep)
    return client


def change_form_data(lead, **overrides):
    data = {
        "status": lead.status,
        "priority": lead.priority,
        "source": lead.source,
        "assigned_to": lead.assigned_to_id or "",
        "next_follow_up_date_0": "",
        "next_follow_up_date_1": "",
        "company_name": lead.company_name,
        "industry": lead.industry,
        "company_size": lead.company_size,
        "website": lead.website,
        "city": lead.city,
        "state": lead.state,
        "country": lead.country,
        "contact_person": lead.contact_person,
        "title_position": lead.title_position,
        "email": lead.email,
        "phone": lead.phone,
        "estimated_deal_value": "",
        "requirements": lead.requirements,
        "notes": lead.notes,
        # The management form of the (read-only) communications inline.
        "communications-TOTAL_FORMS": "0",
        "communications-INITIAL_FORMS": "0",
        "communications-MIN_NUM_FORMS": "0",
        "communications-MAX_NUM_FORMS": "1000",
    }
    data.update(overrides)
    return data


# --- changelist -----------------------------------------------------------------------------------


def test_changelist_loads_and_searches(manager_admin):
    LeadFactory(company_name="Zeta Textiles")
    LeadFactory(company_name="Other")
    response = manager_admin.get(CHANGELIST, {"q": "zeta"})
    assert response.status_code == 200
    assert [lead.company_name for lead in response.context["cl"].result_list] == ["Zeta Textiles"]


def test_rep_changelist_is_the_visibility_rule(rep_admin, rep, other_rep):
    mine, pooled = LeadFactory(assigned_to=rep), LeadFactory()
    theirs = LeadFactory(assigned_to=other_rep)
    response = rep_admin.get(CHANGELIST)
    assert set(response.context["cl"].result_list) == {mine, pooled}
    assert rep_admin.get(change_url(theirs)).status_code == 302  # "doesn't exist", like any missing id


@pytest.mark.parametrize(
    ("query", "expected"),
    [({"assigned_to": "me"}, "mine"), ({"assigned_to": "none"}, "pooled"), ({"status__exact": "lost"}, "lost")],
)
def test_changelist_filters(manager_admin, manager, query, expected):
    leads = {
        "mine": LeadFactory(assigned_to=manager),
        "pooled": LeadFactory(),
        "lost": LeadFactory(status=LeadStatus.LOST, assigned_to=manager),
    }
    if expected != "lost":
        leads["lost"].delete()
    response = manager_admin.get(CHANGELIST, query)
    assert list(response.context["cl"].result_list) == [leads[expected]]


def test_assigned_to_filter_lists_the_sales_staff(manager_admin, rep):
    response = manager_admin.get(CHANGELIST)
    assert f"?assigned_to={rep.pk}" in response.content.decode()


def test_changelist_query_count_does_not_grow_with_rows(manager_admin, rep, django_assert_max_num_queries):
    LeadFactory.create_batch(5, assigned_to=rep)
    with django_assert_max_num_queries(12) as small:
        assert manager_admin.get(CHANGELIST).status_code == 200
    LeadFactory.create_batch(45, assigned_to=rep)
    with django_assert_max_num_queries(12) as large:
        assert manager_admin.get(CHANGELIST).status_code == 200
    assert len(large.captured_queries) == len(small.captured_queries)


# --- add and change go through the services -----------------------------------------------------------


def test_adding_a_lead_in_the_admin_numbers_it(manager_admin, manager):
    data = change_form_data(LeadFactory.build(), company_name="Admin Co", email="admin-co@example.com")
    data.pop("status")
    response = manager_admin.post(ADD, data)
    assert response.status_code == 302, response.context["adminform"].form.errors if response.context else ""
    lead = Lead.objects.get(company_name="Admin Co")
    assert lead.lead_number.startswith("LEAD-") and lead.status == LeadStatus.NEW
    assert lead.created_by == manager


def test_a_duplicate_email_is_refused_in_the_admin(manager_admin):
    LeadFactory(email="dup@example.com")
    data = change_form_data(LeadFactory.build(), email="DUP@example.com")
    data.pop("status")
    response = manager_admin.post(ADD, data)
    assert response.status_code == 200
    assert "A lead with this email already exists." in str(response.context["adminform"].form.errors)
    assert Lead.objects.count() == 1


def test_changing_a_lead_in_the_admin_goes_through_the_update_service(manager_admin):
    lead = LeadFactory(status=LeadStatus.QUALIFIED)
    response = manager_admin.post(change_url(lead), change_form_data(lead, status="contacted", city="Pune"))
    assert response.status_code == 302
    lead.refresh_from_db()
    # The service's rule: back to contacted clears the qualification.
    assert (lead.status, lead.city, lead.is_qualified) == (LeadStatus.CONTACTED, "Pune", False)


def test_the_status_field_offers_only_what_an_update_may_set(manager_admin):
    lead = LeadFactory(status=LeadStatus.CONTACTED)
    form = manager_admin.get(change_url(lead)).context["adminform"].form
    assert [value for value, _label in form.fields["status"].choices] == ["new", "contacted", "lost"]


def test_a_rep_may_assign_only_to_themselves(rep_admin, rep, other_rep):
    lead = LeadFactory()
    form = rep_admin.get(change_url(lead)).context["adminform"].form
    assert [user.pk for user in form.fields["assigned_to"].queryset] == [rep.pk]
    response = rep_admin.post(change_url(lead), change_form_data(lead, assigned_to=other_rep.pk))
    assert response.status_code == 200  # the form refuses the choice
    lead.refresh_from_db()
    assert lead.assigned_to is None


def test_a_converted_lead_is_read_only(manager_admin):
    lead = LeadFactory(status=LeadStatus.CONVERTED, city="Pune")
    page = manager_admin.get(change_url(lead))
    assert page.status_code == 200
    assert page.context["has_change_permission"] is False
    assert "Qualify" not in page.content.decode()
    response = manager_admin.post(change_url(lead), change_form_data(lead, city="Goa"))
    assert response.status_code == 403
    lead.refresh_from_db()
    assert lead.city == "Pune"


def test_deleting_a_lead_with_communications_is_refused_in_the_admin(manager_admin):
    lead = LeadFactory()
    Communication.objects.create(lead=lead, subject="Intro call")
    response = manager_admin.post(reverse("admin:leads_lead_delete", args=[lead.pk]), {"post": "yes"})
    assert Lead.objects.filter(pk=lead.pk).exists()
    # The admin lists the protected communications instead of deleting.
    assert response.status_code == 200
    assert "Intro call" in response.content.decode()


def test_reps_cannot_delete_in_the_admin(rep_admin, rep):
    lead = LeadFactory(assigned_to=rep)
    response = rep_admin.post(reverse("admin:leads_lead_delete", args=[lead.pk]), {"post": "yes"})
    assert response.status_code == 403
    assert Lead.objects.filter(pk=lead.pk).exists()
    changelist = rep_admin.get(CHANGELIST).content.decode()
    assert "delete_selected" not in changelist


# --- bulk actions ---------------------------------------------------------------------------------


def run_action(client, action, leads):
    return client.post(CHANGELIST, {"action": action, "_selected_action": [lead.pk for lead in leads]}, follow=True)


def test_mark_contacted_action_reports_changes_and_refusals(manager_admin):
    new, converted = LeadFactory(), LeadFactory(status=LeadStatus.CONVERTED)
    response = run_action(manager_admin, "mark_contacted", [new, converted])
    new.refresh_from_db()
    converted.refresh_from_db()
    assert (new.status, converted.status) == (LeadStatus.CONTACTED, LeadStatus.CONVERTED)
    text = " ".join(messages_of(response))
    assert "1 lead marked contacted" in text and converted.lead_number in text


def test_mark_lost_action(manager_admin):
    lead = LeadFactory(status=LeadStatus.QUALIFIED)
    run_action(manager_admin, "mark_lost", [lead])
    lead.refresh_from_db()
    assert lead.status == LeadStatus.LOST


def test_assign_to_me_action(rep_admin, rep):
    lead = LeadFactory()
    response = run_action(rep_admin, "assign_to_me", [lead])
    lead.refresh_from_db()
    assert lead.assigned_to == rep
    assert "1 lead assigned to you" in " ".join(messages_of(response))


# --- qualify and convert pages ------------------------------------------------------------------------


def test_the_change_page_offers_qualify_and_convert(rep_admin, rep):
    lead = LeadFactory(assigned_to=rep)
    content = rep_admin.get(change_url(lead)).content.decode()
    assert qualify_url(lead) in content and convert_url(lead) in content


def test_a_rep_works_a_lead_from_new_to_converted_in_the_admin(rep_admin, rep):
    lead = LeadFactory(assigned_to=rep)

    assert rep_admin.get(qualify_url(lead)).status_code == 200
    response = rep_admin.post(
        qualify_url(lead), {"qualification_score": 85, "is_qualified": "on", "notes": "Budget ok"}
    )
    assert response.status_code == 302
    lead.refresh_from_db()
    assert (lead.status, lead.qualification_score) == (LeadStatus.QUALIFIED, 85)
    assert "· rep] Budget ok" in lead.notes

    assert rep_admin.get(convert_url(lead)).status_code == 200
    response = rep_admin.post(convert_url(lead), {"customer": "", "notes": "First order"})
    assert response.status_code == 302
    lead.refresh_from_db()
    assert lead.status == LeadStatus.CONVERTED
    assert lead.converted_customer.account_manager == rep


def test_convert_page_links_an_existing_customer(manager_admin):
    customer = CustomerFactory()
    lead = LeadFactory()
    manager_admin.post(convert_url(lead), {"customer": str(customer.pk)})
    lead.refresh_from_db()
    assert lead.converted_customer == customer
    assert Customer.objects.count() == 1


def test_qualify_page_validates_the_score(manager_admin):
    lead = LeadFactory()
    response = manager_admin.post(qualify_url(lead), {"qualification_score": 150})
    assert response.status_code == 200
    assert "qualification_score" in response.context["form"].errors
    lead.refresh_from_db()
    assert lead.status == LeadStatus.NEW


def test_qualify_page_reports_a_refusal(manager_admin):
    lead = LeadFactory(status=LeadStatus.LOST)
    response = manager_admin.post(qualify_url(lead), {"qualification_score": 50})
    assert "only an open lead can be qualified" in " ".join(messages_of(response))


def test_a_refused_qualification_shows_the_page_again_with_the_score_kept(manager_admin):
    lead = LeadFactory(status=LeadStatus.LOST)
    response = manager_admin.post(qualify_url(lead), {"qualification_score": 50, "notes": "Called twice"})
    assert response.status_code == 200
    form = response.context["form"]
    assert (form["qualification_score"].value(), form["notes"].value()) == ("50", "Called twice")


def test_convert_page_of_a_converted_lead_is_forbidden(manager_admin):
    lead = LeadFactory(status=LeadStatus.CONVERTED)
    assert manager_admin.get(convert_url(lead)).status_code == 403


def test_another_reps_lead_has_no_qualify_page(rep_admin, other_rep):
    lead = LeadFactory(assigned_to=other_rep)
    response = rep_admin.post(qualify_url(lead), {"qualification_score": 50})
    assert response.status_code == 302
    lead.refresh_from_db()
    assert lead.qualification_score is None


def test_a_lead_with_communications_saves_as_the_browser_posts_it(manager_admin, manager):
    from communications.tests.factories import CommunicationFactory
    from crm_project.core.tests.admin_forms import admin_form_data

    lead = LeadFactory(status=LeadStatus.CONTACTED)
    CommunicationFactory.create_batch(3, lead=lead, our_representative=manager)
    data = admin_form_data(manager_admin.get(change_url(lead)), "lead_form")
    assert data["communications-TOTAL_FORMS"] == "3"

    response = manager_admin.post(change_url(lead), {**data, "city": "Nagpur"})

    assert response.status_code == 302, response.content.decode()[:3000]
    lead.refresh_from_db()
    assert lead.city == "Nagpur"
    assert lead.communications.count() == 3


# --- follow-ups and badges ------------------------------------------------------------------------------


def test_the_follow_up_filter_is_the_apis_todays_follow_ups(manager_admin):
    noon = timezone.make_aware(dt.datetime.combine(timezone.localdate(), dt.time(12)))
    today = LeadFactory(next_follow_up_date=noon)
    overdue = LeadFactory(next_follow_up_date=noon - dt.timedelta(days=2))
    LeadFactory(next_follow_up_date=noon + dt.timedelta(days=1))
    LeadFactory(next_follow_up_date=noon, status=LeadStatus.CONVERTED)
    shown = {
        value: set(manager_admin.get(CHANGELIST, {"follow_up": value}).context["cl"].result_list)
        for value in ("today", "due")
    }
    assert shown == {"today": {today}, "due": {today, overdue}}


def test_status_and_priority_are_coloured_badges_in_the_list(manager_admin):
    LeadFactory(status=LeadStatus.QUALIFIED, priority="urgent")
    content = manager_admin.get(CHANGELIST).content.decode()
    assert '<span class="crm-badge crm-badge--qualified">Qualified</span>' in content
    assert '<span class="crm-badge crm-badge--urgent">Urgent</span>' in content
