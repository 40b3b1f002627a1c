"""Import (CSV, XLSX; modes, dedupe, errors; the Celery task end to end) and export."""

import csv
import io
import json
import time

import pytest
from django_tenants.utils import tenant_context
from openpyxl import Workbook, load_workbook
from psycopg.errors import DataError

from crm_core.models import AssignmentRule, Contact, Customer, ImportJob, Lead, Region
from crm_core.records import phone_key
from crm_core.services import imports
from crm_core.services.imports import auto_mapping, import_job_create, import_run
from crm_platform.outbox.models import OutboxEvent
from tests.conftest import client_for, signed_in
from tests.crm_core.test_search import (  # noqa: F401 (people_fixture: the "people" fixture)
    make_customer,
    people_fixture,
)

# Not module-wide: the Celery test must commit for the worker to see its data.
db = pytest.mark.django_db


def csv_bytes(rows, encoding="utf-8"):
    buffer = io.StringIO()
    csv.writer(buffer).writerows(rows)
    return buffer.getvalue().encode(encoding)


def xlsx_bytes(rows):
    workbook = Workbook()
    for row in rows:
        workbook.active.append(row)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def run(world, user, data, *, name="customers.csv", entity="customer", **options):
    """Create and run a job as the Celery task would (in this test's transaction)."""
    with tenant_context(world.a.tenant):
        job = import_job_create(actor=user, entity=entity, file_name=name, data=data, **options)
        import_run(job_id=job.pk)
        job.refresh_from_db()
        return job


def names(world, prefix):
    with tenant_context(world.a.tenant):
        return sorted(
            Customer.objects.filter(name__startswith=prefix).values_list("name", flat=True)
        )


BAD_FILE = [
    ["Name", "E-mail", "Phone", "Value tier", "Birthday"],
    ["Imp 甲 Ltd", "a@imp.example", "+86 138 0000 0001", "A", "1980-01-02"],
    ["", "b@imp.example", "", "", ""],  # row 3: no name
    ["Imp 乙", "not-an-email", "", "Z", ""],  # row 4: e-mail and tier
    ["Imp 丙", "c@imp.example", "", "gold", "2001/13/40"],  # row 5: birthday
    ["Imp 丁", "d@imp.example", "", "platinum", "1990/05/06"],
]


@db
def test_all_or_nothing_with_errors_leaves_nothing(world, people):
    job = run(world, people["admin"], csv_bytes(BAD_FILE))
    assert job.status == ImportJob.Status.FAILED
    assert (job.total_rows, job.processed_rows, job.error_rows, job.created_rows) == (5, 5, 3, 0)
    errors = {(e["row"], e["field"]) for e in job.errors if e["row"]}
    assert errors == {(3, "name"), (4, "email"), (4, "value_tier"), (5, "birthday")}
    assert any("Nothing was imported" in e["message"] for e in job.errors if not e["row"])
    assert names(world, "Imp ") == []


@db
def test_skip_bad_rows_imports_the_rest_and_reports_every_bad_row(world, people):
    job = run(world, people["admin"], csv_bytes(BAD_FILE), mode="skip_bad_rows")
    assert job.status == ImportJob.Status.DONE
    assert (job.created_rows, job.error_rows) == (2, 3)
    assert {e["row"] for e in job.errors} == {3, 4, 5}
    assert names(world, "Imp ") == ["Imp 丁", "Imp 甲 Ltd"]
    with tenant_context(world.a.tenant):
        first = Customer.objects.get(name="Imp 甲 Ltd")
        assert first.value_tier == "A" and first.birthday.isoformat() == "1980-01-02"
        assert first.name_key == "imp甲" and first.phone_key == phone_key("8613800000001")
        assert "a@imp.example" in first.search_text and "8613800000001" in first.search_text
        assert first.owner == people["admin"] and first.created_by == people["admin"]
        assert Customer.objects.get(name="Imp 丁").value_tier == "A"  # label "platinum"
        event = OutboxEvent.objects.filter(event_type="customer.imported").latest("id")
        assert set(event.payload["created_ids"]) == set(
            Customer.objects.filter(name__startswith="Imp ").values_list("id", flat=True)
        )


@db
def test_dry_run_counts_and_writes_nothing(world, people):
    job = run(world, people["admin"], csv_bytes(BAD_FILE), mode="skip_bad_rows", dry_run=True)
    assert job.status == ImportJob.Status.DONE
    assert (job.created_rows, job.error_rows) == (2, 3)
    assert names(world, "Imp ") == []


