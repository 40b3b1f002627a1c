from urllib.parse import unquote

from .env import env

# `make` targets export DATABASE_URL (an embedded PostgreSQL when none is given).
DATABASES = {
    "default": env.db_url("DATABASE_URL", default="postgres://postgres@localhost/crm"),
}
# A Unix-socket directory arrives percent-encoded in the URL's host part.
DATABASES["default"]["HOST"] = unquote(DATABASES["default"].get("HOST", ""))
# django-tenants' backend without a SET search_path and a health check per warm request.
DATABASES["default"]["ENGINE"] = "crm_platform.kernel.postgresql"
# Recycle connections: each one's catalog cache grows with every tenant schema it touches.
DATABASES["default"]["CONN_MAX_AGE"] = env.int("DATABASE_CONN_MAX_AGE", default=60)
DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
# A connection that ended a request this recently is not health-checked again (SELECT 1).
DATABASE_HEALTH_CHECK_IDLE_SECONDS = env.float("DATABASE_HEALTH_CHECK_IDLE_SECONDS", default=1.0)
DATABASES["default"]["TEST"] = {"NAME": env.str("DATABASE_TEST_NAME", default="test_crm")}
DATABASE_ROUTERS = ["django_tenants.routers.TenantSyncRouter"]
