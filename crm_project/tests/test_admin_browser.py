"""
A sales rep's day in the admin, in a real browser (headless Chromium driven by selenium against
Django's live server): sign in, read the dashboard, filter the lead list, convert a lead, close
a deal as lost with its reason. A screenshot of the dashboard is left in ``test-artifacts/``.

Skipped, with the reason, where selenium, Chromium or chromedriver is missing
(``apt-get install -y chromium chromium-driver``).
"""

from __future__ import annotations

import datetime as dt
import shutil
import tempfile
from decimal import Decimal
from pathlib import Path

import pytest
from django.utils import timezone

from communications.tests.factories import CommunicationFactory
from crm_project.core.tests.factories import PASSWORD, RepFactory
from leads.models import Lead, LeadStatus
from leads.tests.factories import LeadFactory
from opportunities.models import Opportunity
from opportunities.tests.factories import OpportunityFactory

webdriver = pytest.importorskip("selenium.webdriver", reason="selenium is not installed (requirements-dev.txt)")
By = pytest.importorskip("selenium.webdriver.common.by").By
expected = pytest.importorskip("selenium.webdriver.support.expected_conditions")
WebDriverWait = pytest.importorskip("selenium.webdriver.support.wait").WebDriverWait

CHROMIUM = next(filter(None, map(shutil.which, ["chromium", "chromium-browser", "google-chrome"])), None)
CHROMEDRIVER = shutil.which("chromedriver")
# The project root's test-artifacts/ (ignored by git): crm_project/tests/ is two levels below it.
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(
        not (CHROMIUM and CHROMEDRIVER),
        reason="needs Chromium and chromedriver (apt-get install -y chromium chromium-driver)",
    ),
    # The live server runs in another thread: the test's data must be committed to be seen.
    pytest.mark.django_db(transaction=True),
]

CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--window-size=1400,1000",
]


@pytest.fixture(scope="module")
def browser():
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in CHROMIUM_FLAGS:
        options.add_argument(flag)
    profile = tempfile.mkdtemp(prefix="crm-chromium-")
    options.add_argument(f"--user-data-dir={profile}")
    driver = webdriver.Chrome(options=options, service=webdriver.ChromeService(executable_path=CHROMEDRIVER))
    driver.implicitly_wait(5)
    yield driver
    driver.quit()
    shutil.rmtree(profile, ignore_errors=True)


@pytest.fixture
def rep_browser(browser, live_server):
    """The browser signed in as a sales rep, through the admin's login form."""
    rep = RepFactory(username="ravi", first_name="Ravi", last_name="Rep")
    browser.delete_all_cookies()
    browser.get(f"{live_server.url}/admin/login/")
    browser.find_element(By.NAME, "username").send_keys("ravi")
    browser.find_element(By.NAME, "password").send_keys(PASSWORD)
    and_wait(browser, browser.find_element(By.CSS_SELECTOR, "input[type=submit]").click)
    assert browser.title == "Dashboard | Sales CRM"
    browser.rep = rep
    browser.base = live_server.url
    return browser


def and_wait(browser, action) -> None:
    """Do ``action`` (a click, a submit) and wait until the browser has loaded the next page."""
    page = browser.find_element(By.TAG_NAME, "html")
    action()
    WebDriverWait(browser, 10).until(expected.staleness_of(page))


def message_texts(browser) -> list[str]:
    return [element.text for element in browser.find_elements(By.CSS_SELECTOR, "ul.messagelist li")]


def test_a_rep_signs_in_and_sees_the_dashboard_with_its_charts(rep_browser):
    rep = rep_browser.rep
    noon = timezone.make_aware(dt.datetime.combine(timezone.localdate(), dt.time(12)))
    LeadFactory(assigned_to=rep, company_name="Saffron Uniforms", next_follow_up_date=noon)
    LeadFactory(assigned_to=rep, status=LeadStatus.QUALIFIED)
    OpportunityFactory(owner=rep, stage="proposal", estimated_value=Decimal("250000"), probability=60)
    OpportunityFactory(owner=rep, won=True, estimated_value=Decimal("90000"))
    CommunicationFactory(
        our_representative=rep, subject="Quote follow-up", requires_follow_up=True, follow_up_date=noon
    )

    rep_browser.get(f"{rep_browser.base}/admin/")

    assert rep_browser.title == "Dashboard | Sales CRM"
    charts = rep_browser.find_elements(By.CSS_SELECTOR, "svg.crm-chart")
    assert len(charts) == 3 and all(chart.is_displayed() and chart.size["width"] > 300 for chart in charts)
    assert rep_browser.find_element(By.CSS_SELECTOR, "svg.crm-ring").is_displayed()
    follow_ups = rep_browser.find_element(By.ID, "crm-follow-ups").text
    assert "Saffron Uniforms" in follow_ups and "Quote follow-up" in follow_ups
    # The admin's stylesheets and the CRM's loaded: the header is coloured, the bars are filled.
    header = rep_browser.execute_script("return getComputedStyle(document.getElementById('header')).backgroundColor")
    assert header not in ("rgba(0, 0, 0, 0)", "transparent")
    bar_fill = rep_browser.execute_script(
        "return getComputedStyle(document.querySelector('.crm-chart__bar--won')).fill"
    )
    assert bar_fill not in ("", "none", "rgb(0, 0, 0)")

    ARTIFACTS.mkdir(exist_ok=True)
    height = rep_browser.execute_script("return document.documentElement.scrollHeight")
    rep_browser.set_window_size(1400, max(1000, height + 50))
    assert rep_browser.save_screenshot(str(ARTIFACTS / "dashboard.png"))
    rep_browser.set_window_size(1400, 1000)