@db
def test_dedupe_skip_update_create(world, people):
    with tenant_context(world.a.tenant):
        existing = make_customer(people["east_rep"], "Dedupe Existing", "same@dedupe.example")
    rows = [
        ["名称", "邮箱", "电话", "行业"],
        ["Dedupe Changed Name", "SAME@dedupe.example", "", "chemicals"],  # e-mail match
        ["Dedupe New", "new@dedupe.example", "+86 139 1111 2222", ""],
        ["Dedupe New again", "", "139-1111-2222", ""],  # same phone as the row above
    ]
    job = run(world, people["admin"], csv_bytes(rows), dedupe="skip")
    assert (job.created_rows, job.skipped_rows, job.updated_rows) == (1, 2, 0)
    job = run(world, people["admin"], csv_bytes(rows), dedupe="update")
    assert (job.created_rows, job.skipped_rows, job.updated_rows) == (0, 1, 2)
    with tenant_context(world.a.tenant):
        existing.refresh_from_db()
        assert existing.industry == "chemicals" and existing.name == "Dedupe Changed Name"
        assert existing.name_key == "dedupechangedname"
    job = run(world, people["admin"], csv_bytes(rows), dedupe="create")
    assert job.created_rows == 3
    assert len(names(world, "Dedupe New")) == 3


@db
def test_xlsx_and_legacy_encodings_with_localised_headers(world, people):
    rows = [
        ["名前", "メール", "電話", "タグ"],
        ["東京商事株式会社", "info@tokyo.example", 312345678, "重要, 東京"],
    ]
    job = run(world, people["admin"], xlsx_bytes(rows), name="顧客.xlsx")
    assert job.status == "done" and job.created_rows == 1, job.errors
    with tenant_context(world.a.tenant):
        record = Customer.objects.get(name="東京商事株式会社")
        assert record.phone == "312345678" and record.tags == ["東京", "重要"]
    japanese = [["名前", "メール"], ["大阪ソフト株式会社", "osaka@example.jp"]]
    job = run(world, people["admin"], csv_bytes(japanese, "shift_jis"), name="sjis.csv")
    assert job.created_rows == 1, job.errors
    chinese = [["客户名称", "电子邮件"], ["广州贸易有限公司", "gz@example.cn"]]
    job = run(world, people["admin"], csv_bytes(chinese, "gb18030"), name="gbk.csv")
    assert job.created_rows == 1, job.errors
    bom = b"\xef\xbb\xbf" + csv_bytes([["Name"], ["BOM Co"]])
    assert run(world, people["admin"], bom).created_rows == 1
    assert names(world, "大阪") == ["大阪ソフト株式会社"] and names(world, "广州") == [
        "广州贸易有限公司"
    ]


def test_auto_mapping_in_three_languages():
    assert auto_mapping("customer", ["Name", "E-mail", "電話番号", "备注", "Whatever"]) == {
        "Name": "name",
        "E-mail": "email",
        "電話番号": "phone",
        "备注": "notes",
    }
    assert auto_mapping("lead", ["姓名", "公司", "手机"]) == {
        "姓名": "name",
        "公司": "company_name",
        "手机": "phone",
    }


@pytest.mark.parametrize(
    "raw",
    [
        "plain@example.com",
        "UPPER.Case+tag@Example.CO.JP",
        '"quoted local"@example.com',
        "someone@localhost",
        "someone@[192.168.0.1]",
        "not-an-email",
        "two@@example.com",
        "trailing-dot@example.",
        "no-tld@example",
        "space in@example.com",
        "中文@例子.中国",
        "x" * 250 + "@example.com",  # over the field's 254 characters
    ],
)
def test_import_email_rule_is_the_model_fields(raw):
    """The import's e-mail check (compiled once, no Field.clean per row) accepts what the
    model field accepts and reports the field's own message otherwise."""
    from django.core.exceptions import ValidationError

    from crm_core.services.imports import _cleaner

    field = Customer._meta.get_field("email")
    try:
        expected = ("ok", field.clean(raw, None))
    except ValidationError as exc:
        expected = ("error", exc.messages[0])
    try:
        got = ("ok", _cleaner(Customer, "email")(raw))
    except ValidationError as exc:
        got = ("error", exc.messages[0])
    assert got == expected


