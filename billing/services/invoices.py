"""The invoice mirror: Stripe's invoices as last fetched."""

from django.utils import timezone

from billing import gateway
from billing.models import BillingAccount, Invoice


def invoice_mirror(*, account: BillingAccount, invoice: dict) -> Invoice:
    fields = {
        key: invoice[key]
        for key in (
            "number",
            "status",
            "amount_due",
            "amount_paid",
            "currency",
            "hosted_url",
            "pdf_url",
            "period_start",
            "period_end",
            "paid_at",
        )
    }
    fields["created"] = invoice["created"] or timezone.now()
    if fields["status"] == "paid" and not fields["paid_at"]:
        fields["paid_at"] = timezone.now()
    mirrored, _created = Invoice.objects.update_or_create(
        stripe_id=invoice["id"], defaults={"account": account, **fields}
    )
    return mirrored


def invoices_sync(*, account: BillingAccount) -> int:
    """Mirror the customer's recent invoices (after a change that invoices at once)."""
    if not (gateway.enabled() and account.stripe_customer_id):
        return 0
    invoices = gateway.invoices_list(customer_id=account.stripe_customer_id)
    for invoice in invoices:
        invoice_mirror(account=account, invoice=invoice)
    return len(invoices)
