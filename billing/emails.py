"""Billing e-mails to the company's owner, in the owner's language (outbox handler)."""

from django.conf import settings
from django.core.mail import send_mail
from django.db import connection
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import translation
from django.utils.dateparse import parse_datetime

from accounts.models import User
from tenants.models import Tenant


def send_billing_email(event) -> None:
    owner = User.objects.filter(is_owner=True, is_active=True).first()
    if owner is None:
        return
    tenant = Tenant.objects.get(schema_name=connection.schema_name)
    kind = event.event_type.removeprefix("billing.")
    payload = dict(event.payload or {})
    if payload.get("trial_ends_at"):
        payload["trial_ends_at"] = parse_datetime(payload["trial_ends_at"])
    if "amount" in payload:
        payload["amount"] = f"{payload['amount'] / 100:.2f} {payload.get('currency', '').upper()}"
    context = {
        "company": tenant.name,
        "billing_link": tenant.url + reverse("billing_company:page", urlconf=settings.ROOT_URLCONF),
        **payload,
    }
    with translation.override(owner.language or settings.LANGUAGE_CODE):
        subject = render_to_string(f"billing/email/{kind}_subject.txt", context).strip()
        body = render_to_string(f"billing/email/{kind}.txt", context)
    send_mail(subject, body, settings.DEFAULT_FROM_EMAIL, [owner.email])
