"""Every outbox event type the code records, as constants (the endpoint form offers them).

Record events are `<record>.<action>` (crm_core/records.py `record_event`); the rest are
recorded by accounts and tenants. A module that records a new type adds it here.
"""

from django.utils.translation import gettext_lazy as _

# Customers, contacts, leads, deals: created / updated / deleted / owner changed / merged.
CUSTOMER_CREATED = "customer.created"
CUSTOMER_UPDATED = "customer.updated"
CUSTOMER_DELETED = "customer.deleted"
CUSTOMER_OWNER_CHANGED = "customer.owner_changed"
CUSTOMER_MERGED = "customer.merged"
CUSTOMER_IMPORTED = "customer.imported"
CUSTOMER_CLAIMED = "customer.claimed"
CUSTOMER_RELEASED = "customer.released"
CUSTOMER_RETURNED_TO_POOL = "customer.returned_to_pool"
CUSTOMER_ASSIGNED = "customer.assigned"
CONTACT_CREATED = "contact.created"
CONTACT_UPDATED = "contact.updated"
CONTACT_DELETED = "contact.deleted"
CONTACT_OWNER_CHANGED = "contact.owner_changed"
CONTACT_MERGED = "contact.merged"
CONTACT_IMPORTED = "contact.imported"
LEAD_CREATED = "lead.created"
LEAD_UPDATED = "lead.updated"
LEAD_DELETED = "lead.deleted"
LEAD_OWNER_CHANGED = "lead.owner_changed"
LEAD_STATUS_CHANGED = "lead.status_changed"
LEAD_CONVERTED = "lead.converted"
LEAD_MERGED = "lead.merged"
LEAD_IMPORTED = "lead.imported"
LEAD_CLAIMED = "lead.claimed"
LEAD_RELEASED = "lead.released"
LEAD_RETURNED_TO_POOL = "lead.returned_to_pool"
LEAD_ASSIGNED = "lead.assigned"
DEAL_CREATED = "deal.created"
DEAL_UPDATED = "deal.updated"
DEAL_DELETED = "deal.deleted"
DEAL_OWNER_CHANGED = "deal.owner_changed"
DEAL_STAGE_CHANGED = "deal.stage_changed"
ACTIVITY_CREATED = "activity.created"
ACTIVITY_UPDATED = "activity.updated"
ACTIVITY_COMPLETED = "activity.completed"
ACTIVITY_DELETED = "activity.deleted"
PIPELINE_CREATED = "pipeline.created"
PIPELINE_UPDATED = "pipeline.updated"
PIPELINE_DELETED = "pipeline.deleted"
STAGE_CREATED = "stage.created"
STAGE_UPDATED = "stage.updated"
STAGE_DELETED = "stage.deleted"
REGION_CREATED = "region.created"
REGION_UPDATED = "region.updated"
REGION_DELETED = "region.deleted"
ASSIGNMENT_RULE_CREATED = "assignment_rule.created"
ASSIGNMENT_RULE_UPDATED = "assignment_rule.updated"
ASSIGNMENT_RULE_DELETED = "assignment_rule.deleted"
POOL_SETTINGS_UPDATED = "pool_settings.updated"
USER_INVITED = "user.invited"
USER_JOINED = "user.joined"
USER_UPDATED = "user.updated"
TENANT_CREATED = "tenant.created"

# Lead to cash: products and price lists, quotes, contracts, orders, invoices, payments
# and the approvals they wait for.
PRODUCT_CREATED = "product.created"
PRODUCT_UPDATED = "product.updated"
PRICE_LIST_CREATED = "price_list.created"
PRICE_LIST_UPDATED = "price_list.updated"
QUOTE_CREATED = "quote.created"
QUOTE_UPDATED = "quote.updated"
QUOTE_APPROVAL_REQUESTED = "quote.approval_requested"
QUOTE_APPROVED = "quote.approved"
QUOTE_APPROVAL_REJECTED = "quote.approval_rejected"
QUOTE_SENT = "quote.sent"
QUOTE_ACCEPTED = "quote.accepted"
QUOTE_REJECTED = "quote.rejected"
QUOTE_REVISED = "quote.revised"
QUOTE_EXPIRED = "quote.expired"
CONTRACT_CREATED = "contract.created"
CONTRACT_UPDATED = "contract.updated"
CONTRACT_REVIEW_REQUESTED = "contract.review_requested"
CONTRACT_ACTIVATED = "contract.activated"
CONTRACT_REVIEW_REJECTED = "contract.review_rejected"
CONTRACT_TERMINATED = "contract.terminated"
CONTRACT_EXPIRED = "contract.expired"
ORDER_CREATED = "order.created"
ORDER_DELIVERED = "order.delivered"
ORDER_CANCELLED = "order.cancelled"
INVOICE_ISSUED = "invoice.issued"
INVOICE_PAID = "invoice.paid"
INVOICE_CANCELLED = "invoice.cancelled"
PAYMENT_RECEIVED = "payment.received"
APPROVAL_REQUESTED = "approval.requested"
APPROVAL_ADVANCED = "approval.advanced"  # one step approved, the next one starts
APPROVAL_DECIDED = "approval.decided"
APPROVAL_WITHDRAWN = "approval.withdrawn"

# Recorded but never sent out: they carry a person's private state (a reset request, an
# in-app reminder) and exist only to drive e-mails.
USER_PASSWORD_RESET_REQUESTED = "user.password_reset_requested"  # noqa: S105 - a name
NOTIFICATION_CREATED = "notification.created"
WORKFLOW_EMAIL = "workflow.email"  # a workflow's e-mail (its text) on its way out
INTERNAL = frozenset({USER_PASSWORD_RESET_REQUESTED, NOTIFICATION_CREATED, WORKFLOW_EMAIL})

# The event a "send test event" button sends; never recorded in the outbox.
WEBHOOK_TEST = "webhook.test"
# A record sent by a workflow rule's "call a webhook" action; never recorded either.
WORKFLOW_ACTION = "workflow.action"

SUBSCRIBABLE: tuple[str, ...] = tuple(
    value
    for name, value in sorted(globals().items())
    if name.isupper()
    and isinstance(value, str)
    and "." in value
    and value not in INTERNAL
    and value not in (WEBHOOK_TEST, WORKFLOW_ACTION)
)


def event_type_choices() -> list[tuple[str, str]]:
    return [(event_type, event_type) for event_type in SUBSCRIBABLE]


ALL_EVENTS_LABEL = _("All events")
