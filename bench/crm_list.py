"""Benchmark 3, "50-row list over HTTP": GET /api/v1/customers/?page_size=50 on a company
with 200k customers, through a real gunicorn, against "a raw SQL + orjson view of the same
rows" (issue 3) from a second gunicorn with the same workers and threads: a plain Django
view run by the product's own Django stack (bench/crm_list_view.py: same settings,
middleware, tenant resolution and connection handling; no DRF, no authentication, no plan
rate, no ORM, none of the list code). The target is checked against it: what the list's
API layer costs over the least a Django view must do.

A third gunicorn serves the same rows with no framework at all (bench/crm_list_app.py: a
bare WSGI function): its ratio is reported too, so the cost of Django itself stays visible.

The company is signed up like any other; its customers are written with COPY, with the
derived columns (name_key, phone_key, search_text) computed by the product's own helpers,
all owned by the owner (an administrator: the list is not narrowed by visibility). The
product runs with the plan's API rate limit on, as in production. Load
comes from threads in this process using keep-alive connections; the two servers take
turns in short rounds so that drift hits them alike. Measured twice: one client at a
time (latency) and several at once (throughput of the two workers).

In process (no HTTP server), the three are also called as WSGI for this process's CPU per
request, which other work on a shared machine barely moves.
"""

from __future__ import annotations

import cProfile
import http.client
import io
import os
import pstats
import random
import re
import socket
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from time import perf_counter_ns, thread_time_ns

import orjson
from django.conf import settings
from django.db import connection
from django.test import override_settings
from django.utils import timezone
from psycopg import sql

from billing.models import BillingAccount, Plan
from crm_core.records import name_key, phone_key, search_text
from tenants.models import Tenant
from tenants.provisioning import pool_refill
from tenants.services import tenant_signup

from .processes import process_stop
from .stats import Check, Ratio, Section, Series

ROOT = Path(__file__).resolve().parent.parent
# design.md: "50-row list <= 1.5x raw SQL + orjson; >= 500 req/s on 2 workers".
RATIO_LIMIT = 1.5
THROUGHPUT_TARGET = 500.0  # req/s
SUBDOMAIN = "benchlist"
PASSWORD = "Bench-list-password-2026"
PATH = "/api/v1/customers/?page_size=50"
VIEW_PATH = "/api/bench/customers/"  # bench/crm_list_view.py
TARGETS = {
    "product": "product API",
    "view": "raw SQL + orjson, Django view",
    "bare": "raw SQL + orjson, bare WSGI",
}


@dataclass(frozen=True)
class Sizes:
    customers: int = 200_000
    workers: int = 2
    threads: int = 2  # gthread threads per gunicorn worker
    clients: int = 4  # concurrent keep-alive connections in the throughput rounds
    rounds: int = 5  # per server and mode, interleaved
    round_seconds: float = 2.0
    warmup_seconds: float = 2.0
    profile_requests: int = 300


# --- the company and its customers ----------------------------------------------------

_ZH = (["上海", "北京", "深圳", "杭州", "广州", "苏州", "成都", "南京"],
       ["明华", "云帆", "精工", "华信", "海天", "新源", "瑞康", "智联", "绿源", "东方"],
       ["贸易", "科技", "机械", "物流", "电子", "医疗", "食品"], "有限公司")  # fmt: skip
_JA = (["東京", "大阪", "横浜", "京都", "神戸", "名古屋", "札幌", "福岡"],
       ["サクラ", "ひかり", "みなと", "あおば", "やまと", "なにわ", "ふじ", "みらい"],
       ["精工", "電機", "物流", "商事", "製作所", "フーズ", "薬品"], "株式会社")  # fmt: skip
_EN = (["North", "Blue", "Red", "Silver", "Green", "Summit", "Harbor", "Pacific"],
       ["wind", "rock", "field", "stone", "bridge", "wood", "lake", "point"],
       ["Traders", "Logistics", "Software", "Health", "Foods", "Labs"], "Inc.")  # fmt: skip
COPY_COLUMNS = (
    "created_at", "updated_at", "kind", "name", "industry", "source", "relationship_stage",
    "lifecycle_stage", "value_tier", "is_key_account", "email", "phone", "website",
    "addresses", "tags", "notes", "name_key", "phone_key", "search_text", "owner_id",
    "created_by_id", "last_activity_at", "custom_fields",
)  # fmt: skip


