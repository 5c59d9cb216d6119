"""
A sales rep's day in the admin, in a real browser (headless Chromium driven by selenium against
Django's live server): sign in, read the dashboard, filter the lead list, convert a lead, close
a deal as lost with its reason. Then a manager's 1366×768 laptop: the lead, opportunity,
communication and customer lists fit beside their filters with long names, and the stage
history reads in words. Screenshots are left in ``test-artifacts/`` (dashboard.png,
leads-1366.png, opportunities-1366.png, communications-1366.png, customers-1366.png,
opportunity-stage-history.png).

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
from crm_project.core.tests.factories import PASSWORD, ManagerFactory, RepFactory
from customers.models import Customer
from customers.tests.factories import CustomerFactory
from leads.models import Lead, LeadStatus
from leads.tests.factories import LeadFactory
from opportunities.models import Opportunity, Quota
from opportunities.tests.factories import OpportunityFactory, OpportunityStageChangeFactory

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
LAPTOP = (1366, 768)


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


def sign_in(browser, live_server, username: str) -> None:
    """Through the admin's login form, as a person would."""
    browser.delete_all_cookies()
    browser.get(f"{live_server.url}/admin/login/")
    browser.find_element(By.NAME, "username").send_keys(username)
    browser.find_element(By.NAME, "password").send_keys(PASSWORD)
    and_wait(browser, browser.find_element(By.CSS_SELECTOR, "input[type=submit]").click)
    assert browser.title == "Dashboard | Sales CRM"
    browser.base = live_server.url


@pytest.fixture
def rep_browser(browser, live_server):
    """The browser signed in as a sales rep."""
    browser.rep = RepFactory(username="ravi", first_name="Ravi", last_name="Rep")
    sign_in(browser, live_server, "ravi")
    return browser


@pytest.fixture
def laptop_browser(browser, live_server):
    """The browser signed in as a sales manager, in a 1366×768 window (the common office laptop)."""
    browser.manager = ManagerFactory(username="meera", first_name="Meera", last_name="Manager")
    sign_in(browser, live_server, "meera")
    browser.set_window_size(*LAPTOP)
    assert browser.execute_script("return window.innerWidth") == LAPTOP[0]
    yield browser
    browser.set_window_size(1400, 1000)


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
    proposal = OpportunityFactory(owner=rep, stage="proposal", estimated_value=Decimal("250000"), probability=60)
    won = OpportunityFactory(
        owner=rep, won=True, estimated_value=Decimal("90000"), created_at=timezone.now() - dt.timedelta(days=4)
    )
    CommunicationFactory(
        our_representative=rep, subject="Quote follow-up", requires_follow_up=True, follow_up_date=noon
    )
    # A quota this month, and stage moves for the velocity: 3 days in prospecting, then won.
    Quota.objects.create(user=rep, period_start=timezone.localdate().replace(day=1), amount=Decimal("150000"))
    now = timezone.now()
    OpportunityStageChangeFactory(opportunity=won, to_stage="prospecting", changed_at=now - dt.timedelta(days=4))
    OpportunityStageChangeFactory(
        opportunity=won, from_stage="prospecting", to_stage="closed_won", changed_at=now - dt.timedelta(days=1)
    )
    OpportunityStageChangeFactory(opportunity=proposal, to_stage="proposal", changed_at=now - dt.timedelta(days=2))

    rep_browser.get(f"{rep_browser.base}/admin/")

    assert rep_browser.title == "Dashboard | Sales CRM"
    charts = rep_browser.find_elements(By.CSS_SELECTOR, "svg.crm-chart")
    assert len(charts) == 5 and all(chart.is_displayed() and chart.size["width"] > 300 for chart in charts)
    # Forecast against quota: this month's bar (won 90K) with the quota line drawn across it.
    forecast = rep_browser.find_element(By.CSS_SELECTOR, "#crm-forecast svg.crm-chart")
    assert len(forecast.find_elements(By.CSS_SELECTOR, ".crm-chart__marker")) == 1
    assert "won 90K (60%)" in forecast.text and "quota 150K" in forecast.text
    marker = rep_browser.execute_script(
        "return getComputedStyle(document.querySelector('#crm-forecast .crm-chart__marker')).stroke"
    )
    assert marker not in ("", "none")
    # Stage velocity: prospecting lasted 3 days.
    velocity = rep_browser.find_element(By.CSS_SELECTOR, "#crm-velocity svg.crm-chart").text
    assert "3 d avg · 3 d median · 100% on" in velocity
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


# --- the lists on a 1366×768 laptop --------------------------------------------------------------

# Real company and contact names run long; the lists must still fit the screen.
COMPANIES = [
    "Sri Venkateswara Handloom and Powerloom Textile Exporters Private Limited",
    "Coimbatore Integrated Cotton Spinning and Weaving Mills Cooperative Society",
    "Northern Himalayan Woollen Garments and Technical Textiles Manufacturing Company",
]
CONTACTS = ["Venkataramanan Subramaniam Iyer", "Lakshminarasimhan Raghunathan Pillai", "Anantharaman Krishnaswamy"]
ROWS = 15