def test_a_rep_filters_the_lead_list(rep_browser):
    rep = rep_browser.rep
    LeadFactory(assigned_to=rep, company_name="Indigo Knitwear", status=LeadStatus.QUALIFIED)
    LeadFactory(assigned_to=rep, company_name="Coastal Threads", status=LeadStatus.NEW)
    LeadFactory(assigned_to=RepFactory(), company_name="Someone Else's Lead")

    rep_browser.get(f"{rep_browser.base}/admin/leads/lead/")
    names = rep_browser.find_element(By.ID, "result_list").text
    assert "Indigo Knitwear" in names and "Coastal Threads" in names and "Someone Else" not in names

    qualified = rep_browser.find_element(By.CSS_SELECTOR, '#changelist-filter a[href="?status__exact=qualified"]')
    and_wait(rep_browser, qualified.click)
    names = rep_browser.find_element(By.ID, "result_list").text
    assert "Indigo Knitwear" in names and "Coastal Threads" not in names

    search = rep_browser.find_element(By.ID, "searchbar")
    search.clear()
    and_wait(rep_browser, lambda: search.send_keys("coastal\n"))
    assert "Coastal Threads" not in rep_browser.find_element(By.ID, "changelist").text  # Still filtered: none.
    rep_browser.get(f"{rep_browser.base}/admin/leads/lead/?q=coastal")
    assert "Coastal Threads" in rep_browser.find_element(By.ID, "result_list").text


def test_a_rep_converts_a_lead_into_a_customer(rep_browser):
    lead = LeadFactory(assigned_to=rep_browser.rep, company_name="Lotus Garments", status=LeadStatus.QUALIFIED)

    rep_browser.get(f"{rep_browser.base}/admin/leads/lead/{lead.pk}/change/")
    convert = rep_browser.find_element(By.CSS_SELECTOR, ".object-tools a[href$='/convert/']")  # "Convert to customer"
    and_wait(rep_browser, convert.click)
    rep_browser.find_element(By.NAME, "notes").send_keys("First order: 500 units")
    and_wait(rep_browser, rep_browser.find_element(By.CSS_SELECTOR, "input[type=submit][name=_submit]").click)

    assert any("converted into" in text for text in message_texts(rep_browser))
    lead = Lead.objects.get(pk=lead.pk)
    assert lead.status == LeadStatus.CONVERTED and lead.converted_customer.company_name == "Lotus Garments"
    assert lead.converted_customer.account_manager == rep_browser.rep
    # A converted lead is read-only: no Save button any more.
    assert not rep_browser.find_elements(By.NAME, "_save")


def test_a_rep_closes_a_deal_as_lost_giving_the_reason(rep_browser):
    opportunity = OpportunityFactory(owner=rep_browser.rep, name="Winter jackets", stage="negotiation")

    rep_browser.get(f"{rep_browser.base}/admin/opportunities/opportunity/{opportunity.pk}/change/")
    close = rep_browser.find_element(By.CSS_SELECTOR, ".object-tools a[href$='/close/lost/']")  # "Close as lost"
    and_wait(rep_browser, close.click)
    and_wait(rep_browser, rep_browser.find_element(By.CSS_SELECTOR, "input[type=submit][name=_submit]").click)
    assert "This field is required." in rep_browser.find_element(By.ID, "content-main").text  # The reason.

    rep_browser.find_element(By.NAME, "loss_reason").send_keys("A competitor offered 12% less")
    and_wait(rep_browser, rep_browser.find_element(By.CSS_SELECTOR, "input[type=submit][name=_submit]").click)

    assert any("closed lost" in text for text in message_texts(rep_browser))
    opportunity = Opportunity.objects.get(pk=opportunity.pk)
    assert (opportunity.stage, opportunity.loss_reason) == ("closed_lost", "A competitor offered 12% less")
    assert not rep_browser.find_elements(By.NAME, "_save")
