from .core import TESTING
from .env import env

# Per-plan API rates; off in the test suite, which makes thousands of calls a minute to
# its two companies (the throttle's own tests turn it on).
API_PLAN_RATE_LIMITS = env.bool("API_PLAN_RATE_LIMITS", default=not TESTING)

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "accounts.authentication.ApiTokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",  # enforces CSRF
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "DEFAULT_PAGINATION_CLASS": "crm_platform.kernel.pagination.CursorPagination",
    "DEFAULT_RENDERER_CLASSES": [
        "crm_platform.kernel.renderers.ORJSONRenderer",
        "rest_framework.renderers.BrowsableAPIRenderer",
    ],
    "DEFAULT_CONTENT_NEGOTIATION_CLASS": "crm_platform.kernel.api.RememberedContentNegotiation",
    "DEFAULT_FILTER_BACKENDS": ["django_filters.rest_framework.DjangoFilterBackend"],
    # Each company's plan sets its API requests per minute (billing.Plan).
    "DEFAULT_THROTTLE_CLASSES": ["billing.throttling.PlanRateThrottle"],
    "EXCEPTION_HANDLER": "crm_platform.kernel.api.exception_handler",
    "DEFAULT_THROTTLE_RATES": {"signup": env.str("SIGNUP_RATE", default="30/minute")},
    # Proxies in front of the app; 0 = trust no X-Forwarded-For (throttling uses the peer).
    "NUM_PROXIES": env.int("NUM_PROXIES", default=0),
    "PAGE_SIZE": 50,
}

SPECTACULAR_SETTINGS = {
    "TITLE": "CRM API",
    "DESCRIPTION": "Per-company REST API. Authenticate with `Authorization: Bearer <token>`.",
    "VERSION": "1",
    "SERVE_INCLUDE_SCHEMA": False,
    "COMPONENT_SPLIT_REQUEST": True,
    # Choice sets that share a field name get explicit component names.
    "ENUM_NAME_OVERRIDES": {
        "CustomerKindEnum": "crm_core.models.Customer.Kind",
        "ActivityKindEnum": "crm_core.models.Activity.Kind",
        "StageKindEnum": "crm_core.models.Stage.Kind",
        "AssignmentRuleEntityEnum": "crm_core.models.AssignmentRule.Entity",
        "ImportEntityEnum": "crm_core.models.ImportJob.Entity",
        "ImportStatusEnum": "crm_core.models.ImportJob.Status",
        "LeadStatusEnum": "crm_core.models.Lead.Status",
        "WorkflowEntityEnum": "customization.workflows.models.WorkflowRule.Entity",
        "ApprovalProcessEntityEnum": "customization.approvals.models.ApprovalProcess.Entity",
        "RoleEnum": "accounts.roles.Role",
        "WebhookDeliveryStatusEnum": "webhooks.models.Delivery.Status",
        "InboundRecordTypeEnum": "webhooks.api_inbound.RECORD_TYPE_CHOICES",
        "DuplicateRecordTypeEnum": "crm_core.api.duplicates.TYPES",
    },
    # Swagger UI files from the pinned drf-spectacular-sidecar package, not a CDN.
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    # Each company's custom fields in its own description (customization/openapi.py).
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "customization.openapi.custom_fields_hook",
    ],
}
