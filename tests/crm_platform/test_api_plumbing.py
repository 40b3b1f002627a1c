"""Kernel API plumbing: the renderer choice remembered per Accept header and format
(RememberedContentNegotiation) stays right when kinds of request alternate; the per-request
copies of cached models (instance_copy) are independent."""

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