@db
def test_contacts_and_leads(world, people):
    with tenant_context(world.a.tenant):
        customer = make_customer(people["admin"], "联系人客户有限公司")
    rows = [
        ["Name", "Customer", "E-mails", "Phones", "Decision role"],
        [
            "陈静",
            "联系人客户",
            "chen@example.cn; chen2@example.cn",
            "138 0000 1111",
            "decision maker",
        ],
        ["Nobody", "No such customer", "", "", ""],
    ]
    job = run(world, people["admin"], csv_bytes(rows), entity="contact", mode="skip_bad_rows")
    assert (job.created_rows, job.error_rows) == (1, 1), job.errors
    assert job.errors[0]["field"] == "customer"
    with tenant_context(world.a.tenant):
        contact = Contact.objects.get(name="陈静")
        assert contact.customer == customer and contact.decision_role == "decision_maker"
        assert contact.emails == ["chen@example.cn", "chen2@example.cn"]
        assert "13800001111" in contact.search_text
    rows = [
        ["Name", "Status", "Money", "Need", "Purchase window"],
        ["Lead 导入", "qualified", "是", "yes", "now"],
    ]
    job = run(world, people["admin"], csv_bytes(rows), entity="lead")
    assert job.created_rows == 1, job.errors
    with tenant_context(world.a.tenant):
        lead = Lead.objects.get(name="Lead 导入")
        assert (lead.status, lead.has_money, lead.has_authority, lead.has_need) == (
            "qualified",
            True,
            False,
            True,
        )


@db
def test_owner_region_and_assignment_rules(world, people):
    with tenant_context(world.a.tenant):
        region = Region.objects.create(name="华南")
        AssignmentRule.objects.create(name="east", entity="customer", team=people["east_rep"].team)
    rows = [
        ["Name", "Owner", "Region"],
        ["Assigned A", people["west_rep"].email.upper(), "华南"],
        ["Assigned B", "", ""],
        ["Assigned C", "nobody@example.com", "Atlantis"],
    ]
    job = run(world, people["admin"], csv_bytes(rows), mode="skip_bad_rows")
    assert {(e["row"], e["field"]) for e in job.errors} == {(4, "owner"), (4, "region")}
    with tenant_context(world.a.tenant):
        a = Customer.objects.get(name="Assigned A")
        assert a.owner == people["west_rep"] and a.team_id == people["west_rep"].team_id
        assert a.region == region
        b = Customer.objects.get(name="Assigned B")
        assert b.owner.team_id == people["east_rep"].team_id  # by the round-robin rule


@db
def test_api_upload_poll_and_errors_csv(world, people):
    client = client_for(world.a, people["tokens"]["admin"])
    upload = io.BytesIO(csv_bytes(BAD_FILE))
    upload.name = "bad.csv"
    response = client.post(
        "/api/v1/imports/",
        {
            "file": upload,
            "entity": "customer",
            "mode": "skip_bad_rows",
            "mapping": json.dumps({"Name": "name", "E-mail": "email"}),
        },
    )
    assert response.status_code == 201, response.content
    job_id = response.json()["id"]
    assert response.json()["status"] == "pending" and response.json()["total_rows"] == 5
    with tenant_context(world.a.tenant):
        import_run(job_id=job_id)
    body = client.get(f"/api/v1/imports/{job_id}/").json()
    assert body["status"] == "done" and body["progress"] == 100
    assert (body["created_rows"], body["error_rows"]) == (3, 2)  # only name and e-mail mapped
    errors = client.get(f"/api/v1/imports/{job_id}/errors.csv")
    assert errors.status_code == 200 and errors["Content-Type"].startswith("text/csv")
    lines = list(csv.reader(io.StringIO(errors.content.decode("utf-8-sig"))))
    assert lines[0] == ["row", "field", "message"] and {line[0] for line in lines[1:]} == {"3", "4"}
    listed = client.get("/api/v1/imports/").json()
    assert listed[0]["id"] == job_id and "errors" not in listed[0]
    # Other users' jobs are not theirs to read; reps may not import at all.
    manager = client_for(world.a, people["tokens"]["east_manager"])
    assert manager.get(f"/api/v1/imports/{job_id}/").status_code == 404
    rep = client_for(world.a, people["tokens"]["east_rep"])
    assert rep.get("/api/v1/imports/").status_code == 403


