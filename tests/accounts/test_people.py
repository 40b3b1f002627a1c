"""People in a company: roles, invitations, teams, deactivation, tokens, sign-in."""

from datetime import timedelta

import pytest
from django.core import mail
from django.utils import timezone
from django_tenants.utils import tenant_context

from accounts.models import ApiToken, Invitation, User
from accounts.roles import ROLE_PERMISSIONS, Perm, Role, has_perm
from accounts.services import api_token_create, invitation_create
from accounts.tokens import invitation_link_token
from crm_platform.outbox.services import outbox_dispatch_pending
from tests.conftest import PASSWORD, client_for, signed_in

pytestmark = pytest.mark.django_db


def _user(company, email, role=Role.SALES_REP, **extra):
    with tenant_context(company.tenant):
        return User.objects.create_user(email, PASSWORD, role=role, **extra)


def _token(company, user):
    with tenant_context(company.tenant):
        return api_token_create(user=user, name="t")[1]


def test_every_role_has_a_permission_set_and_only_admins_manage_users():
    assert set(ROLE_PERMISSIONS) == set(Role.values)
    holders = {role for role, perms in ROLE_PERMISSIONS.items() if Perm.MANAGE_USERS in perms}
    assert holders == {Role.ADMIN}
    assert not has_perm(User(role=Role.ADMIN, is_active=False), Perm.VIEW_USERS)


def test_owner_invites_with_role_and_team_and_the_invitee_joins(world):
    owner = client_for(world.a, world.a.owner_token)
    response = owner.post(
        "/api/v1/invitations/",
        {"email": "New.Person@Example.com", "role": "manager", "team_id": world.a.team_id},
        content_type="application/json",
    )
    assert response.status_code == 201, response.content
    assert response.json()["email"] == "new.person@example.com"
    with tenant_context(world.a.tenant):
        invitation = Invitation.objects.get(email="new.person@example.com")
    token = invitation_link_token(
        schema_name=world.a.tenant.schema_name, invitation_id=invitation.pk, nonce=invitation.nonce
    )
    page = client_for(world.a)
    assert page.get(f"/accounts/invitation/{token}/").status_code == 200
    # Bad input names the field and creates no one.
    bad = page.post(f"/accounts/invitation/{token}/", {"full_name": "", "password": "123"})
    assert bad.status_code == 200
    assert {"full_name", "password"} <= set(bad.context["form"].errors)
    joined = page.post(
        f"/accounts/invitation/{token}/", {"full_name": "新しい 人", "password": PASSWORD}
    )
    assert joined.status_code == 302
    me = page.get("/api/v1/me/").json()["user"]
    assert me["email"] == "new.person@example.com" and me["role"] == "manager"
    assert me["team"]["id"] == world.a.team_id
    # The link is spent, and it never worked on another company's host.
    assert page.get(f"/accounts/invitation/{token}/").status_code == 404
    assert client_for(world.b).get(f"/accounts/invitation/{token}/").status_code == 404


def test_invitation_rules(world):
    owner = client_for(world.a, world.a.owner_token)

    def post(body):
        return owner.post("/api/v1/invitations/", body, content_type="application/json")

    assert "email" in post({"email": "not-mail"}).json()["error"]["fields"]
    assert "email" in post({"email": world.a.rep_email}).json()["error"]["fields"]
    assert "role" in post({"email": "x@example.com", "role": "god"}).json()["error"]["fields"]
    assert post({"email": "twice@example.com"}).status_code == 201
    assert "email" in post({"email": "twice@example.com"}).json()["error"]["fields"]


def test_expired_or_withdrawn_invitation_cannot_be_used(world):
    with tenant_context(world.a.tenant):
        invitation = invitation_create(
            email="late@example.com", role=Role.SALES_REP, team=None, invited_by=None
        )
        Invitation.objects.filter(pk=invitation.pk).update(
            expires_at=timezone.now() - timedelta(minutes=1)
        )
    token = invitation_link_token(
        schema_name=world.a.tenant.schema_name, invitation_id=invitation.pk, nonce=invitation.nonce
    )
    assert client_for(world.a).get(f"/accounts/invitation/{token}/").status_code == 404
    tampered = token[:-2] + ("AA" if not token.endswith("AA") else "BB")
    assert client_for(world.a).get(f"/accounts/invitation/{tampered}/").status_code == 404


@pytest.mark.parametrize("role", [Role.MANAGER, Role.SALES_REP, Role.SERVICE_AGENT, Role.READ_ONLY])
def test_only_admins_invite_or_change_people(world, role):
    user = _user(world.a, f"{role}@alpha.example.com", role=role)
    client = client_for(world.a, _token(world.a, user))
    assert (
        client.post(
            "/api/v1/invitations/", {"email": "x@example.com"}, content_type="application/json"
        ).status_code
        == 403
    )
    assert (
        client.patch(
            f"/api/v1/users/{user.pk}/", {"role": "admin"}, content_type="application/json"
        ).status_code
        == 403
    )
    assert client.get("/api/v1/users/").status_code == 200  # everyone sees colleagues
    web = signed_in(world.a, user.email)
    assert (
        web.post("/settings/users/", {"email": "y@example.com", "role": "admin"}).status_code == 403
    )
    assert web.post(f"/settings/users/{user.pk}/", {"role": "admin"}).status_code == 403