def december_15(hour: int = 10, minute: int = 30) -> dt.datetime:
    return timezone.make_aware(dt.datetime(2025, 12, 15, hour, minute))


def long_named_rep():
    return RepFactory(username="anantharaman.k", first_name="Anantharaman", last_name="Krishnaswamy-Venkatesan")


LAYOUT = """
const table = document.getElementById('result_list');
const results = table.closest('.results');
const root = document.documentElement;
const filter = document.getElementById('changelist-filter');
const tableBox = table.getBoundingClientRect();
const filterBox = filter ? filter.getBoundingClientRect() : null;
return {
    viewport: root.clientWidth,
    tableRight: tableBox.right,
    resultsOverflow: results.scrollWidth - results.clientWidth,
    pageOverflow: root.scrollWidth - root.clientWidth,
    filterBesideTable: !!filterBox && filterBox.width > 0 && filterBox.left >= tableBox.right,
    columnWidths: [...table.querySelectorAll('thead th')].map(th => [th.textContent.trim(), Math.round(th.getBoundingClientRect().width)]),
    clippedCells: [...table.querySelectorAll('th, td')]
        .filter(cell => cell.scrollWidth > cell.clientWidth + 1)
        .map(cell => cell.className + ': ' + cell.textContent.trim()),
};
"""

# The cells of the column headed ``arguments[0]`` (the header's text, any case), row by row.
COLUMN = """
const headers = [...document.querySelectorAll('#result_list thead th')];
const index = headers.findIndex(th => th.textContent.trim().toLowerCase() === arguments[0].toLowerCase());
if (index < 0) return null;
return [...document.querySelectorAll('#result_list tbody tr')].map(row => {
    const cell = row.children[index];
    const box = cell.getBoundingClientRect();
    return {text: cell.innerText.trim(), right: box.right, clipped: cell.scrollWidth > cell.clientWidth + 1};
});
"""

# The element that carries ``arguments[0]`` in its title: is it cut with an ellipsis on one line?
TRUNCATED = """
const element = [...document.querySelectorAll('#result_list [title]')].find(e => e.title === arguments[0]);
if (!element) return null;
const style = getComputedStyle(element);
return {
    text: element.textContent.trim(),
    truncated: element.scrollWidth > element.clientWidth,
    ellipsis: style.textOverflow === 'ellipsis',
    oneLine: element.getBoundingClientRect().height < 2 * parseFloat(style.lineHeight || style.fontSize),
};
"""


def open_changelist_at_1366(browser, path: str, screenshot: str) -> None:
    """Open a changelist, save its screenshot, and check that it fits the window."""
    browser.get(f"{browser.base}{path}")
    assert browser.find_element(By.ID, "changelist-filter").is_displayed()
    ARTIFACTS.mkdir(exist_ok=True)
    assert browser.save_screenshot(str(ARTIFACTS / screenshot))
    layout = browser.execute_script(LAYOUT)
    report = str(layout)  # In full: the column widths say which column to narrow.
    assert layout["filterBesideTable"], report
    assert layout["tableRight"] <= layout["viewport"], report
    assert layout["resultsOverflow"] <= 0, report  # No horizontal scrollbar under the table.
    assert layout["pageOverflow"] <= 0, report
    assert layout["clippedCells"] == [], report
    assert not browser.find_element(By.ID, "nav-sidebar").is_displayed()  # Closed on a laptop (crm/admin.js).


def assert_truncated_with_title(browser, full_name: str) -> None:
    cell = browser.execute_script(TRUNCATED, full_name)
    assert cell is not None, f"no element titled {full_name!r}"
    assert cell["ellipsis"] and cell["truncated"] and cell["oneLine"], cell
    assert full_name.startswith(cell["text"].rstrip("…")), cell


def column(browser, header: str) -> list[dict]:
    cells = browser.execute_script(COLUMN, header)
    assert cells, f"no column {header!r}"
    viewport = browser.execute_script("return document.documentElement.clientWidth")
    assert all(cell["right"] <= viewport and not cell["clipped"] for cell in cells), cells
    return cells


def test_on_a_laptop_the_navigation_sidebar_starts_closed_and_opens_on_demand(laptop_browser):
    laptop_browser.get(f"{laptop_browser.base}/admin/leads/lead/")
    sidebar = laptop_browser.find_element(By.ID, "nav-sidebar")
    assert not sidebar.is_displayed()

    toggle = laptop_browser.find_element(By.ID, "toggle-nav-sidebar")
    toggle.click()
    assert sidebar.is_displayed()
    laptop_browser.refresh()
    assert laptop_browser.find_element(By.ID, "nav-sidebar").is_displayed()  # The choice is remembered.

    laptop_browser.find_element(By.ID, "toggle-nav-sidebar").click()  # Closed again for the tests after.
    assert not laptop_browser.find_element(By.ID, "nav-sidebar").is_displayed()


