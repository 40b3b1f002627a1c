"""The SSRF guard: the corpus of forbidden destinations, checked at save and at connect."""

import socket
import threading
import time

import pytest
from django.test import override_settings

from webhooks.guard import BlockedDestination, address_check, url_check
from webhooks.transport import GuardedBackend, webhook_post

BLOCKED_URLS = [
    "https://127.0.0.1/",
    "https://127.1.2.3/",
    "https://localhost/",
    "https://api.localhost/",
    "https://2130706433/",  # 127.0.0.1 as one number
    "https://0x7f.1/",
    "https://0x7f000001/",
    "https://0177.0.0.1/",
    "https://017700000001/",
    "https://127.1/",
    "https://0/",
    "https://0.0.0.0/",
    "https://10.0.0.1/",
    "https://172.16.5.4/",
    "https://192.168.1.1/",
    "https://169.254.169.254/latest/meta-data/",  # cloud metadata
    "https://100.64.0.1/",  # CGNAT
    "https://224.0.0.1/",  # multicast
    "https://240.0.0.1/",  # reserved
    "https://255.255.255.255/",
    "https://198.18.0.1/",
    "https://[::1]/",
    "https://[::]/",
    "https://[::ffff:127.0.0.1]/",  # IPv4-mapped
    "https://[::ffff:7f00:1]/",
    "https://[::ffff:169.254.169.254]/",
    "https://[64:ff9b::7f00:1]/",  # NAT64
    "https://[64:ff9b::a9fe:a9fe]/",
    "https://[fd00::1]/",  # ULA
    "https://[fc00::1]/",
    "https://[fe80::1]/",  # link-local
    "https://[fe80::1%25eth0]/",
    "https://[ff02::1]/",  # multicast
    "https://[2002:7f00:1::]/",  # 6to4 of 127.0.0.1
    "https://[2001:0:4136:e378:8000:63bf:3fff:fdd2]/",  # Teredo
    "https://user:pass@example.com/",
    "ftp://example.com/",
    "file:///etc/passwd",
    "gopher://example.com/",
    "https:///nohost",
    "https://exa mple.com/",
]


@pytest.mark.parametrize("url", BLOCKED_URLS)
@override_settings(WEBHOOKS_ALLOW_LOOPBACK=False, WEBHOOKS_ALLOW_HTTP=False)
def test_corpus_is_blocked(url):
    with pytest.raises(BlockedDestination):
        url_check(url)


@override_settings(WEBHOOKS_ALLOW_LOOPBACK=False, WEBHOOKS_ALLOW_HTTP=False)
def test_plain_http_is_refused_in_production():
    with pytest.raises(BlockedDestination):
        url_check("http://example.com/hook")
    assert url_check("https://example.com/hook") == "example.com"
    assert url_check("https://93.184.215.14:8443/hook") == "93.184.215.14"


@pytest.mark.parametrize(
    "address",
    ["8.8.8.8", "1.1.1.1", "2606:4700:4700::1111"],
)
@override_settings(WEBHOOKS_ALLOW_LOOPBACK=False)
def test_public_addresses_pass(address):
    address_check(address)


@override_settings(WEBHOOKS_ALLOW_LOOPBACK=False)
def test_connect_checks_the_resolved_address(receiver):
    # "localhost.localdomain"-style names pass the URL check only if they resolve somewhere
    # public; the connect-time check sees the real address and refuses it.
    with pytest.raises(BlockedDestination):
        GuardedBackend().connect_tcp("localhost", receiver.port, timeout=1)
    result = webhook_post(url=f"https://127.0.0.1:{receiver.port}/", body=b"{}", headers={})
    assert result.status_code is None and result.error.startswith("blocked")
    assert receiver.received == []


def test_loopback_is_allowed_only_by_the_test_setting(receiver):
    with override_settings(WEBHOOKS_ALLOW_LOOPBACK=True):
        assert webhook_post(url=receiver.url, body=b"{}", headers={}).status_code == 200
    with override_settings(WEBHOOKS_ALLOW_LOOPBACK=False):
        assert webhook_post(url=receiver.url, body=b"{}", headers={}).status_code is None
    assert len(receiver.received) == 1


def test_the_total_time_limit_holds_against_a_slow_drip():
    """A receiver answering one byte at a time never trips a per-read timeout; the
    request's total limit still ends it."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen()
    port = server.getsockname()[1]

    def drip():
        conn, _ = server.accept()
        conn.recv(65536)
        try:
            for byte in b"HTTP/1.1 200 OK\r\nX-Slow: " + b"a" * 100:
                conn.sendall(bytes([byte]))
                time.sleep(0.05)
        except OSError:
            pass
        finally:
            conn.close()

    threading.Thread(target=drip, daemon=True).start()
    try:
        with override_settings(WEBHOOKS_TOTAL_TIMEOUT=1.0):
            started = time.monotonic()
            result = webhook_post(url=f"http://127.0.0.1:{port}/", body=b"{}", headers={})
            elapsed = time.monotonic() - started
    finally:
        server.close()
    assert result.status_code is None and result.error.startswith("timeout")
    assert elapsed < 2.0