def test_read_only_role_cannot_create_api_tokens(world):
    viewer = _user(world.a, "viewer@alpha.example.com", role=Role.READ_ONLY)
    web = signed_in(world.a, viewer.email)
    assert web.get("/settings/tokens/").status_code == 403


def test_admin_changes_role_and_team_and_deactivation_locks_out(world):
    person = _user(world.a, "leaving@alpha.example.com")
    person_token = _token(world.a, person)
    owner = client_for(world.a, world.a.owner_token)
    changed = owner.patch(
        f"/api/v1/users/{person.pk}/",
        {"role": "manager", "team_id": world.a.team_id},
        content_type="application/json",
    )
    assert changed.status_code == 200
    assert changed.json()["role"] == "manager" and changed.json()["team"]["id"] == world.a.team_id
    web_session = signed_in(world.a, person.email)
    assert client_for(world.a, person_token).get("/api/v1/me/").status_code == 200

    off = owner.patch(
        f"/api/v1/users/{person.pk}/", {"is_active": False}, content_type="application/json"
    )
    assert off.status_code == 200 and off.json()["is_active"] is False
    assert client_for(world.a, person_token).get("/api/v1/me/").status_code == 401
    assert web_session.get("/").status_code == 302  # the open session ends too
    assert (
        client_for(world.a)
        .post("/accounts/login/", {"username": person.email, "password": PASSWORD})
        .status_code
        == 200
    )  # refused


def test_owner_cannot_be_demoted_or_deactivated_and_admins_cannot_deactivate_themselves(world):
    owner = client_for(world.a, world.a.owner_token)
    owner_id = owner.get("/api/v1/me/").json()["user"]["id"]
    demote = owner.patch(
        f"/api/v1/users/{owner_id}/", {"role": "sales_rep"}, content_type="application/json"
    )
    assert demote.status_code == 400 and "role" in demote.json()["error"]["fields"]
    off = owner.patch(
        f"/api/v1/users/{owner_id}/", {"is_active": False}, content_type="application/json"
    )
    assert off.status_code == 400 and "is_active" in off.json()["error"]["fields"]


def test_teams_with_managers(world):
    manager = _user(world.a, "boss@alpha.example.com", role=Role.MANAGER)
    client = client_for(world.a, _token(world.a, manager))
    created = client.post(
        "/api/v1/teams/",
        {"name": "华南销售部", "manager_id": manager.pk},
        content_type="application/json",
    )
    assert created.status_code == 201, created.content
    assert created.json()["manager"]["email"] == manager.email
    assert created.json()["member_count"] == 1  # the manager joins a team they manage
    dup = client.post("/api/v1/teams/", {"name": "华南销售部"}, content_type="application/json")
    assert dup.status_code == 400 and "name" in dup.json()["error"]["fields"]
    rep = client_for(world.a, world.a.rep_token)
    assert (
        rep.post("/api/v1/teams/", {"name": "Rogue"}, content_type="application/json").status_code
        == 403
    )


def test_api_tokens_are_shown_once_hashed_expiring_and_revocable(world):
    client = client_for(world.a, world.a.rep_token)
    created = client.post("/api/v1/tokens/", {"name": "ERP sync"}, content_type="application/json")
    assert created.status_code == 201
    raw = created.json()["token"]
    assert raw.startswith("crm_")
    listed = client.get("/api/v1/tokens/").json()
    assert raw not in str(listed)  # never shown again
    with tenant_context(world.a.tenant):
        stored = ApiToken.objects.get(pk=created.json()["api_token"]["id"])
        assert raw not in (stored.key_hash, stored.prefix)
    assert client_for(world.a, raw).get("/api/v1/me/").status_code == 200
    assert client.delete(f"/api/v1/tokens/{stored.pk}/").status_code == 204
    assert client_for(world.a, raw).get("/api/v1/me/").status_code == 401

    past = client.post(
        "/api/v1/tokens/",
        {"name": "old", "expires_at": "2020-01-01T00:00:00Z"},
        content_type="application/json",
    )
    assert past.status_code == 400 and "expires_at" in past.json()["error"]["fields"]
    soon = client.post("/api/v1/tokens/", {"name": "soon"}, content_type="application/json").json()
    with tenant_context(world.a.tenant):
        ApiToken.objects.filter(pk=soon["api_token"]["id"]).update(
            expires_at=timezone.now() - timedelta(seconds=1)
        )
    assert client_for(world.a, soon["token"]).get("/api/v1/me/").status_code == 401
    # Someone else's token cannot be revoked through my account.
    owner_tokens = client_for(world.a, world.a.owner_token).get("/api/v1/tokens/").json()
    assert client.delete(f"/api/v1/tokens/{owner_tokens[0]['id']}/").status_code == 404