def _company() -> tuple[Tenant, str]:
    """A trial company signed up from the warm pool; returns it with the owner's token."""
    connection.set_schema_to_public()
    pool_refill(target=1)
    result = tenant_signup(
        company_name="Bench list 列表 一覧",
        subdomain=SUBDOMAIN,
        email=f"owner@{SUBDOMAIN}.example.com",
        password=PASSWORD,
    )
    if result.tenant.status != Tenant.Status.TRIAL:
        raise RuntimeError(f"bench company is {result.tenant.status}, not on a trial")
    # A plan whose API rate the load cannot reach: the throttle counts every request in
    # Redis (as in production) without refusing the benchmark's.
    plan = Plan.objects.create(
        code="bench-list", name="Bench list", price_per_user=0, api_rate_per_minute=10**9
    )
    BillingAccount.objects.update_or_create(tenant=result.tenant, defaults={"plan": plan})
    return result.tenant, result.api_token


def _customer_rows(count: int, owner_id: int):
    """`count` customers with Chinese, Japanese and English names; repeatable."""
    rng = random.Random(3)  # noqa: S311 - sample data
    now = timezone.now()
    stages = ["potential", "target", "current", "lost"]
    for index in range(count):
        places, cores, trades, suffix = (_ZH, _JA, _EN)[index % 3]
        core = f"{rng.choice(places)}{rng.choice(cores)}{rng.choice(trades)}"
        if suffix == "株式会社":
            name = f"{suffix}{core}{index}"
        elif suffix == "Inc.":
            core = f"{rng.choice(places)}{rng.choice(cores)} {rng.choice(trades)}"
            name = f"{core} {index} {suffix}"
        else:
            name = f"{core}{index}{suffix}"
        email = f"info{index}@c{index % 9973}.example.com"
        phone = f"+86 138-{index // 10000:04d}-{index % 10000:04d}"
        created = now - timedelta(days=400) + timedelta(seconds=index * 150)
        yield (
            created,
            created,
            "company",
            name,
            rng.choice(["manufacturing", "software", "retail", "logistics"]),
            rng.choice(["website", "referral", "trade show"]),
            stages[index % 4],
            "stability",
            "ABCD"[index % 4],
            index % 50 == 0,
            email,
            phone,
            "",
            "[]",
            ["vip"] if index % 10 == 0 else [],
            "",
            name_key(name),
            phone_key(phone),
            search_text(name, email, phone),
            owner_id,
            owner_id,
            created + timedelta(days=rng.randint(0, 60)),
            "{}",  # custom_fields (NOT NULL, no database default)
        )


def _fill(tenant: Tenant, count: int) -> float:
    """COPY `count` customers into the company's schema; returns rows/s."""
    from django_tenants.utils import tenant_context

    from accounts.models import User

    with tenant_context(tenant):
        owner_id = User.objects.get(is_owner=True).pk
    table = sql.Identifier(tenant.schema_name, "crm_core_customer")
    columns = sql.SQL(", ").join(map(sql.Identifier, COPY_COLUMNS))
    start = perf_counter_ns()
    with connection.cursor() as cursor:
        raw = cursor.cursor  # psycopg's own cursor, for COPY
        with raw.copy(sql.SQL("COPY {} ({}) FROM STDIN").format(table, columns)) as copy:
            for row in _customer_rows(count, owner_id):
                copy.write_row(row)
        cursor.execute(sql.SQL("ANALYZE {}").format(table))
    return count / ((perf_counter_ns() - start) / 1e9)


# --- servers --------------------------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class Server:
    label: str
    port: int
    proc: subprocess.Popen
    log: Path
    path: str = PATH


def _start(label: str, app: str, sizes: Sizes, log_dir: Path, **extra_env: str) -> Server:
    """gunicorn with `app`, on the bench database, as tests/conftest.py runs the product."""
    port = _free_port()
    log = log_dir / f"{label}.log"
    env = dict(os.environ)  # DATABASE_URL already points at crm_bench
    env.update(CRM_TESTING="1", LOG_FORMAT="text", LOG_LEVEL="WARNING", **extra_env)
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "gunicorn",
            app,
            "--bind",
            f"127.0.0.1:{port}",
            "--workers",
            str(sizes.workers),
            "--worker-class",
            "gthread",
            "--threads",
            str(sizes.threads),
            "--keep-alive",
            "60",
            "--log-level",
            "warning",
        ],
        cwd=ROOT,
        stdout=log.open("w"),
        stderr=subprocess.STDOUT,
        env=env,
    )
    deadline = time.monotonic() + 60
    while True:
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
            conn.request("GET", "/healthz")
            if conn.getresponse().status == 200:
                conn.close()
                return Server(label, port, proc, log)
        except OSError:
            pass
        if proc.poll() is not None or time.monotonic() > deadline:
            process_stop(proc)
            raise RuntimeError(f"{label} server did not start; see {log}")
        time.sleep(0.2)


