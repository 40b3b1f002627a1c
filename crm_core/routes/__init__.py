"""URL routes of the CRM, one module per area, each with `pages` and `api` lists.

crm_core/urls.py joins them; an area adds its routes only in its own module.
"""

AREAS = (
    "customers",
    "contacts",
    "leads",
    "pool",
    "deals",
    "activities",
    "reminders",
    "search",
    "imports",
    "duplicates",
    "products",
    "quotes",
    "contracts",
    "orders",
    "invoices",
    "approvals",
)
