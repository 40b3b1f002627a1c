"""Web pages for people in a company: sign-in, hand-over, invitations, users, teams, tokens."""

from datetime import datetime, time

from django import forms
from django.conf import settings
from django.contrib import messages
from django.contrib.auth import login
from django.contrib.auth.decorators import login_required
from django.contrib.auth.forms import AuthenticationForm, PasswordResetForm
from django.core.exceptions import ValidationError
from django.db import connection
from django.http import HttpResponseRedirect
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from crm_platform.kernel.forms import form_add_errors

from . import selectors, services
from .models import Invitation, Team, User
from .permissions import page_permission
from .roles import Perm, Role, has_perm
from .tokens import handover_load, invitation_link_load


class OutboxPasswordResetForm(PasswordResetForm):
    """Django's reset form; the e-mail goes out through the outbox, not in the request."""

    def save(self, **kwargs):
        services.password_reset_request(users=self.get_users(self.cleaned_data["email"]))


class EmailAuthenticationForm(AuthenticationForm):
    username = forms.EmailField(
        label=gettext_lazy("E-mail"), widget=forms.EmailInput(attrs={"autofocus": True})
    )


def handover(request):
    """Log the new owner in on the company host, once, right after signup."""
    data = handover_load(request.GET.get("t", ""))
    if data and data.get("s") == connection.schema_name:
        user = User.objects.filter(
            email=data.get("e"), is_owner=True, is_active=True, last_login__isnull=True
        ).first()
        if user is not None:
            login(request, user, backend="django.contrib.auth.backends.ModelBackend")
            return redirect("home")
    messages.info(request, _("Please sign in with your e-mail and password."))
    return redirect("accounts:login")


class AcceptInvitationForm(forms.Form):
    """Only collects input: services.invitation_accept validates every field at once."""

    full_name = forms.CharField(
        label=gettext_lazy("Your name"),
        max_length=150,
        required=False,
        widget=forms.TextInput(attrs={"required": True}),
    )
    password = forms.CharField(
        label=gettext_lazy("Choose a password"),
        required=False,
        strip=False,
        widget=forms.PasswordInput(attrs={"required": True}),
    )


def _invitation_from_token(token: str) -> Invitation | None:
    data = invitation_link_load(token)
    if not data or data.get("s") != connection.schema_name:
        return None
    invitation = Invitation.objects.filter(pk=data.get("i"), nonce=data.get("n")).first()
    return invitation if invitation and invitation.is_open else None


def invitation_accept(request, token):
    invitation = _invitation_from_token(token)
    if invitation is None:
        return render(request, "accounts/invitation_invalid.html", status=404)
    form = AcceptInvitationForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            user = services.invitation_accept(invitation=invitation, **form.cleaned_data)
        except ValidationError as exc:
            form_add_errors(form, exc)
        else:
            login(request, user, backend="django.contrib.auth.backends.ModelBackend")
            return redirect("home")
    return render(
        request, "accounts/invitation_accept.html", {"form": form, "invitation": invitation}
    )


@require_POST
def language_switch(request):
    """Switch the interface language: a cookie, and the user's saved preference."""
    language = request.POST.get("language", "")
    target = request.POST.get("next") or "/"
    if not url_has_allowed_host_and_scheme(target, {request.get_host()}, request.is_secure()):
        target = "/"
    response = HttpResponseRedirect(target)
    if language in dict(settings.LANGUAGES):
        response.set_cookie(
            settings.LANGUAGE_COOKIE_NAME, language, max_age=365 * 24 * 3600, samesite="Lax"
        )
        if getattr(request, "user", None) and request.user.is_authenticated:
            services.user_set_language(user=request.user, language=language)
    return response


class InviteForm(forms.Form):
    email = forms.EmailField(
        label=gettext_lazy("E-mail"),
        widget=forms.EmailInput(attrs={"placeholder": gettext_lazy("E-mail")}),
    )
    role = forms.ChoiceField(
        label=gettext_lazy("Role"), choices=Role.choices, initial=Role.SALES_REP
    )
    team = forms.ModelChoiceField(
        label=gettext_lazy("Team"),
        queryset=Team.objects.all(),
        required=False,
        empty_label=gettext_lazy("No team"),
    )


class UserEditForm(forms.Form):
    role = forms.ChoiceField(label=gettext_lazy("Role"), choices=Role.choices)
    team = forms.ModelChoiceField(
        label=gettext_lazy("Team"), queryset=Team.objects.all(), required=False
    )