# --- load -----------------------------------------------------------------------------


def _get(conn: http.client.HTTPConnection, headers: dict, path: str) -> bytes:
    conn.request("GET", path, headers=headers)
    response = conn.getresponse()
    body = response.read()
    if response.status != 200:
        raise RuntimeError(f"GET {path}: {response.status} {body[:300]!r}")
    return body


def _drive(server: Server, headers: dict, clients: int, seconds: float) -> tuple[list[int], float]:
    """`clients` threads, each on one keep-alive connection, requesting until the
    deadline; returns every request's latency (ns) and the wall time (s)."""
    latencies: list[list[int]] = [[] for _ in range(clients)]
    errors: list[BaseException] = []
    barrier = threading.Barrier(clients + 1)

    def client(samples: list[int]) -> None:
        conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=30)
        try:
            _get(conn, headers, server.path)  # connect outside the timed part
            barrier.wait()
            deadline = time.monotonic() + seconds
            while time.monotonic() < deadline:
                start = perf_counter_ns()
                _get(conn, headers, server.path)
                samples.append(perf_counter_ns() - start)
        except BaseException as exc:  # noqa: BLE001 - reported by the caller
            errors.append(exc)
            barrier.abort()
        finally:
            conn.close()

    threads = [threading.Thread(target=client, args=(samples,)) for samples in latencies]
    for thread in threads:
        thread.start()
    try:
        barrier.wait()
    except threading.BrokenBarrierError:
        pass
    start = time.monotonic()
    for thread in threads:
        thread.join()
    elapsed = time.monotonic() - start
    if errors:
        raise RuntimeError(f"{server.label}: {errors[0]}") from errors[0]
    return [ns for samples in latencies for ns in samples], elapsed


def _same_rows(product: bytes, reference: bytes) -> int:
    """Both servers must return the same 50 rows with the same values."""
    ours, theirs = orjson.loads(product), orjson.loads(reference)
    if len(ours["results"]) != 50 or ours["results"] != theirs["results"]:
        raise RuntimeError("the reference does not serve the product's rows")
    if (ours["next"] is None) != (theirs["next"] is None):
        raise RuntimeError("the reference's next link differs")
    return len(ours["results"])


@dataclass
class _Load:
    series: Series
    requests: int = 0
    seconds: float = 0.0

    def add(self, samples: list[int], seconds: float) -> None:
        for ns in samples:
            self.series.add(ns)
        self.requests += len(samples)
        self.seconds += seconds

    @property
    def rps(self) -> float:
        return self.requests / self.seconds if self.seconds else float("nan")


# Where an in-process request spends its time: (label, file suffix, function).
PROFILE_AREAS = (
    ("token authentication", "accounts/authentication.py", "authenticate"),
    ("list view (selector, paginator, rows)", "crm_core/api/customers.py", "get"),
    ("SQL round trips (execute)", "psycopg/cursor.py", "execute"),
    ("rows fetched and loaded", "psycopg/cursor.py", "fetchall"),  # lean rows fetch all
    ("JSON columns via orjson", "crm_platform/kernel/lean_rows.py", "_load_json"),
    ("JSON columns via Django's json.loads", "models/fields/json.py", "from_db_value"),
    ("timestamptz via Django's Python loader", "postgresql/psycopg_any.py", "load"),
    ("ORM SQL compilation", "django/db/models/sql/compiler.py", "as_sql"),
    ("JSON rendering (orjson)", "crm_platform/kernel/renderers.py", "render"),
)


class _QueryCounter:
    def __init__(self) -> None:
        self.statements: list[str] = []

    def __call__(self, execute, sql_text, params, many, context):
        self.statements.append(sql_text)
        return execute(sql_text, params, many, context)