def test_the_lead_list_fits_a_1366_laptop(laptop_browser):
    rep = long_named_rep()
    for n in range(ROWS):
        LeadFactory(
            lead_number=f"LEAD-20251215-{n:04d}",  # As long as the real ones.
            company_name=COMPANIES[n % 3],
            contact_person=CONTACTS[n % 3],
            status=["new", "contacted", "qualified"][n % 3],
            priority=["urgent", "medium", "high"][n % 3],
            assigned_to=rep,
            next_follow_up_date=december_15(),
        )

    open_changelist_at_1366(laptop_browser, "/admin/leads/lead/", "leads-1366.png")

    assert_truncated_with_title(laptop_browser, COMPANIES[0])
    assert laptop_browser.execute_script(TRUNCATED, CONTACTS[1]) is not None  # The contact's name too, on hover.
    assert {cell["text"] for cell in column(laptop_browser, "follow-up")} == {"15 Dec 2025"}


def test_the_opportunity_list_fits_a_1366_laptop(laptop_browser):
    rep = long_named_rep()
    for n in range(ROWS):
        OpportunityFactory(
            name=f"Winter {2026 + n} thermal jackets and fleece-lined trousers for the northern stores",
            customer=CustomerFactory(company_name=COMPANIES[n % 3]),
            owner=rep,
            stage=["needs_analysis", "negotiation", "qualification"][n % 3],
            estimated_value=Decimal("12345678.90"),
            probability=75,
            expected_revenue=Decimal("9259259.18"),
            expected_close_date=december_15(),
        )

    open_changelist_at_1366(laptop_browser, "/admin/opportunities/opportunity/", "opportunities-1366.png")

    assert_truncated_with_title(laptop_browser, COMPANIES[0])
    assert {cell["text"] for cell in column(laptop_browser, "value")} == {"12,345,678.90"}
    assert {cell["text"] for cell in column(laptop_browser, "weighted")} == {"9,259,259.18"}
    assert {cell["text"] for cell in column(laptop_browser, "close date")} == {"15 Dec 2025"}


def test_the_communication_list_fits_a_1366_laptop(laptop_browser):
    rep = long_named_rep()
    for n in range(ROWS):
        CommunicationFactory(
            customer=CustomerFactory(company_name=COMPANIES[n % 3]),
            subject=f"Quotation {n} for 40,000 school uniforms in poly-cotton twill, with revised delivery dates",
            our_representative=rep,
            communication_date=december_15(9),
            requires_follow_up=True,
            follow_up_date=december_15(),
        )

    open_changelist_at_1366(laptop_browser, "/admin/communications/communication/", "communications-1366.png")

    assert_truncated_with_title(laptop_browser, COMPANIES[0])
    assert {cell["text"] for cell in column(laptop_browser, "date")} == {"15 Dec 2025"}
    assert all(cell["text"].endswith("15 Dec 2025") for cell in column(laptop_browser, "follow-up"))


def test_the_customer_list_fits_a_1366_laptop(laptop_browser):
    rep = long_named_rep()
    for n in range(ROWS):
        customer = CustomerFactory(
            company_name=COMPANIES[n % 3],
            contact_person=CONTACTS[n % 3],
            city="Thiruvananthapuram",
            country="India",
            annual_spend=Decimal("12345678.90"),
            account_manager=rep,
        )
        Customer.objects.filter(pk=customer.pk).update(last_contacted_at=december_15())

    open_changelist_at_1366(laptop_browser, "/admin/customers/customer/", "customers-1366.png")

    assert_truncated_with_title(laptop_browser, COMPANIES[0])
    assert {cell["text"] for cell in column(laptop_browser, "annual spend")} == {"12,345,678.90"}
    assert {cell["text"] for cell in column(laptop_browser, "last contacted")} == {"15 Dec 2025"}


def test_the_stage_history_reads_in_words(laptop_browser):
    manager = laptop_browser.manager
    opportunity = OpportunityFactory(name="Thermal jackets", stage="negotiation", owner=manager)
    OpportunityStageChangeFactory(
        opportunity=opportunity, from_stage="", to_stage="prospecting", changed_at=december_15(9, 0)
    )
    OpportunityStageChangeFactory(
        opportunity=opportunity,
        from_stage="proposal",
        to_stage="negotiation",
        changed_by=manager,
        changed_at=december_15(),
        notes="Revised price sent",
    )

    laptop_browser.get(f"{laptop_browser.base}/admin/opportunities/opportunity/{opportunity.pk}/change/")
    history = laptop_browser.find_element(By.ID, "stage_changes-group")
    laptop_browser.execute_script("arguments[0].scrollIntoView()", history)
    ARTIFACTS.mkdir(exist_ok=True)
    assert laptop_browser.save_screenshot(str(ARTIFACTS / "opportunity-stage-history.png"))

    rows = [row.text for row in history.find_elements(By.CSS_SELECTOR, "tbody tr.has_original")]
    assert len(rows) == 2, rows
    assert "15 Dec 2025 09:00" in rows[0] and "system" in rows[0] and "Created in Prospecting" in rows[0]
    assert "15 Dec 2025 10:30" in rows[1] and "Meera Manager" in rows[1] and "Proposal → Negotiation" in rows[1]
    assert str(opportunity.pk) not in history.text and "∅" not in history.text
