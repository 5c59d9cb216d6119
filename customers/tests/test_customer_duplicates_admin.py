"""The admin warns of likely duplicates when a customer is added and lists them on each customer's page."""

import pytest
from django.contrib.messages import get_messages

from crm_project.core.tests.admin_forms import admin_form_data
from customers.models import Customer

from .factories import CustomerFactory

pytestmark = pytest.mark.django_db

CHANGELIST = "/admin/customers/customer/"


@pytest.fixture
def manager_admin(client, manager):
    client.force_login(manager)
    return client


def test_adding_a_likely_duplicate_saves_it_with_a_warning_naming_the_candidates(manager_admin):
    existing = CustomerFactory(company_name="Lotus Retail Pvt Ltd", email="priya@lotus.in")
    data = admin_form_data(manager_admin.get(f"{CHANGELIST}add/"), "customer_form")
    response = manager_admin.post(
        f"{CHANGELIST}add/", {**data, "company_name": "Lotus Retail", "email": "", "annual_spend": "0"}
    )
    assert response.status_code == 302
    assert Customer.objects.filter(company_name="Lotus Retail").exists()  # not blocked
    [warning] = [message for message in get_messages(response.wsgi_request) if message.level_tag == "warning"]
    text = str(warning)
    assert existing.customer_code in text
    assert f'href="{CHANGELIST}{existing.pk}/change/"' in text
    assert "similar company name" in text


def test_adding_a_customer_like_no_other_gives_no_warning(manager_admin):
    CustomerFactory(company_name="Lotus Retail")
    data = admin_form_data(manager_admin.get(f"{CHANGELIST}add/"), "customer_form")
    response = manager_admin.post(f"{CHANGELIST}add/", {**data, "company_name": "Zenith Motors", "annual_spend": "0"})
    assert response.status_code == 302
    assert not [message for message in get_messages(response.wsgi_request) if message.level_tag == "warning"]


def test_the_customer_page_lists_its_possible_duplicates(manager_admin):
    customer = CustomerFactory(company_name="Lotus Retail", phone="9845012345", email="a@one.example")
    twin = CustomerFactory(company_name="Lotus Retail Private Limited", phone="+91 98450 12345", email="")
    CustomerFactory(company_name="Zenith Motors", email="z@zenith.example")
    page = manager_admin.get(f"{CHANGELIST}{customer.pk}/change/").content.decode()
    panel = page.split('id="possible-duplicates"', 1)[1].split("</table>", 1)[0]
    assert twin.customer_code in panel
    assert f"{CHANGELIST}{twin.pk}/change/" in panel
    assert "same phone, similar company name" in panel
    assert "Zenith" not in panel
    assert customer.customer_code not in panel


def test_a_customer_page_without_duplicates_says_so(manager_admin):
    customer = CustomerFactory(company_name="Lotus Retail", email="")
    page = manager_admin.get(f"{CHANGELIST}{customer.pk}/change/").content.decode()
    assert "None found among the records you may see." in page


def test_the_add_page_has_no_duplicates_panel(manager_admin):
    assert 'id="possible-duplicates"' not in manager_admin.get(f"{CHANGELIST}add/").content.decode()
