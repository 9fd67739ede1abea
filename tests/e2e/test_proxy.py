"""PROXY protocol listeners: a trusted load balancer's header sets the client address the
server logs and limits by; anything else is closed without a reply."""

import socket
import ssl
import struct
import time

import pytest

from harness import TernServer

LISTENERS = [("imap", "starttls"), ("imap", "implicit"), ("smtp", "starttls")]


@pytest.fixture(scope="module")
def proxied():
    server = TernServer(extra_config='proxy_trusted = ["127.0.0.0/8", "::1/128"]',
                        listeners=LISTENERS, proxy_protocol=True)
    server.start()
    yield server
    server.close()


def wait_for_log(server, needle, timeout=10):
    deadline = time.time() + timeout
    while time.time() < deadline:
        if any(needle in line for line in server.log_lines):
            return True
        time.sleep(0.05)
    return False


def closed_without_reply(s):
    """True when the server closed the connection (FIN, or RST when our bytes were unread)
    without sending anything."""
    try:
        return s.recv(100) == b""
    except ConnectionResetError:
        return True


def test_v1_header_then_imap(proxied):
    with socket.create_connection(("127.0.0.1", proxied.port("imap", "starttls")), timeout=20) as s:
        # Header and the first command in one segment: the command must not be lost.
        s.sendall(b"PROXY TCP4 203.0.113.7 127.0.0.1 5555 143\r\na1 CAPABILITY\r\n")
        f = s.makefile("rb")
        assert f.readline().startswith(b"* OK")
        assert f.readline().startswith(b"* CAPABILITY")
        assert f.readline().startswith(b"a1 OK")
        s.sendall(b"a2 LOGOUT\r\n")
        assert f.readline().startswith(b"* BYE")
    assert wait_for_log(proxied, "203.0.113.7"), "\n".join(proxied.log_lines[-20:])


def test_v2_header_before_implicit_tls(proxied):
    header = (b"\r\n\r\n\x00\r\nQUIT\n\x21\x11" + struct.pack(">H", 12)
              + bytes([198, 51, 100, 23, 127, 0, 0, 1]) + struct.pack(">HH", 40001, 993))
    ctx = ssl.create_default_context()
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    with socket.create_connection(("127.0.0.1", proxied.port("imap", "implicit")), timeout=20) as s:
        s.sendall(header)
        with ctx.wrap_socket(s) as t:
            f = t.makefile("rb")
            assert f.readline().startswith(b"* OK")
    assert wait_for_log(proxied, "198.51.100.23"), "\n".join(proxied.log_lines[-20:])


@pytest.mark.parametrize("first", [b"a1 CAPABILITY\r\n", b"PROXY TCP4 1.2.3 127.0.0.1 1 2\r\n"])
def test_missing_or_bad_header_is_closed_without_reply(proxied, first):
    with socket.create_connection(("127.0.0.1", proxied.port("imap", "starttls")), timeout=20) as s:
        s.sendall(first)
        assert closed_without_reply(s)


def test_untrusted_source_is_closed_without_reply():
    server = TernServer(extra_config='proxy_trusted = ["192.0.2.0/24"]',
                        listeners=[("smtp", "starttls")], proxy_protocol=True)
    server.start()
    try:
        with socket.create_connection(("127.0.0.1", server.port("smtp", "starttls")), timeout=20) as s:
            s.sendall(b"PROXY TCP4 203.0.113.9 127.0.0.1 5555 25\r\nEHLO x\r\n")
            assert closed_without_reply(s)
        assert wait_for_log(server, "not in proxy_trusted")
        assert not any("203.0.113.9" in line for line in server.log_lines)
    finally:
        server.close()


def test_proxy_listener_without_trusted_ranges_is_a_config_error():
    server = TernServer(listeners=[("imap", "starttls")], proxy_protocol=True)
    try:
        res = server.cli("config", "check", check=False)
        assert res.returncode != 0
        assert "proxy_trusted" in res.stdout + res.stderr
    finally:
        server.close()