@pytest.mark.parametrize(
    "bad",
    [
        "",
        "Bearer",
        "Bearer nonsense",
        "Bearer crm_short_x",
        "Token abc",
        "Bearer crm_000000000000_guess",
    ],
)
def test_malformed_or_unknown_tokens_are_refused(world, bad):
    response = client_for(world.a).get("/api/v1/me/", HTTP_AUTHORIZATION=bad)
    assert response.status_code in (401, 403)
    assert response.json()["error"]["code"] in ("authentication_failed", "not_authenticated")


def test_token_pages_show_the_new_token_once(world):
    web = signed_in(world.a, world.a.rep_email)
    page = web.post("/settings/tokens/", {"name": "From the page"})
    assert page.status_code == 200 and page.context["new_token"].startswith("crm_")
    assert page.context["new_token"] not in web.get("/settings/tokens/").content.decode()


def test_login_is_locked_after_repeated_failures(world, settings):
    email = "target@alpha.example.com"
    _user(world.a, email)
    client = client_for(world.a)
    for _ in range(settings.AXES_FAILURE_LIMIT):
        client.post("/accounts/login/", {"username": email, "password": "wrong-password"})
    locked = client.post("/accounts/login/", {"username": email, "password": PASSWORD})
    assert locked.status_code == 429
    # The same e-mail on company B is another account, unaffected.
    _user(world.b, email)
    assert (
        client_for(world.b)
        .post("/accounts/login/", {"username": email, "password": PASSWORD})
        .status_code
        == 302
    )


def test_password_reset_by_email(world):
    person = _user(world.a, "forgetful@alpha.example.com")
    client = client_for(world.a)
    assert client.post("/accounts/password/reset/", {"email": person.email}).status_code == 302
    assert client.post("/accounts/password/reset/", {"email": "nobody@x.com"}).status_code == 302
    assert mail.outbox == []  # nothing is sent inside the request
    with tenant_context(world.a.tenant):
        outbox_dispatch_pending()  # what the worker runs after commit
    resets = [m for m in mail.outbox if m.to == [person.email]]
    assert len(resets) == 1 and world.a.tenant.host in resets[0].body
    assert not [m for m in mail.outbox if m.to == ["nobody@x.com"]]
    link = next(line for line in resets[0].body.splitlines() if "/password/reset/" in line)
    path = link.split(world.a.tenant.host, 1)[1]
    form = client.get(path, follow=True)
    assert form.status_code == 200 and form.context["validlink"]
    done = client.post(
        form.redirect_chain[-1][0],
        {"new_password1": "Another-pass-2026", "new_password2": "Another-pass-2026"},
    )
    assert done.status_code == 302
    assert (
        client_for(world.a)
        .post("/accounts/login/", {"username": person.email, "password": "Another-pass-2026"})
        .status_code
        == 302
    )


def test_language_preference_is_saved_and_used(world):
    web = signed_in(world.a, world.a.rep_email)
    response = web.post("/i18n/language/", {"language": "ja", "next": "/"})
    assert response.status_code == 302
    with tenant_context(world.a.tenant):
        assert User.objects.get(email=world.a.rep_email).language == "ja"
    page = web.get("/")
    assert 'lang="ja"' in page.content.decode()
    assert "ホーム" in page.content.decode()
    web.cookies.pop("crm_language")
    assert 'lang="ja"' in web.get("/").content.decode()  # the saved preference, no cookie
    unsafe = web.post("/i18n/language/", {"language": "zh-hans", "next": "https://evil.example"})
    assert unsafe["Location"] == "/"


def test_inline_row_update_with_htmx_returns_only_that_row(world):
    person = _user(world.a, "inline@alpha.example.com")
    web = signed_in(world.a, world.a.owner_email)
    response = web.post(
        f"/settings/users/{person.pk}/",
        {"role": "service_agent", "team": world.a.team_id},
        HTTP_HX_REQUEST="true",
    )
    assert response.status_code == 200
    html = response.content.decode()
    assert html.strip().startswith(f'<tr id="user-{person.pk}"')
    assert "<html" not in html and 'value="service_agent" selected' in html
    assert "row-message success" in html
    with tenant_context(world.a.tenant):
        person.refresh_from_db()
        assert person.role == "service_agent" and person.team_id == world.a.team_id
    # An invalid change comes back in the row as an error, and changes nothing.
    owner_id = web.get("/api/v1/me/").json()["user"]["id"]
    refused = web.post(
        f"/settings/users/{owner_id}/", {"action": "deactivate"}, HTTP_HX_REQUEST="true"
    )
    assert "row-message error" in refused.content.decode()