def _statement_kind(text: str) -> str:
    """'SET search_path' or 'SELECT <first table>'."""
    table = re.search(r' FROM "?(\w+)', text)
    return f"SELECT {table.group(1)}" if text.startswith("SELECT") and table else text[:15]


def _wsgi_cpu_ms(application, environ: dict, count: int) -> float:
    """CPU ms per request of `application` called as WSGI in this process (no HTTP)."""

    def start_response(status, headers):
        if not status.startswith("200"):
            raise RuntimeError(f"{environ['PATH_INFO']} in process: {status}")

    def call() -> None:
        result = application({**environ, "wsgi.input": io.BytesIO()}, start_response)
        b"".join(result)
        getattr(result, "close", lambda: None)()  # Django's request_finished

    for _ in range(30):
        call()
    cpu_start = thread_time_ns()
    for _ in range(count):
        call()
    return (thread_time_ns() - cpu_start) / 1e6 / count


def _in_process(host: str, token: str, count: int) -> dict[str, float]:
    """This process's CPU per request (not PostgreSQL's), each app called as WSGI."""
    from crm_platform.wsgi import application as product

    from . import crm_list_app

    path, _, query = PATH.partition("?")
    environ = {
        "REQUEST_METHOD": "GET",
        "PATH_INFO": path,
        "QUERY_STRING": query,
        "HTTP_HOST": host,
        "HTTP_AUTHORIZATION": f"Bearer {token}",
        "HTTP_ACCEPT": "application/json",
        "SERVER_NAME": host,
        "SERVER_PORT": "80",
        "SERVER_PROTOCOL": "HTTP/1.1",
        "wsgi.url_scheme": "http",
        "wsgi.errors": sys.stderr,
    }
    try:
        list_ms = _wsgi_cpu_ms(product, environ, count)
        with override_settings(ROOT_URLCONF="bench.crm_list_view"):
            view_ms = _wsgi_cpu_ms(product, {**environ, "PATH_INFO": VIEW_PATH}, count)
        bare_ms = _wsgi_cpu_ms(crm_list_app.application, environ, count)
    finally:
        crm_list_app._connection().close()  # this thread's; later benchmarks don't need it
        connection.set_schema_to_public()
    return {
        "in_process_cpu_ms_per_request": round(list_ms, 2),
        "django_view_in_process_cpu_ms_per_request": round(view_ms, 2),
        "bare_wsgi_in_process_cpu_ms_per_request": round(bare_ms, 2),
        "product / Django view, in process cpu": f"{list_ms / view_ms:.2f}x",
    }


def _profile(host: str, token: str, count: int) -> dict[str, object]:
    """cProfile over `count` in-process requests (Django's test client, no HTTP): the
    share of time per area, and the statements one request sends."""
    from django.test import Client

    client = Client(HTTP_HOST=host, HTTP_AUTHORIZATION=f"Bearer {token}")
    try:
        for _ in range(30):
            client.get(PATH)
        counter = _QueryCounter()
        with connection.execute_wrapper(counter):
            client.get(PATH)
        profiler = cProfile.Profile()
        profiler.enable()
        for _ in range(count):
            client.get(PATH)
        profiler.disable()
    finally:
        connection.set_schema_to_public()
    stats = pstats.Stats(profiler).stats  # {(file, line, function): (cc, nc, tt, ct, callers)}
    total = sum(tt for _cc, _nc, tt, _ct, _callers in stats.values())
    facts: dict[str, object] = {
        "statements_per_request": len(counter.statements),
        "statements": ", ".join(_statement_kind(text) for text in counter.statements),
    }
    for label, suffix, function in PROFILE_AREAS:
        cumulative = sum(
            ct
            for (path, _line, name), (_cc, _nc, _tt, ct, _callers) in stats.items()
            if name == function and path.endswith(suffix)
        )
        facts[f"profile {label}"] = f"{100 * cumulative / total:.0f}%"
    return facts


