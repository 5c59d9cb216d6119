"""
Imports and exports through the API, as background jobs: ``POST /crm/leads/import``,
``POST /crm/{leads|opportunities|customers}/export``, and ``/api/v1/jobs`` to follow them, cancel
them and download a finished export. Without a broker (as here) a job runs in the web process
right after the request's transaction commits.
"""

from __future__ import annotations

import csv
import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from crm_project.core.models import Job, JobStatus
from customers.tests.factories import CustomerFactory
from leads.lead_csv import COLUMNS
from leads.models import Lead
from leads.tests.factories import LeadFactory
from opportunities.tests.factories import OpportunityFactory

pytestmark = pytest.mark.django_db

JOBS = "/api/v1/jobs"
IMPORT = "/api/v1/crm/leads/import"


@pytest.fixture(autouse=True)
def media_root(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path


@pytest.fixture
def run_on_commit(django_capture_on_commit_callbacks):
    """Run the jobs a request asks for when its transaction commits, as the web process does."""

    def call(request, *args, **kwargs):
        with django_capture_on_commit_callbacks(execute=True):
            return request(*args, **kwargs)

    return call


def lead_csv(*rows: dict) -> SimpleUploadedFile:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=COLUMNS)
    writer.writeheader()
    writer.writerows(rows)
    return SimpleUploadedFile("leads.csv", out.getvalue().encode(), content_type="text/csv")


def row(n: int, **fields) -> dict:
    return {"company_name": f"Company {n}", "contact_person": f"Buyer {n}", "email": f"buyer{n}@co.example", **fields}


def upload(client, file, **form):
    return client.post(IMPORT, {"file": file, **form}, format="multipart")


def read_job(client, job_id) -> dict:
    response = client.get(f"{JOBS}/{job_id}")
    assert response.status_code == 200
    return response.json()


# --- imports ---------------------------------------------------------------------------------------


def test_an_import_answers_202_with_its_job_and_creates_the_leads(manager_client, run_on_commit):
    response = run_on_commit(upload, manager_client, lead_csv(row(1), row(2), row(3)))
    assert response.status_code == 202
    body = response.json()
    assert response["Location"].endswith(f"{JOBS}/{body['id']}")
    job = read_job(manager_client, body["id"])
    assert job["kind"] == "lead_import"
    assert job["status"] == "succeeded"
    assert job["progress"] == {"done": 3, "total": 3}
    assert job["result"]["created"] == 3 and job["errors"] == []
    assert Lead.objects.count() == 3


def test_an_import_with_invalid_rows_creates_nothing_and_lists_each_error_by_row(manager_client, run_on_commit):
    LeadFactory(email="taken@co.example")
    response = run_on_commit(
        upload, manager_client, lead_csv(row(1), row(2, email="taken@co.example"), row(3, priority="highest"))
    )
    job = read_job(manager_client, response.json()["id"])
    assert job["status"] == "failed"
    assert job["errors"] == [
        {"row": 3, "field": "email", "message": "A lead with this email already exists."},
        {
            "row": 4,
            "field": "priority",
            "message": '"highest" is not a valid choice; choose one of: low, medium, high, urgent.',
        },
    ]
    assert "2 of 3 rows are invalid" in job["failure"]
    assert Lead.objects.count() == 1  # Only the one that was there.


def test_skip_invalid_creates_the_valid_rows_and_reports_the_others(manager_client, run_on_commit):
    response = run_on_commit(
        upload, manager_client, lead_csv(row(1), row(2, email="not-an-email")), skip_invalid="true"
    )
    job = read_job(manager_client, response.json()["id"])
    assert job["status"] == "succeeded"
    assert (job["result"]["created"], job["result"]["invalid"]) == (1, 1)
    assert [(error["row"], error["field"]) for error in job["errors"]] == [(3, "email")]


def test_a_dry_run_checks_every_row_and_writes_nothing(manager_client, run_on_commit):
    response = run_on_commit(upload, manager_client, lead_csv(row(1), row(2)), dry_run="true")
    job = read_job(manager_client, response.json()["id"])
    assert job["status"] == "succeeded" and job["result"]["dry_run"] is True
    assert job["result"]["valid"] == 2 and not Lead.objects.exists()


def test_an_import_assigns_rows_without_an_assignee_to_the_named_user(manager_client, rep, run_on_commit):
    run_on_commit(upload, manager_client, lead_csv(row(1)), assign_to_id=str(rep.pk))
    assert Lead.objects.get().assigned_to == rep


def test_a_file_that_is_not_csv_utf8_fails_with_the_reason(manager_client, run_on_commit):
    bad = SimpleUploadedFile("leads.csv", "company_name\nCafé\n".encode("latin-1"))
    job = read_job(manager_client, run_on_commit(upload, manager_client, bad).json()["id"])
    assert job["status"] == "failed"
    assert job["errors"] == [{"row": None, "field": "file", "message": job["failure"]}]
    assert "not UTF-8" in job["failure"]


def test_only_managers_import(rep_client):
    response = upload(rep_client, lead_csv(row(1)))
    assert response.status_code == 403
    assert not Job.objects.exists()


