"""E-mails about people, sent by outbox handlers (after commit, retried on failure)."""

from django.conf import settings
from django.core.mail import send_mail
from django.db import connection
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import translation

from .models import Invitation
from .tokens import invitation_link_token


def send_invitation_email(event) -> None:
    invitation = (
        Invitation.objects.select_related("invited_by").filter(pk=int(event.aggregate_id)).first()
    )
    if invitation is None or not invitation.is_open:
        return  # revoked or accepted before the e-mail went out
    tenant = connection.tenant
    token = invitation_link_token(
        schema_name=tenant.schema_name, invitation_id=invitation.pk, nonce=invitation.nonce
    )
    link = tenant.url + reverse(
        "accounts:invitation_accept", kwargs={"token": token}, urlconf=settings.ROOT_URLCONF
    )
    inviter = invitation.invited_by
    with translation.override((inviter.language if inviter else "") or settings.LANGUAGE_CODE):
        context = {
            "company": tenant.name,
            "inviter": inviter,
            "link": link,
            "days": settings.INVITATION_MAX_AGE_DAYS,
        }
        subject = render_to_string("accounts/email/invitation_subject.txt", context).strip()
        body = render_to_string("accounts/email/invitation.txt", context)
    send_mail(subject, body, settings.DEFAULT_FROM_EMAIL, [invitation.email])
