"""Endpoints and delivery log through the API and the pages; the inbound API."""

import pytest
from django_tenants.utils import tenant_context

from crm_core.models import Contact, Customer
from tests.conftest import client_for, signed_in
from webhooks.models import Delivery, Endpoint

pytestmark = pytest.mark.django_db


def _create(client, **data):
    return client.post(
        "/api/v1/webhook-endpoints/",
        {"url": "https://example.com/hook", **data},
        content_type="application/json",
    )


def test_endpoint_crud_shows_the_secret_only_once(world):
    client = client_for(world.a, world.a.owner_token)
    created = _create(client, event_types=["customer.created", "deal.stage_changed"])
    assert created.status_code == 201, created.content
    body = created.json()
    assert body["secret"].startswith("whsec_")
    detail = client.get(f"/api/v1/webhook-endpoints/{body['id']}/").json()
    listing = client.get("/api/v1/webhook-endpoints/").content.decode()
    assert "secret" not in detail and body["secret"] not in listing
    patched = client.patch(
        f"/api/v1/webhook-endpoints/{body['id']}/",
        {"enabled": False},
        content_type="application/json",
    ).json()
    assert patched["enabled"] is False and patched["disabled_reason"] == "manual"
    revealed = client.post(f"/api/v1/webhook-endpoints/{body['id']}/reveal-secret/")
    assert revealed.json()["secret"] == body["secret"]
    assert revealed["Cache-Control"] == "no-store" and created["Cache-Control"] == "no-store"
    rotated = client.post(f"/api/v1/webhook-endpoints/{body['id']}/rotate-secret/").json()
    assert rotated["secret"] != body["secret"]
    assert client.delete(f"/api/v1/webhook-endpoints/{body['id']}/").status_code == 204


def test_bad_input_names_the_field(world):
    client = client_for(world.a, world.a.owner_token)
    response = _create(client, url="https://169.254.169.254/", event_types=["nope"])
    assert response.status_code == 400
    fields = response.json()["error"]["fields"]
    assert "url" in fields or "event_types" in fields
    response = _create(client, url="https://10.0.0.1/")
    assert response.status_code == 400 and "url" in response.json()["error"]["fields"]


def test_only_admins_manage_webhooks(world):
    rep = client_for(world.a, world.a.rep_token)
    assert _create(rep).status_code == 403
    assert rep.get("/api/v1/webhook-deliveries/").status_code == 403
    assert signed_in(world.a, world.a.rep_email).get("/webhooks/").status_code == 403


def test_delivery_log_filters_replay_and_test_event(world):
    client = client_for(world.a, world.a.owner_token)
    endpoint_id = _create(client).json()["id"]
    other_id = _create(client, url="https://example.org/hook").json()["id"]
    test = client.post(f"/api/v1/webhook-endpoints/{endpoint_id}/test/")
    assert test.status_code == 202 and test.json()["event_type"] == "webhook.test"
    client.post(f"/api/v1/webhook-endpoints/{other_id}/test/")
    rows = client.get(f"/api/v1/webhook-deliveries/?endpoint={endpoint_id}").json()["results"]
    assert [r["endpoint_id"] for r in rows] == [endpoint_id]
    assert client.get("/api/v1/webhook-deliveries/?status=succeeded").json()["results"] == []
    tests = client.get("/api/v1/webhook-deliveries/?event_type=webhook.test").json()["results"]
    assert len(tests) == 2
    assert client.get("/api/v1/webhook-deliveries/?status=nope").status_code == 400
    delivery_id = rows[0]["id"]
    with tenant_context(world.a.tenant):
        Delivery.objects.filter(pk=delivery_id).update(status="failed")
    replay = client.post(f"/api/v1/webhook-deliveries/{delivery_id}/replay/")
    assert replay.status_code == 202 and replay.json()["status"] == "pending"
    detail = client.get(f"/api/v1/webhook-deliveries/{delivery_id}/").json()
    assert detail["body"]["type"] == "webhook.test" and detail["attempt_log"] == []


