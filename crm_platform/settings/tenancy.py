from .env import env

# Apps whose tables live in the public schema (tenants, operators, billing).
SHARED_APPS = [
    "django_tenants",
    "tenants",
    "django.contrib.contenttypes",
    "django.contrib.auth",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.admin",
    "rest_framework",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "django_filters",
    "django_htmx",
    "template_partials",
    "axes",
    "crm_platform.kernel",
    "accounts",
    "billing",
]

# Apps whose tables live in every tenant schema. `accounts`, auth and sessions are in
# both: each company has its own users and sessions; the public schema has the operators.
TENANT_APPS = [
    "django.contrib.contenttypes",
    "django.contrib.auth",
    "django.contrib.sessions",
    "axes",
    "accounts",
    "crm_platform.outbox",
    "crm_core",
    "customization",
    "webhooks",
]

INSTALLED_APPS = SHARED_APPS + [app for app in TENANT_APPS if app not in SHARED_APPS]

# Set search_path once per schema switch, not before every query (the middleware and
# tasks switch explicitly; nothing else touches search_path).
TENANT_LIMIT_SET_CALLS = True

TENANT_MODEL = "tenants.Tenant"
TENANT_DOMAIN_MODEL = "tenants.Domain"
PUBLIC_SCHEMA_NAME = "public"

# Size of the warm pool of pre-built tenant schemas that signup claims.
TENANT_POOL_SIZE = env.int("TENANT_POOL_SIZE", default=3)
TENANT_TRIAL_DAYS = env.int("TENANT_TRIAL_DAYS", default=30)
# How long a warm tenant-host lookup is trusted before re-checking the shared generation.
TENANT_CACHE_CHECK_SECONDS = env.float("TENANT_CACHE_CHECK_SECONDS", default=1.0)