@db
@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"entity": "customer"}, "file"),
        ({"entity": "deal", "file": b"Name\nx\n"}, "entity"),
        ({"entity": "customer", "file": b"Name\nx\n", "mapping": "{not json"}, "mapping"),
        (
            {"entity": "customer", "file": b"Name\nx\n", "mapping": '{"Name": "search_text"}'},
            "mapping",
        ),
        ({"entity": "customer", "file": b"Email\nx@y.z\n"}, "mapping"),  # no name column
        ({"entity": "customer", "file": b""}, "file"),
        ({"entity": "customer", "file": b"Name\nx\n", "mode": "sometimes"}, "mode"),
    ],
)
def test_bad_uploads_name_the_field(world, people, data, field):
    client = client_for(world.a, people["tokens"]["admin"])
    data = dict(data)
    if "file" in data:
        upload = io.BytesIO(data["file"])
        upload.name = "x.csv"
        data["file"] = upload
    response = client.post("/api/v1/imports/", data)
    assert response.status_code == 400, response.content
    assert field in response.json()["error"]["fields"], response.json()


@db
def test_pages_upload_map_and_progress(world, people):
    web = signed_in(world.a, people["admin"].email)
    assert web.get("/imports/").status_code == 200
    upload = io.BytesIO(csv_bytes([["Company", "Mail"], ["Page Import Co", "p@page.example"]]))
    upload.name = "page.csv"
    response = web.post(
        "/imports/",
        {"file": upload, "entity": "customer", "mode": "all_or_nothing", "dedupe": "skip"},
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    mapping_page = web.get(response["Location"])
    assert b"column_0" in mapping_page.content
    # "Company" is not a customer header: the user maps it to the name.
    started = web.post(
        response["Location"],
        {"column_0": "name", "column_1": "email", "mode": "all_or_nothing", "dedupe": "skip"},
    )
    assert started.status_code == 302
    job_id = int(response["Location"].rstrip("/").split("/")[-1])
    with tenant_context(world.a.tenant):
        assert ImportJob.objects.get(pk=job_id).mapping == {"Company": "name", "Mail": "email"}
        import_run(job_id=job_id)
    fragment = web.get(f"/imports/{job_id}/progress/")
    assert b'data-status="done"' in fragment.content and b"hx-trigger" not in fragment.content
    assert names(world, "Page Import") == ["Page Import Co"]
    assert signed_in(world.a, people["east_rep"].email).get("/imports/").status_code == 403


@db
def test_export_honours_visibility_and_filters(world, people):
    with tenant_context(world.a.tenant):
        mine = make_customer(people["east_rep"], "Export mine 出口")
        make_customer(people["west_rep"], "Export theirs 出口")
    manager = client_for(world.a, people["tokens"]["east_manager"])
    response = manager.get("/api/v1/exports/customers.csv", {"q": "出口"})
    assert response.status_code == 200 and response["Content-Type"].startswith("text/csv")
    text = b"".join(response.streaming_content).decode("utf-8-sig")
    rows = list(csv.DictReader(io.StringIO(text)))
    assert [row["name"] for row in rows] == ["Export mine 出口"]
    assert rows[0]["ID"] == str(mine.pk) and rows[0]["owner"] == people["east_rep"].email
    admin = client_for(world.a, people["tokens"]["admin"])
    response = admin.get("/api/v1/exports/customers.xlsx", {"q": "出口"})
    sheet = load_workbook(io.BytesIO(response.content), read_only=True).worksheets[0]
    names_in_sheet = sorted(row[1] for row in sheet.iter_rows(min_row=2, values_only=True))
    assert names_in_sheet == ["Export mine 出口", "Export theirs 出口"]
    for collection in ("contacts", "leads"):
        for file_format in ("csv", "xlsx"):
            assert admin.get(f"/api/v1/exports/{collection}.{file_format}").status_code == 200
    rep = client_for(world.a, people["tokens"]["east_rep"])
    assert rep.get("/api/v1/exports/customers.csv").status_code == 403
    bad = admin.get("/api/v1/exports/customers.csv", {"relationship_stage": "friend"})
    assert bad.status_code == 400 and "relationship_stage" in bad.json()["error"]["fields"]


def test_celery_task_runs_the_import_end_to_end(world, committed, celery_worker):
    """Through the API and a real worker: the job is queued after commit and finishes."""
    client = client_for(world.a, world.a.owner_token)
    rows = [["Name", "E-mail"]] + [
        [f"Celery import {i}", f"c{i}@celery.example"] for i in range(300)
    ]
    rows.append(["", "broken@celery.example"])
    upload = io.BytesIO(csv_bytes(rows))
    upload.name = "celery.csv"
    response = client.post(
        "/api/v1/imports/", {"file": upload, "entity": "customer", "mode": "skip_bad_rows"}
    )
    assert response.status_code == 201, response.content
    job_id = response.json()["id"]
    try:
        deadline = time.monotonic() + 30
        while True:
            body = client.get(f"/api/v1/imports/{job_id}/").json()
            if body["status"] in ("done", "failed") or time.monotonic() > deadline:
                break
            time.sleep(0.2)
        assert body["status"] == "done", body
        assert (body["processed_rows"], body["created_rows"], body["error_rows"]) == (301, 300, 1)
        assert body["errors"] == [
            {"row": 302, "field": "name", "message": body["errors"][0]["message"]}
        ]
    finally:
        with tenant_context(world.a.tenant):
            Customer.objects.filter(name__startswith="Celery import ").delete()
            ImportJob.objects.filter(pk=job_id).delete()


# Batches of 2: each next batch is validated while the previous one's COPY is in flight.
PIPELINED_FILE = [
    ["Name", "E-mail", "Value tier"],
    ["Pipe 1", "p1@pipe.example", "A"],
    ["Pipe 2", "p2@pipe.example", "B"],
    ["Pipe 3", "p3@pipe.example", "C"],
    ["Pipe 4", "not-an-email", "D"],  # row 5, batch 2
    ["Pipe 5", "p1@pipe.example", ""],  # a duplicate of row 2, in an earlier COPY
    ["Pipe 6", "p6@pipe.example", "Z"],  # row 7, batch 3
    ["Pipe 7", "p7@pipe.example", ""],
    ["", "p8@pipe.example", ""],  # row 9, the last batch
]


@db
def test_pipelined_all_or_nothing_error_after_a_copy_leaves_nothing(world, people, monkeypatch):
    monkeypatch.setattr(imports, "BATCH_SIZE", 2)
    job = run(world, people["admin"], csv_bytes(PIPELINED_FILE))
    assert job.status == ImportJob.Status.FAILED
    assert (job.processed_rows, job.error_rows, job.created_rows) == (8, 3, 0)
    assert {e["row"] for e in job.errors if e["row"]} == {5, 7, 9}
    assert names(world, "Pipe ") == []
    with tenant_context(world.a.tenant):
        assert not OutboxEvent.objects.filter(event_type="customer.imported").exists()


@db
def test_pipelined_skip_bad_rows_reports_every_bad_row_and_writes_the_rest(
    world, people, monkeypatch
):
    monkeypatch.setattr(imports, "BATCH_SIZE", 2)
    job = run(world, people["admin"], csv_bytes(PIPELINED_FILE), mode="skip_bad_rows")
    assert job.status == ImportJob.Status.DONE
    assert (job.created_rows, job.skipped_rows, job.error_rows) == (4, 1, 3)
    assert [e["row"] for e in job.errors] == [5, 7, 9]
    assert names(world, "Pipe ") == ["Pipe 1", "Pipe 2", "Pipe 3", "Pipe 7"]
    with tenant_context(world.a.tenant):
        created = set(
            Customer.objects.filter(name__startswith="Pipe ").values_list("id", flat=True)
        )
        events = OutboxEvent.objects.filter(event_type="customer.imported")
        assert {pk for e in events for pk in e.payload["created_ids"]} == created


@db
def test_pipelined_dedupe_update_matches_rows_of_earlier_batches(world, people, monkeypatch):
    monkeypatch.setattr(imports, "BATCH_SIZE", 2)
    with tenant_context(world.a.tenant):
        existing = make_customer(people["admin"], "Pipe old", "p7@pipe.example")
    job = run(
        world, people["admin"], csv_bytes(PIPELINED_FILE), mode="skip_bad_rows", dedupe="update"
    )
    assert (job.created_rows, job.updated_rows, job.skipped_rows) == (3, 1, 1)
    with tenant_context(world.a.tenant):
        existing.refresh_from_db()
        assert existing.name == "Pipe 7"


@db
def test_a_failure_while_a_copy_is_in_flight_rolls_the_import_back(world, people, monkeypatch):
    monkeypatch.setattr(imports, "BATCH_SIZE", 2)
    validate = imports.RowValidator.validate

    def failing(self, cells):
        if cells[0] == "Pipe 3":  # batch 2, validated during batch 1's COPY
            raise RuntimeError("boom")
        return validate(self, cells)

    monkeypatch.setattr(imports.RowValidator, "validate", failing)
    with pytest.raises(RuntimeError):
        run(world, people["admin"], csv_bytes(PIPELINED_FILE[:4]))
    with tenant_context(world.a.tenant):
        job = ImportJob.objects.latest("id")  # the connection is usable again
        assert job.status == ImportJob.Status.FAILED
    assert names(world, "Pipe ") == []


@db
def test_a_row_the_server_rejects_mid_copy_fails_the_import(world, people, monkeypatch):
    """The writer thread's error (here: a name too long for its column, let through by a
    broken validator) reaches the import, which rolls back and can still save the job."""
    monkeypatch.setattr(imports, "BATCH_SIZE", 2)
    validate = imports.RowValidator.validate

    def lax(self, cells):
        values, errors = validate(self, cells)
        if cells[0] == "Pipe 3":
            values["name"] = "x" * 5000
        return values, errors

    monkeypatch.setattr(imports.RowValidator, "validate", lax)
    with pytest.raises(DataError):
        run(world, people["admin"], csv_bytes(PIPELINED_FILE[:4]), mode="skip_bad_rows")
    with tenant_context(world.a.tenant):
        job = ImportJob.objects.latest("id")
        assert job.status == ImportJob.Status.FAILED
    assert names(world, "Pipe ") == ["Pipe 1", "Pipe 2"]  # the first batch was committed


def test_batches_start_small_then_cover_every_row(monkeypatch):
    monkeypatch.setattr(imports, "FIRST_BATCH_SIZE", 2)
    monkeypatch.setattr(imports, "BATCH_SIZE", 5)
    assert imports._batch_bounds(0) == []
    assert imports._batch_bounds(1) == [(0, 1)]
    assert imports._batch_bounds(13) == [(0, 2), (2, 7), (7, 12), (12, 13)]


@db
def test_a_file_with_headers_only_imports_nothing(world, people):
    job = run(world, people["admin"], csv_bytes([["Name", "E-mail"]]))
    assert job.status == ImportJob.Status.DONE
    assert (job.total_rows, job.processed_rows, job.created_rows) == (0, 0, 0)


@db
def test_list_values_with_quotes_and_backslashes_survive_copy(world, people):
    rows = [["Name", "Tags"], ["Quoted tags Co", 'say "hi", back\\slash, {braces}, 标签']]
    job = run(world, people["admin"], csv_bytes(rows))
    assert job.created_rows == 1, job.errors
    with tenant_context(world.a.tenant):
        tags = Customer.objects.get(name="Quoted tags Co").tags
    assert tags == sorted(['say "hi"', "back\\slash", "{braces}", "标签"])


@db
def test_update_mode_only_touches_records_the_importer_may_change(world, people):
    with tenant_context(world.a.tenant):
        theirs = make_customer(people["west_rep"], "West only", "west-only@example.com")
    rows = [["Name", "E-mail", "Industry"], ["West only", "west-only@example.com", "mining"]]
    job = run(world, people["east_manager"], csv_bytes(rows), dedupe="update")
    assert (job.updated_rows, job.skipped_rows, job.created_rows) == (0, 1, 0)
    with tenant_context(world.a.tenant):
        theirs.refresh_from_db()
        assert theirs.industry == ""


@db
def test_contact_and_lead_exports_use_their_lists_filters(world, people):
    from tests.crm_core.test_search import make_contact, make_lead

    with tenant_context(world.a.tenant):
        customer = make_customer(people["east_rep"], "Export contacts customer")
        make_contact(people["east_rep"], "出口联系人", ["c@export.example"], customer=customer)
        make_contact(people["west_rep"], "出口联系人 west")
        qualified = make_lead(people["east_rep"], "出口线索")
        qualified.status = "qualified"
        qualified.save()
        make_lead(people["east_rep"], "出口线索 new")
    manager = client_for(world.a, people["tokens"]["east_manager"])
    response = manager.get("/api/v1/exports/contacts.csv", {"customer": customer.pk})
    rows = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode("utf-8-sig"))))
    assert [row[1] for row in rows[1:]] == ["出口联系人"]
    assert rows[1][2] == "Export contacts customer" and rows[1][5] == "c@export.example"
    response = manager.get("/api/v1/exports/leads.xlsx", {"status": "qualified", "q": "出口"})
    sheet = load_workbook(io.BytesIO(response.content), read_only=True).worksheets[0]
    assert [row[1] for row in sheet.iter_rows(min_row=2, values_only=True)] == ["出口线索"]
