from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _

from .env import BASE_DIR, env

DEBUG = env.bool("DJANGO_DEBUG", default=False)
TESTING = env.bool("CRM_TESTING", default=False)

SECRET_KEY = env.str("DJANGO_SECRET_KEY", default="")
if not SECRET_KEY:
    if not (DEBUG or TESTING):
        raise ImproperlyConfigured("DJANGO_SECRET_KEY must be set when DJANGO_DEBUG is off.")
    SECRET_KEY = "dev-only-insecure-key-never-used-in-production-0123456789abcdef"  # noqa: S105

# Public host; tenants live on <subdomain>.<CRM_BASE_DOMAIN>.
CRM_BASE_DOMAIN = env.str("CRM_BASE_DOMAIN", default="localhost")
CRM_PUBLIC_SCHEME = env.str("CRM_PUBLIC_SCHEME", default="http" if DEBUG or TESTING else "https")
# Port shown in generated URLs (the dev server's port; empty behind a proxy on 80/443).
CRM_PUBLIC_PORT = env.str(
    "CRM_PUBLIC_PORT", default=env.str("PORT", default="8000") if DEBUG else ""
)
ALLOWED_HOSTS = env.list(
    "DJANGO_ALLOWED_HOSTS", default=[CRM_BASE_DOMAIN, f".{CRM_BASE_DOMAIN}", "127.0.0.1"]
)

INSTALLED_APPS = []  # filled from SHARED_APPS and TENANT_APPS in tenancy.py

MIDDLEWARE = [
    "crm_platform.kernel.middleware.RequestContextMiddleware",
    "crm_platform.kernel.middleware.ReleaseApiResponseMiddleware",
    "crm_platform.kernel.health.HealthCheckMiddleware",
    "tenants.middleware.TenantMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    # Session, its user and messages step aside for bearer-token API calls (accounts).
    "accounts.middleware.BrowserSessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "accounts.middleware.BrowserAuthenticationMiddleware",
    "accounts.middleware.UserLanguageMiddleware",
    "accounts.middleware.BrowserMessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "tenants.middleware.TenantStatusMiddleware",
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "crm_platform.urls_tenant"
PUBLIC_SCHEMA_URLCONF = "crm_platform.urls_public"
WSGI_APPLICATION = "crm_platform.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "crm_platform" / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "accounts.context.shell",
                "crm_core.context.shell",
            ],
        },
    }
]

LANGUAGE_CODE = "en"
LANGUAGES = [("en", "English"), ("zh-hans", "简体中文"), ("ja", "日本語")]
LOCALE_PATHS = [BASE_DIR / "locale"]
USE_I18N = True
USE_TZ = True
TIME_ZONE = "UTC"
LANGUAGE_COOKIE_NAME = "crm_language"

STATIC_URL = "/static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"
        if DEBUG or TESTING
        else "whitenoise.storage.CompressedManifestStaticFilesStorage"
    },
}
WHITENOISE_USE_FINDERS = DEBUG or TESTING
if WHITENOISE_USE_FINDERS:
    STATIC_ROOT.mkdir(exist_ok=True)  # whitenoise warns about a missing root otherwise

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

EMAIL_BACKEND = env.str(
    "EMAIL_BACKEND",
    default="django.core.mail.backends.smtp.EmailBackend"
    if env.str("EMAIL_HOST", default="")
    else "django.core.mail.backends.console.EmailBackend",
)
EMAIL_HOST = env.str("EMAIL_HOST", default="localhost")
EMAIL_PORT = env.int("EMAIL_PORT", default=587)
EMAIL_HOST_USER = env.str("EMAIL_HOST_USER", default="")
EMAIL_HOST_PASSWORD = env.str("EMAIL_HOST_PASSWORD", default="")
EMAIL_USE_TLS = env.bool("EMAIL_USE_TLS", default=True)
# For django.core.mail.backends.filebased.EmailBackend (tests, local inspection).
EMAIL_FILE_PATH = env.str("EMAIL_FILE_PATH", default=str(BASE_DIR / ".data" / "mail"))
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="CRM <no-reply@localhost>")

PRODUCT_NAME = _("CRM")

# Custom fields per record type, by plan ("default" for plans not listed; customization/).
# Custom fields per record type when the company's plan sets no cap (billing.Plan).
CUSTOM_FIELDS_PER_ENTITY = env.int("CUSTOM_FIELDS_PER_ENTITY", default=100)
