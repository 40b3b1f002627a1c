"""E-mails about people, sent by outbox handlers (after commit, retried on failure)."""

from django.conf import settings
from django.contrib.auth.tokens import default_token_generator
from django.core.mail import send_mail
from django.db import connection
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import translation
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode

from .models import Invitation, User
from .tokens import invitation_link_token


def _company_link(view_name: str, **kwargs) -> str:
    return connection.tenant.url + reverse(view_name, kwargs=kwargs, urlconf=settings.ROOT_URLCONF)


def _send(*, to: str, language: str, template: str, context: dict) -> None:
    with translation.override(language or settings.LANGUAGE_CODE):
        subject = render_to_string(f"accounts/email/{template}_subject.txt", context).strip()
        body = render_to_string(f"accounts/email/{template}.txt", context)
    send_mail(subject, body, settings.DEFAULT_FROM_EMAIL, [to])


def send_invitation_email(event) -> None:
    invitation = (
        Invitation.objects.select_related("invited_by").filter(pk=int(event.aggregate_id)).first()
    )
    if invitation is None or not invitation.is_open:
        return  # revoked or accepted before the e-mail went out
    token = invitation_link_token(
        schema_name=connection.schema_name, invitation_id=invitation.pk, nonce=invitation.nonce
    )
    inviter = invitation.invited_by
    _send(
        to=invitation.email,
        language=inviter.language if inviter else "",
        template="invitation",
        context={
            "company": connection.tenant.name,
            "inviter": inviter,
            "link": _company_link("accounts:invitation_accept", token=token),
            "days": settings.INVITATION_MAX_AGE_DAYS,
        },
    )


def send_password_reset_email(event) -> None:
    user = User.objects.filter(pk=int(event.aggregate_id), is_active=True).first()
    if user is None or not user.has_usable_password():
        return
    link = _company_link(
        "accounts:password_reset_confirm",
        uidb64=urlsafe_base64_encode(force_bytes(user.pk)),
        token=default_token_generator.make_token(user),
    )
    _send(
        to=user.email,
        language=user.language,
        template="password_reset",
        context={"company": connection.tenant.name, "link": link},
    )
