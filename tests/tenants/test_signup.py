import pytest
from django_tenants.utils import tenant_context

from accounts.models import ApiToken
from tenants.models import Domain, Tenant
from tests.conftest import PASSWORD, client_for, public_client

pytestmark = pytest.mark.django_db


def _signup(**overrides):
    body = {
        "company_name": "Acme 株式会社",
        "subdomain": "acme",
        "email": "boss@acme.example.com",
        "password": PASSWORD,
        **overrides,
    }
    return public_client().post("/api/v1/signup/", body, content_type="application/json")


def test_api_signup_claims_a_pooled_schema_and_returns_a_working_token(world):
    pooled_before = set(
        Tenant.objects.filter(status="pooled").values_list("schema_name", flat=True)
    )
    response = _signup(company_name="北京示例科技有限公司", subdomain="beijing-demo")
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["status"] == "trial"
    assert body["tenant_url"].startswith("http://beijing-demo.localhost")
    assert body["trial_ends_at"]
    tenant = Tenant.objects.get(subdomain="beijing-demo")
    assert tenant.name == "北京示例科技有限公司"
    assert tenant.schema_name in pooled_before, "signup must claim a pre-built schema"
    assert Domain.objects.get(tenant=tenant).domain == "beijing-demo.localhost"

    me = client_for(tenant.host, body["api_token"]).get("/api/v1/me/")
    assert me.status_code == 200
    assert me.json()["user"]["email"] == "boss@acme.example.com"
    assert me.json()["user"]["role"] == "admin" and me.json()["user"]["is_owner"] is True
    assert me.json()["tenant"]["status"] == "trial"
    with tenant_context(tenant):
        token = ApiToken.objects.get()
        assert body["api_token"] not in token.key_hash  # only a hash is stored
        assert len(token.key_hash) == 64


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"company_name": ""}, "company_name"),
        ({"subdomain": "ab"}, "subdomain"),
        ({"subdomain": "a" * 31}, "subdomain"),
        ({"subdomain": "acme corp"}, "subdomain"),
        ({"subdomain": "ac.me"}, "subdomain"),
        ({"subdomain": "ac--me"}, "subdomain"),
        ({"subdomain": "株式会社"}, "subdomain"),
        ({"subdomain": "-acme"}, "subdomain"),
        ({"subdomain": "acme-"}, "subdomain"),
        ({"subdomain": "ac_me"}, "subdomain"),
        ({"subdomain": "www"}, "subdomain"),
        ({"subdomain": "api"}, "subdomain"),
        ({"subdomain": "admin"}, "subdomain"),
        ({"subdomain": "app"}, "subdomain"),
        ({"subdomain": "static"}, "subdomain"),
        ({"subdomain": "mail"}, "subdomain"),
        ({"email": "not-an-email"}, "email"),
        ({"email": ""}, "email"),
        ({"password": "short"}, "password"),
        ({"password": "1234567890123"}, "password"),
        ({"password": "password123"}, "password"),
    ],
)
def test_bad_signup_input_names_the_field_and_creates_nothing(world, overrides, field):
    tenants_before = Tenant.objects.count()
    response = _signup(**overrides)
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == "invalid"
    assert field in error["fields"], error
    assert Tenant.objects.count() == tenants_before


def test_all_bad_fields_are_reported_together(world):
    response = _signup(company_name="", subdomain="x", email="nope", password="1")
    assert set(response.json()["error"]["fields"]) == {
        "company_name",
        "subdomain",
        "email",
        "password",
    }


def test_subdomain_is_normalised_to_lowercase(world):
    response = _signup(subdomain="  MixedCase ", email="mixed@example.com")
    assert response.status_code == 201, response.content
    assert response.json()["subdomain"] == "mixedcase"


def test_taken_subdomain_is_a_400(world):
    response = _signup(subdomain=world.a.tenant.subdomain)
    assert response.status_code == 400
    assert "subdomain" in response.json()["error"]["fields"]


def test_web_signup_hands_the_login_over_to_the_company_host_once(world):
    response = public_client().post(
        "/",
        {
            "company_name": "Handover Co",
            "subdomain": "handover-co",
            "email": "owner@handover.example.com",
            "password": PASSWORD,
        },
    )
    assert response.status_code == 302
    target = response["Location"]
    assert target.startswith("http://handover-co.localhost")
    path = target.split("localhost", 1)[1].lstrip(":0123456789")
    tenant_client = client_for("handover-co.localhost")
    landed = tenant_client.get(path, follow=True)
    assert landed.status_code == 200
    assert landed.wsgi_request.user.is_authenticated
    assert b"Handover Co" in landed.content
    # The same link does not log anyone in a second time.
    replay = client_for("handover-co.localhost").get(path)
    assert replay.status_code == 302 and "/accounts/login/" in replay["Location"]
    # Nor does it work on another company's host.
    other = client_for(world.a).get(path)
    assert "/accounts/login/" in other["Location"]


def test_web_signup_shows_field_errors(world):
    response = public_client().post(
        "/", {"company_name": "X", "subdomain": "www", "email": "bad", "password": "1"}
    )
    assert response.status_code == 200
    form = response.context["form"]
    assert {"subdomain", "email", "password"} <= set(form.errors)


def test_signup_still_works_when_the_cache_is_unreachable(world, settings):
    # The signup throttle counts in Redis; with Redis gone it lets the signup through.
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": "redis://127.0.0.1:9/0",
            "KEY_FUNCTION": "django_tenants.cache.make_key",
            "OPTIONS": {"socket_connect_timeout": 0.2, "socket_timeout": 0.2},
        }
    }
    response = _signup(subdomain="no-redis", email="owner@no-redis.example.com")
    assert response.status_code == 201, response.content
