"""HTTP POST of a signed webhook, through the SSRF guard.

One httpx client per process (connection reuse to the same receiver); its network
backend resolves the host, checks every address (guard.py) and connects to a checked
address, while TLS still uses the host name for SNI and certificate checks. No proxies
from the environment, no redirects, a capped and time-boxed response read.
"""

from __future__ import annotations

import os
import socket
import time
from contextvars import ContextVar
from dataclasses import dataclass
from email.utils import parsedate_to_datetime

import httpcore
import httpx
from django.conf import settings
from django.utils import timezone

from .guard import BlockedDestination, address_check, url_check

USER_AGENT = "CRM-Webhooks/1.0"


# The monotonic time by which the current request must be over. httpx's timeouts are per
# operation (a receiver answering one byte every 14 s would never time out); every socket
# operation below is cut to what is left of the request's 15 s instead.
_deadline: ContextVar[float | None] = ContextVar("webhook_deadline", default=None)


def _time_left(timeout: float | None, error: type[Exception]) -> float | None:
    deadline = _deadline.get()
    if deadline is None:
        return timeout
    left = deadline - time.monotonic()
    if left <= 0:
        raise error("the webhook's total time limit passed")
    return left if timeout is None else min(timeout, left)


class DeadlineStream(httpcore.NetworkStream):
    """A connection whose reads and writes end by the current request's deadline."""

    def __init__(self, stream: httpcore.NetworkStream):
        self._stream = stream

    def read(self, max_bytes, timeout=None):
        return self._stream.read(max_bytes, _time_left(timeout, httpcore.ReadTimeout))

    def write(self, buffer, timeout=None):
        return self._stream.write(buffer, _time_left(timeout, httpcore.WriteTimeout))

    def close(self):
        self._stream.close()

    def start_tls(self, ssl_context, server_hostname=None, timeout=None):
        timeout = _time_left(timeout, httpcore.ConnectTimeout)
        return DeadlineStream(self._stream.start_tls(ssl_context, server_hostname, timeout))

    def get_extra_info(self, info):
        return self._stream.get_extra_info(info)


class GuardedBackend(httpcore.SyncBackend):
    """Connects only to addresses the guard allowed, resolving each host once; the
    connections it makes keep to the current request's deadline."""

    def connect_tcp(self, host, port, timeout=None, local_address=None, socket_options=None):
        return DeadlineStream(
            self._connect_checked(host, port, timeout, local_address, socket_options)
        )

    def _connect_checked(self, host, port, timeout, local_address, socket_options):
        try:
            infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
        except socket.gaierror as exc:
            raise httpcore.ConnectError(f"cannot resolve {host}: {exc}") from exc
        addresses = list(dict.fromkeys(info[4][0] for info in infos))
        for address in addresses:  # every address must pass, not just the first
            address_check(address)
        last_error: Exception | None = None
        for address in addresses:
            try:
                return super().connect_tcp(address, port, timeout, local_address, socket_options)
            except httpcore.ConnectError as exc:
                last_error = exc
        raise last_error or httpcore.ConnectError(f"no address for {host}")


_client: tuple[int, httpx.Client] | None = None


def _http_client() -> httpx.Client:
    """The process's client (rebuilt after a fork: sockets must not be shared)."""
    global _client
    if _client is None or _client[0] != os.getpid():
        transport = httpx.HTTPTransport(retries=0, limits=httpx.Limits(max_connections=100))
        transport._pool._network_backend = GuardedBackend()  # httpx has no public hook
        client = httpx.Client(transport=transport, follow_redirects=False, trust_env=False)
        _client = (os.getpid(), client)
    return _client[1]


@dataclass
class PostResult:
    status_code: int | None
    latency_ms: int
    error: str = ""
    response_body: str = ""
    retry_after: float | None = None  # seconds the receiver asked us to wait

    @property
    def succeeded(self) -> bool:
        return self.status_code is not None and 200 <= self.status_code < 300


def retry_after_seconds(value: str | None) -> float | None:
    """Retry-After as seconds (delta-seconds or an HTTP date)."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        return None
    return max(0.0, (when - timezone.now()).total_seconds())


def webhook_post(*, url: str, body: bytes, headers: dict) -> PostResult:
    """POST once; never raises for network trouble (it is reported in the result)."""
    started = time.monotonic()
    total = settings.WEBHOOKS_TOTAL_TIMEOUT
    deadline = started + total
    token = _deadline.set(deadline)

    def elapsed_ms() -> int:
        return int((time.monotonic() - started) * 1000)

    try:
        url_check(url)
        request_headers = {
            "content-type": "application/json",
            "user-agent": USER_AGENT,
            "accept-encoding": "identity",  # the capped read must not inflate a bomb
            **headers,
        }
        timeout = httpx.Timeout(total, connect=settings.WEBHOOKS_CONNECT_TIMEOUT)
        with _http_client().stream(
            "POST", url, content=body, headers=request_headers, timeout=timeout
        ) as response:
            cap = settings.WEBHOOKS_MAX_RESPONSE_BYTES
            received = bytearray()
            for chunk in response.iter_raw():
                received += chunk[: cap - len(received)]
                if len(received) >= cap or time.monotonic() > deadline:
                    break  # closing the stream drops the rest
            result = PostResult(
                status_code=response.status_code,
                latency_ms=elapsed_ms(),
                response_body=received.decode("utf-8", "replace")[:2000],
                retry_after=retry_after_seconds(response.headers.get("retry-after")),
            )
            if 300 <= response.status_code < 400:
                result.error = "redirect not followed"
            return result
    except BlockedDestination as exc:
        return PostResult(None, elapsed_ms(), error=f"blocked: {exc}")
    except httpx.TimeoutException as exc:
        return PostResult(None, elapsed_ms(), error=f"timeout: {type(exc).__name__}")
    except httpx.HTTPError as exc:
        return PostResult(None, elapsed_ms(), error=f"{type(exc).__name__}: {exc}"[:500])
    finally:
        _deadline.reset(token)
