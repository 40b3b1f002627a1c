"""Bearer-token API calls skip the cookie session, its user and flash messages
(accounts.middleware); signed-in browsers keep them, CSRF included."""

import pytest

from tests.conftest import client_for, signed_in

pytestmark = pytest.mark.django_db


def test_a_token_call_is_the_tokens_user_and_reads_no_session(world):
    browser = signed_in(world.a, world.a.rep_email)  # holds the rep's session cookie
    browser.defaults["HTTP_AUTHORIZATION"] = f"Bearer {world.a.owner_token}"
    response = browser.get("/api/v1/me/")
    assert response.status_code == 200
    assert response.json()["user"]["email"] == world.a.owner_email
    assert "Cookie" not in response.get("Vary", "")  # the session was never looked at
    assert not response.cookies
    # A bad token is refused: the session cookie is no fallback.
    browser.defaults["HTTP_AUTHORIZATION"] = "Bearer crm_nope_nope"
    assert browser.get("/api/v1/me/").status_code == 401


def test_signed_in_api_calls_keep_the_session_and_csrf(world):
    browser = signed_in(world.a, world.a.rep_email)
    me = browser.get("/api/v1/me/")
    assert me.status_code == 200 and me.json()["user"]["email"] == world.a.rep_email
    browser.handler.enforce_csrf_checks = True
    response = browser.post(
        "/api/v1/customers/", {"name": "No CSRF Co"}, content_type="application/json"
    )
    assert response.status_code == 403
    assert "CSRF" in response.json()["error"]["message"]


def test_pages_keep_the_session_and_messages(world):
    browser = signed_in(world.a, world.a.rep_email)
    page = browser.get("/customers/")
    assert page.status_code == 200
    assert page.wsgi_request.user.email == world.a.rep_email
    assert hasattr(page.wsgi_request, "_messages")


def test_token_calls_that_fail_before_the_view_still_answer_in_json(world):
    # No view ran, so DRF never set request.user: error handling must not need it.
    client = client_for(world.a, world.a.owner_token)
    missing = client.get("/api/v1/no-such-endpoint/")
    assert missing.status_code == 404
    wrong_method = client.delete("/api/v1/me/")
    assert wrong_method.status_code == 405
