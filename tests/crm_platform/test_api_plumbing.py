"""Kernel API plumbing: the renderer choice remembered per Accept header and format
(RememberedContentNegotiation) stays right when kinds of request alternate; the per-request
copies of cached models (instance_copy) are independent; an API view, its request and its
response are freed once the response is sent (ReleaseApiResponseMiddleware)."""

import gc

import pytest

from tests.conftest import client_for

pytestmark = pytest.mark.django_db


def test_each_accept_header_and_format_keeps_its_own_renderer(world):
    client = client_for(world.a, world.a.owner_token)
    for _ in range(2):  # the second round is answered from what the first remembered
        as_json = client.get("/api/v1/me/", HTTP_ACCEPT="application/json")
        assert as_json["Content-Type"] == "application/json"
        assert world.a.owner_email in str(as_json.json())
        browsable = client.get("/api/v1/me/", HTTP_ACCEPT="text/html")
        assert browsable["Content-Type"].startswith("text/html")
        assert world.a.owner_email in browsable.content.decode()
        forced = client.get("/api/v1/me/", {"format": "json"}, HTTP_ACCEPT="text/html")
        assert forced["Content-Type"] == "application/json"
        assert client.get("/api/v1/me/", HTTP_ACCEPT="image/png").status_code == 406
        assert client.get("/api/v1/me/", {"format": "xml"}).status_code == 404


def test_instance_copy_is_an_independent_copy(world):
    # What the token authentication and the host cache hand each request.
    from django_tenants.utils import tenant_context

    from accounts.models import User
    from crm_platform.kernel.models import instance_copy

    with tenant_context(world.a.tenant):
        user = User.objects.select_related("team").get(email=world.a.rep_email)
        clone = instance_copy(user)
    assert clone is not user and (clone.pk, clone.email) == (user.pk, user.email)
    assert clone._state is not user._state and not clone._state.adding
    assert clone._state.fields_cache is not user._state.fields_cache
    clone.full_name = "Someone else"
    assert user.full_name != "Someone else"


def test_a_sent_api_response_leaves_no_cycles_for_the_collector(world):
    from rest_framework.views import APIView

    client = client_for(world.a, world.a.owner_token)
    client.get("/api/v1/customers/")  # first requests fill per-process caches
    gc.collect()
    gc.disable()  # nothing is freed now but by reference counting
    try:
        listed = client.get("/api/v1/customers/")
        refused = client.get("/api/v1/customers/", {"ordering": "nonsense"})
        views = [o for o in gc.get_objects() if isinstance(o, APIView)]
    finally:
        gc.enable()
    assert listed.status_code == 200 and refused.status_code == 400
    ids = [row["id"] for row in listed.json()["results"]]
    assert ids and [row["id"] for row in listed.data["results"]] == ids  # kept after close
    assert views == []
