"""Billing routes on the public host: the Stripe webhook and the operator console."""

app_name = "billing"

urlpatterns = []