@login_required
@page_permission(Perm.VIEW_USERS)
def user_list(request):
    invite_form = InviteForm(request.POST or None)
    can_manage = has_perm(request.user, Perm.MANAGE_USERS)
    if request.method == "POST":
        if not can_manage:
            return render(request, "403.html", status=403)
        if invite_form.is_valid():
            try:
                services.invitation_create(
                    email=invite_form.cleaned_data["email"],
                    role=invite_form.cleaned_data["role"],
                    team=invite_form.cleaned_data["team"],
                    invited_by=request.user,
                )
            except ValidationError as exc:
                form_add_errors(invite_form, exc)
            else:
                messages.success(
                    request,
                    _("Invitation sent to %(email)s.")
                    % {"email": invite_form.cleaned_data["email"]},
                )
                return redirect("settings:users")
    return render(
        request,
        "accounts/users.html",
        {
            "users": selectors.user_list(),
            "invitations": selectors.invitation_list_open() if can_manage else [],
            "invite_form": invite_form,
            "teams": Team.objects.all(),
            "roles": Role.choices,
            "can_manage": can_manage,
        },
    )


@login_required
@page_permission(Perm.MANAGE_USERS)
@require_POST
def user_update(request, pk):
    """Change one colleague; htmx gets the updated table row back, a plain form a redirect."""
    user = get_object_or_404(User, pk=pk)
    action = request.POST.get("action")
    try:
        if action in ("deactivate", "activate"):
            services.user_update(user=user, actor=request.user, is_active=action == "activate")
        else:
            form = UserEditForm(request.POST)
            if not form.is_valid():
                raise ValidationError([m for errors in form.errors.values() for m in errors])
            services.user_update(
                user=user,
                actor=request.user,
                role=form.cleaned_data["role"],
                team=form.cleaned_data["team"],
            )
        message, kind = _("Saved changes to %(name)s.") % {"name": user}, "success"
    except ValidationError as exc:
        message, kind = " ".join(exc.messages), "error"
    if request.htmx:
        return render(
            request,
            "accounts/users.html#user-row",
            {
                "person": selectors.user_list().get(pk=pk),
                "can_manage": True,
                "teams": Team.objects.all(),
                "roles": Role.choices,
                "row_message": message,
                "row_message_kind": kind,
            },
        )
    (messages.success if kind == "success" else messages.error)(request, message)
    return redirect("settings:users")


@login_required
@page_permission(Perm.MANAGE_USERS)
@require_POST
def invitation_revoke(request, pk):
    services.invitation_revoke(invitation=get_object_or_404(Invitation, pk=pk))
    messages.success(request, _("Invitation withdrawn."))
    return redirect("settings:users")


class TeamForm(forms.Form):
    name = forms.CharField(label=gettext_lazy("Team name"), max_length=100)
    manager = forms.ModelChoiceField(
        label=gettext_lazy("Manager"), required=False, queryset=User.objects.filter(is_active=True)
    )


@login_required
@page_permission(Perm.VIEW_USERS)
def team_list(request):
    form = TeamForm(request.POST or None)
    can_manage = has_perm(request.user, Perm.MANAGE_TEAMS)
    if request.method == "POST":
        if not can_manage:
            return render(request, "403.html", status=403)
        if form.is_valid():
            try:
                services.team_save(**form.cleaned_data)
            except ValidationError as exc:
                form_add_errors(form, exc)
            else:
                messages.success(request, _("Team created."))
                return redirect("settings:teams")
    return render(
        request,
        "accounts/teams.html",
        {
            "teams": selectors.team_list(),
            "form": form,
            "can_manage": can_manage,
            "members": selectors.user_list().filter(is_active=True, team__isnull=False),
        },
    )


class TokenForm(forms.Form):
    name = forms.CharField(label=gettext_lazy("Token name"), max_length=100)
    expires_at = forms.DateField(
        label=gettext_lazy("Expires on"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
    )


@login_required
@page_permission(Perm.USE_API_TOKENS)
def token_list(request):
    form = TokenForm(request.POST or None)
    new_token = None
    if request.method == "POST" and form.is_valid():
        expires = form.cleaned_data["expires_at"]
        expires_at = None
        if expires:
            expires_at = datetime.combine(expires, time.max, tzinfo=timezone.get_current_timezone())
        try:
            _token, new_token = services.api_token_create(
                user=request.user, name=form.cleaned_data["name"], expires_at=expires_at
            )
        except ValidationError as exc:
            form_add_errors(form, exc)
        else:
            form = TokenForm()
    return render(
        request,
        "accounts/tokens.html",
        {
            "tokens": selectors.api_token_list(user=request.user),
            "form": form,
            "new_token": new_token,
            "api_base": request.build_absolute_uri(reverse("api-me")),
        },
    )


@login_required
@page_permission(Perm.USE_API_TOKENS)
@require_POST
def token_revoke(request, pk):
    token = get_object_or_404(selectors.api_token_list(user=request.user), pk=pk)
    services.api_token_revoke(token=token)
    messages.success(request, _("Token revoked."))
    return redirect("settings:tokens")
