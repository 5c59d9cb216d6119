"""The lead admin: possible duplicates on each lead's page, only among the leads the user may see."""

import pytest

from .factories import LeadFactory

pytestmark = pytest.mark.django_db

CHANGELIST = "/admin/leads/lead/"


def test_a_reps_lead_page_lists_only_duplicates_the_rep_may_see(client, rep, other_rep):
    client.force_login(rep)
    lead = LeadFactory(company_name="Lotus Retail", email="a@one.example", assigned_to=rep)
    visible = LeadFactory(company_name="Lotus Retail Ltd", email="b@two.example", assigned_to=None)
    hidden = LeadFactory(company_name="Lotus Retail LLP", email="c@three.example", assigned_to=other_rep)
    page = client.get(f"{CHANGELIST}{lead.pk}/change/").content.decode()
    panel = page.split('id="possible-duplicates"', 1)[1].split("</table>", 1)[0]
    assert visible.lead_number in panel
    assert hidden.lead_number not in panel