def test_pages_create_edit_and_log(world):
    client = signed_in(world.a, world.a.owner_email)
    page = client.post(
        "/webhooks/",
        {"url": "https://example.com/page-hook", "event_types": ["lead.created"], "enabled": "on"},
    )
    assert page.status_code == 200
    assert b"whsec_" in page.content
    with tenant_context(world.a.tenant):
        endpoint = Endpoint.objects.get(url="https://example.com/page-hook")
        assert endpoint.event_types == ["lead.created"]
    bad = client.post("/webhooks/", {"url": "https://10.0.0.1/"})
    assert b"errorlist" in bad.content
    edited = client.post(f"/webhooks/{endpoint.pk}/", {"url": endpoint.url, "description": "ERP"})
    assert edited.status_code == 302
    client.post(f"/webhooks/{endpoint.pk}/test/")
    log = client.get(f"/webhooks/deliveries/?endpoint={endpoint.pk}&status=pending")
    assert log.status_code == 200 and b"webhook.test" in log.content
    with tenant_context(world.a.tenant):
        delivery = Delivery.objects.get(endpoint=endpoint)
    assert client.get(f"/webhooks/deliveries/{delivery.pk}/").status_code == 200
    assert client.post(f"/webhooks/deliveries/{delivery.pk}/replay/").status_code == 302
    secret = client.post(f"/webhooks/{endpoint.pk}/reveal/")
    assert b"whsec_" in secret.content
    assert b"whsec_" not in client.get(f"/webhooks/{endpoint.pk}/").content


def _inbound(client, key, payload):
    headers = {"HTTP_IDEMPOTENCY_KEY": key} if key else {}
    return client.post(
        "/api/v1/inbound/records/", payload, content_type="application/json", **headers
    )


def test_inbound_create_is_idempotent(world):
    client = client_for(world.a, world.a.owner_token)
    payload = {"type": "customer", "data": {"name": "From ERP", "email": "erp@example.com"}}
    first = _inbound(client, "erp-1", payload)
    assert first.status_code == 201, first.content
    again = _inbound(client, "erp-1", payload)
    assert again.status_code == 201 and again.json() == first.json()
    assert again["Idempotent-Replayed"] == "true"
    with tenant_context(world.a.tenant):
        assert Customer.objects.filter(name="From ERP").count() == 1
    clash = _inbound(client, "erp-1", {**payload, "data": {"name": "Other"}})
    assert clash.status_code == 400 and "idempotency_key" in clash.json()["error"]["fields"]


def test_inbound_update_and_errors(world):
    client = client_for(world.a, world.a.owner_token)
    created = _inbound(client, "c-1", {"type": "customer", "data": {"name": "Upd"}}).json()
    contact = _inbound(
        client,
        "c-2",
        {"type": "contact", "data": {"name": "Pat", "customer_id": created["id"]}},
    )
    assert contact.status_code == 201, contact.content
    updated = _inbound(
        client, "c-3", {"type": "contact", "id": contact.json()["id"], "data": {"job_title": "CTO"}}
    )
    assert updated.status_code == 200 and updated.json()["job_title"] == "CTO"
    with tenant_context(world.a.tenant):
        assert Contact.objects.get(pk=contact.json()["id"]).job_title == "CTO"
    missing = _inbound(client, "", {"type": "lead", "data": {"name": "x"}})
    assert missing.status_code == 400 and "idempotency_key" in missing.json()["error"]["fields"]
    bad = _inbound(client, "c-4", {"type": "customer", "data": {"name": "", "nope": 1}})
    assert bad.status_code == 400 and "nope" in bad.json()["error"]["fields"]
    fixed = _inbound(client, "c-4", {"type": "customer", "data": {"name": "Fixed"}})
    assert fixed.status_code == 201  # a failed request does not burn its key
    session = signed_in(world.a, world.a.owner_email)
    assert _inbound(session, "c-5", {"type": "lead", "data": {"name": "x"}}).status_code in (
        401,
        403,
    )


def test_inbound_leads_and_deals_through_their_services(world):
    from crm_core.models import Deal, Lead

    client = client_for(world.a, world.a.owner_token)
    lead = _inbound(client, "l-1", {"type": "lead", "data": {"name": "Inbound lead"}})
    assert lead.status_code == 201, lead.content
    with tenant_context(world.a.tenant):
        assert Lead.objects.get(pk=lead.json()["id"]).name == "Inbound lead"
        deal = Deal.objects.order_by("pk").first()
    renamed = _inbound(client, "d-1", {"type": "deal", "id": deal.pk, "data": {"name": "ERP deal"}})
    assert renamed.status_code == 200 and renamed.json()["name"] == "ERP deal"
    # The caller's visibility applies: a rep cannot reach another owner's record.
    from accounts.models import User
    from accounts.roles import Role
    from accounts.services import api_token_create

    with tenant_context(world.a.tenant):
        other = User.objects.create_user(
            "inbound-rep@alpha.example.com", "Test-password-2026", role=Role.SALES_REP
        )
        _token, raw = api_token_create(user=other, name="erp")
    hidden = _inbound(
        client_for(world.a, raw), "d-2", {"type": "deal", "id": deal.pk, "data": {"name": "x"}}
    )
    assert hidden.status_code == 404