@pytest.mark.parametrize(
    ("form", "field"),
    [({}, "file"), ({"assign_to_id": "999999"}, "assign_to_id"), ({"dry_run": "perhaps"}, "dry_run")],
)
def test_a_bad_import_form_is_400_naming_the_field(manager_client, form, field):
    body = {"file": lead_csv(row(1)), **form} if field != "file" else form
    response = manager_client.post(IMPORT, body, format="multipart")
    assert response.status_code == 400
    assert field in response.json()


def test_an_upload_over_the_limit_is_refused(manager_client, settings):
    settings.API_MAX_UPLOAD_BYTES = 100
    response = upload(manager_client, lead_csv(*(row(n) for n in range(10))))
    assert response.status_code == 400
    assert "larger than 100 bytes" in response.json()["file"][0]


# --- exports -----------------------------------------------------------------------------------------


def exported(client, job: dict) -> list[dict]:
    response = client.get(job["download_url"])
    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert "attachment" in response["Content-Disposition"]
    return list(csv.DictReader(io.StringIO(b"".join(response.streaming_content).decode())))


def test_an_export_holds_exactly_what_the_users_list_shows(rep_client, rep, other_rep, run_on_commit):
    mine = LeadFactory(assigned_to=rep, status="new")
    LeadFactory(assigned_to=rep, status="contacted")
    LeadFactory(assigned_to=other_rep, status="new")  # Not the rep's: never in their file.
    response = run_on_commit(rep_client.post, "/api/v1/crm/leads/export?status=new")
    assert response.status_code == 202
    job = read_job(rep_client, response.json()["id"])
    assert (job["kind"], job["status"], job["result"]) == ("lead_export", "succeeded", {"rows": 1})
    rows = exported(rep_client, job)
    assert [r["email"] for r in rows] == [mine.email]


@pytest.mark.parametrize(
    ("path", "make", "key"),
    [
        ("/api/v1/crm/opportunities/export", lambda: OpportunityFactory(), "opportunity_number"),
        ("/api/v1/crm/customers/export", lambda: CustomerFactory(), "customer_code"),
    ],
)
def test_opportunities_and_customers_export_too(manager_client, run_on_commit, path, make, key):
    record = make()
    job = read_job(manager_client, run_on_commit(manager_client.post, path).json()["id"])
    assert [r[key] for r in exported(manager_client, job)] == [getattr(record, key)]


def test_a_bad_filter_is_400_before_any_job_is_asked_for(manager_client):
    response = manager_client.post("/api/v1/crm/leads/export?status=bogus")
    assert response.status_code == 400 and "status" in response.json()
    assert not Job.objects.exists()


def test_a_job_without_a_file_has_nothing_to_download(manager_client):
    job = Job.objects.create(kind="lead_export", status=JobStatus.RUNNING)
    assert manager_client.get(f"{JOBS}/{job.pk}").json()["download_url"] is None
    assert manager_client.get(f"{JOBS}/{job.pk}/download").status_code == 404


# --- following jobs --------------------------------------------------------------------------------


def test_a_rep_sees_their_own_jobs_and_a_manager_sees_all(rep_client, manager_client, rep, other_rep):
    mine = Job.objects.create(kind="lead_export", owner=rep)
    theirs = Job.objects.create(kind="lead_export", owner=other_rep)
    system = Job.objects.create(kind="segment_refresh")
    assert [job["id"] for job in rep_client.get(JOBS).json()["results"]] == [str(mine.pk)]
    assert rep_client.get(f"{JOBS}/{theirs.pk}").status_code == 404
    assert rep_client.get(f"{JOBS}/{system.pk}").status_code == 404
    assert {job["id"] for job in manager_client.get(JOBS).json()["results"]} == {
        str(mine.pk),
        str(theirs.pk),
        str(system.pk),
    }


def test_jobs_need_a_crm_role_and_a_token(no_role_client, anon_client):
    assert no_role_client.get(JOBS).status_code == 403
    assert anon_client.get(JOBS).status_code == 401


def test_a_queued_job_is_cancelled_and_a_finished_one_is_409(rep_client, rep):
    waiting = Job.objects.create(kind="lead_export", owner=rep)
    done = Job.objects.create(kind="lead_export", owner=rep, status=JobStatus.SUCCEEDED)
    response = rep_client.post(f"{JOBS}/{waiting.pk}/cancel")
    assert response.status_code == 200 and response.json()["status"] == "cancelled"
    assert rep_client.post(f"{JOBS}/{done.pk}/cancel").status_code == 409


def test_nobody_cancels_a_job_they_cannot_see(rep_client, other_rep):
    theirs = Job.objects.create(kind="lead_export", owner=other_rep)
    assert rep_client.post(f"{JOBS}/{theirs.pk}/cancel").status_code == 404
    theirs.refresh_from_db()
    assert theirs.status == JobStatus.QUEUED


def test_the_job_list_reads_in_a_fixed_number_of_queries(manager_client, manager, django_assert_max_num_queries):
    Job.objects.bulk_create([Job(kind="lead_export", owner=manager) for _ in range(3)])
    with django_assert_max_num_queries(5) as few:
        manager_client.get(JOBS)
    Job.objects.bulk_create([Job(kind="lead_export", owner=manager) for _ in range(40)])
    with django_assert_max_num_queries(5) as many:
        manager_client.get(JOBS)
    assert len(few.captured_queries) == len(many.captured_queries)
