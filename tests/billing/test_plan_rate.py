"""The plan's API rate: a company past its requests per minute gets 429 with Retry-After;
the count is per company, in the real Redis."""

import time

import pytest
from django.test import override_settings

from billing import throttling
from billing.models import BillingAccount, Plan
from crm_platform.kernel.redis_client import redis_client
from tests.conftest import client_for

pytestmark = pytest.mark.django_db


@override_settings(API_PLAN_RATE_LIMITS=True)
def test_a_company_past_its_plans_rate_gets_429(world):
    plan = Plan.objects.create(code="tiny", name="Tiny", price_per_user=100, api_rate_per_minute=3)
    BillingAccount.objects.update_or_create(tenant=world.b.tenant, defaults={"plan": plan})
    throttling._rates.clear()
    throttling._leases.clear()
    if 60 - time.time() % 60 < 3:  # keep the four calls inside one minute's window
        time.sleep(3)
    client = client_for(world.b, world.b.owner_token)
    assert [client.get("/api/v1/me/").status_code for _ in range(3)] == [200, 200, 200]
    refused = client.get("/api/v1/me/")
    assert refused.status_code == 429
    assert refused.json()["error"]["code"] == "throttled"
    assert 0 < int(refused["Retry-After"]) <= 60
    # The window's key expires on its own (set with the first request of the minute).
    key = f"crm:api-rate:{world.b.tenant.schema_name}:{int(time.time() // 60)}"
    assert 0 < redis_client().ttl(key) <= throttling.WINDOW_KEY_SECONDS
    # Another company's count is its own.
    assert client_for(world.a, world.a.owner_token).get("/api/v1/me/").status_code == 200


def _company_b_on_rate(rate: int, world) -> str:
    """Company B on a plan of `rate` requests a minute, this process's counts forgotten,
    inside one minute's window; returns that window's Redis key (emptied)."""
    plan = Plan.objects.create(
        code=f"rate-{rate}", name=f"Rate {rate}", price_per_user=100, api_rate_per_minute=rate
    )
    BillingAccount.objects.update_or_create(tenant=world.b.tenant, defaults={"plan": plan})
    throttling._rates.clear()
    throttling._leases.clear()
    if 60 - time.time() % 60 < 3:  # the whole test inside one minute's window
        time.sleep(3)
    key = f"crm:api-rate:{world.b.tenant.schema_name}:{int(time.time() // 60)}"
    redis_client().delete(key)
    return key


@override_settings(API_PLAN_RATE_LIMITS=True)
def test_a_busy_company_takes_its_requests_in_blocks_and_never_exceeds_its_rate(world):
    key = _company_b_on_rate(200, world)
    # Other processes have used 195 of the 200: this one takes blocks of 2 (1% of 200).
    redis_client().set(key, 195, ex=throttling.WINDOW_KEY_SECONDS)
    client = client_for(world.b, world.b.owner_token)
    statuses = [client.get("/api/v1/me/").status_code for _ in range(7)]
    assert statuses == [200] * 5 + [429] * 2
    # Counted in blocks (195 + 2 + 2 + 2, then refused blocks), never more than allowed.
    assert int(redis_client().get(key)) == 195 + 2 * 5


@override_settings(API_PLAN_RATE_LIMITS=True)
def test_a_block_saves_the_round_trips_of_the_requests_it_covers(world):
    key = _company_b_on_rate(1000, world)
    client = client_for(world.b, world.b.owner_token)
    assert {client.get("/api/v1/me/").status_code for _ in range(25)} == {200}
    assert int(redis_client().get(key)) == 30  # three blocks of 10 for 25 requests
    assert 0 < redis_client().ttl(key) <= throttling.WINDOW_KEY_SECONDS
