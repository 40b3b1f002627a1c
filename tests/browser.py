"""Browser tests: Playwright driving Debian's Chromium against a real web server.

Locally a missing Chromium skips them; CI sets CRM_REQUIRE_BROWSER=1 (and installs
Chromium), so there a missing browser fails instead.
"""

import os
import shutil
from concurrent.futures import ThreadPoolExecutor

import pytest
from django.db import connection
from django_tenants.utils import tenant_context

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")

# Flags for a closed network: no background fetches, no sandbox when running as root.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
]


def require_chromium() -> str:
    if not CHROMIUM:
        if os.environ.get("CRM_REQUIRE_BROWSER"):
            raise RuntimeError("CRM_REQUIRE_BROWSER is set but Chromium is not installed")
        pytest.skip("Chromium is not installed (apt-get install chromium)")
    return CHROMIUM


def in_company(tenant, work):
    """Database work from a browser test. Playwright's sync API runs an event loop in the
    test's thread, where Django refuses synchronous queries, so it runs in another one."""

    def run():
        try:
            with tenant_context(tenant):
                return work()
        finally:
            connection.close()

    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(run).result()
