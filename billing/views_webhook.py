"""POST /billing/stripe/webhook/ on the public host."""

import logging

from django.conf import settings
from django.http import HttpResponse, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from .services.events import SignatureError, event_store, webhook_verify

logger = logging.getLogger(__name__)


@csrf_exempt  # authenticated by Stripe's signature, not a session
@require_POST
def stripe_webhook(request):
    try:
        event = webhook_verify(
            payload=request.body,  # the raw bytes Stripe signed
            header=request.headers.get("Stripe-Signature", ""),
            secret=settings.STRIPE_WEBHOOK_SECRET,
            tolerance=settings.STRIPE_WEBHOOK_TOLERANCE_SECONDS,
        )
    except SignatureError as exc:
        logger.warning("billing: Stripe webhook refused: %s", exc)
        return JsonResponse(
            {"error": {"code": "bad_signature", "message": str(exc), "fields": {}}}, status=400
        )
    _stored, created = event_store(event=event)
    # A duplicate is acknowledged too, so Stripe stops retrying it.
    return HttpResponse(b"ok" if created else b"duplicate")