def run(sizes: Sizes, progress) -> Section:
    section = Section("crm_list", "Benchmark 3: 50-row customer list over HTTP")
    progress(f"signing up the list company, COPY of {sizes.customers} customers")
    tenant, token = _company()
    copy_rps = _fill(tenant, sizes.customers)
    connection.close()  # the servers get the database to themselves
    host = f"{SUBDOMAIN}.{settings.CRM_BASE_DOMAIN}"
    headers = {"Host": host, "Authorization": f"Bearer {token}", "Accept": "application/json"}
    section.facts.update(
        customers=sizes.customers,
        copy_rows_per_s=round(copy_rps),
        request=f"GET {PATH} (owner's token, Host {host})",
        gunicorn=f"{sizes.workers} workers x {sizes.threads} threads (gthread), keep-alive",
        load=f"1 and {sizes.clients} keep-alive clients in the bench process, "
        f"{sizes.rounds} interleaved rounds of {sizes.round_seconds:g} s each",
        cpus=os.cpu_count(),
    )

    modes = {"seq": 1, "load": sizes.clients}
    loads = {
        (target, mode): _Load(
            Series(
                f"{target}_{mode}",
                f"{label}, {clients} client{'s' if clients > 1 else ''}",
            )
        )
        for mode, clients in modes.items()
        for target, label in TARGETS.items()
    }
    with tempfile.TemporaryDirectory(prefix="crm-bench-list-") as log_dir:
        servers = {}
        try:
            progress("starting the product's and the two references' gunicorn")
            # The plan's rate limit is on, as in production (CRM_TESTING turns it off by
            # default): its Redis round trip is part of every API request.
            servers["product"] = _start(
                "product", "crm_platform.wsgi", sizes, Path(log_dir), API_PLAN_RATE_LIMITS="1"
            )
            servers["view"] = _start(
                "view",
                "crm_platform.wsgi",
                sizes,
                Path(log_dir),
                DJANGO_SETTINGS_MODULE="bench.crm_list_settings",
            )
            servers["view"].path = f"{VIEW_PATH}?page_size=50"
            servers["bare"] = _start("bare", "bench.crm_list_app:application", sizes, Path(log_dir))
            bodies = {}
            for target, server in servers.items():
                conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=30)
                try:
                    bodies[target] = _get(conn, headers, server.path)
                except RuntimeError as exc:
                    log = server.log.read_text()[-3000:]
                    raise RuntimeError(f"{target}: {exc}\n{log}") from None
                conn.close()
            section.facts["rows_compared_equal"] = min(
                _same_rows(bodies["product"], bodies[target]) for target in ("view", "bare")
            )
            section.facts["response_bytes"] = len(bodies["product"])
            progress("warming up both servers")
            for server in servers.values():
                _drive(server, headers, sizes.clients, sizes.warmup_seconds)
            for mode, clients in modes.items():
                progress(f"{sizes.rounds} rounds per server with {clients} client(s)")
                for _ in range(sizes.rounds):
                    for target, server in servers.items():
                        loads[target, mode].add(
                            *_drive(server, headers, clients, sizes.round_seconds)
                        )
        finally:
            for server in servers.values():
                process_stop(server.proc)

    progress(f"profiling {sizes.profile_requests} in-process requests (cProfile)")
    section.facts.update(_profile(host, token, sizes.profile_requests))
    section.facts.update(_in_process(host, token, sizes.profile_requests))
    for (target, mode), load in loads.items():
        section.facts[f"{target}_{mode}_req_per_s"] = round(load.rps)
    product, view, bare = (loads[target, "load"] for target in TARGETS)
    product_seq, view_seq = loads["product", "seq"], loads["view", "seq"]
    throughput_ratio = view.rps / product.rps
    section.series = [load.series for load in loads.values()]
    section.ratios = [
        Ratio(
            "product / Django view, throughput",
            throughput_ratio,
            f"{view.rps:.0f} vs {product.rps:.0f} req/s, {sizes.clients} clients",
        ),
        Ratio(
            "product / Django view, p50 latency",
            product_seq.series.p50 / view_seq.series.p50,
            "1 client",
        ),
        Ratio(
            "product / Django view, p95 latency",
            product_seq.series.p95 / view_seq.series.p95,
            "1 client",
        ),
        Ratio(
            "product / bare WSGI, throughput",
            bare.rps / product.rps,
            f"{bare.rps:.0f} vs {product.rps:.0f} req/s: Django itself included",
        ),
    ]
    section.checks = [
        Check("list / raw SQL + orjson view (throughput)", throughput_ratio, RATIO_LIMIT, "x"),
        # ">= 500 req/s" as a time per request: 1 / throughput <= 2 ms.
        Check(
            f"1/throughput, {sizes.workers} workers (>= {THROUGHPUT_TARGET:.0f}/s)",
            1000 / product.rps,
            1000 / THROUGHPUT_TARGET,
            "ms",
        ),
    ]
    return section
