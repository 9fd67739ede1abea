"""Bad input gets a protocol error and the session goes on; limits and shutdown hold."""

import signal
import socket
import time

from harness import TernServer


def read_reply(f):
    """Reads one (possibly multi-line) SMTP reply; returns its lines."""
    lines = []
    while True:
        line = f.readline()
        assert line, "connection closed"
        lines.append(line)
        if line[3:4] != b"-":
            return lines


def test_overlong_smtp_line_gets_500_and_session_goes_on(tern):
    with socket.create_connection(("127.0.0.1", tern.port("smtp", "starttls")), timeout=20) as s:
        f = s.makefile("rb")
        assert read_reply(f)[0].startswith(b"220")
        s.sendall(b"EHLO " + b"x" * 100_000 + b"\r\n")
        assert read_reply(f)[0].startswith(b"500 5.5.2")
        s.sendall(b"NOOP\r\n")
        assert read_reply(f)[0].startswith(b"250")
        s.sendall(b"QUIT\r\n")
        assert read_reply(f)[0].startswith(b"221")


def test_too_many_errors_closes_the_session(tern):
    with socket.create_connection(("127.0.0.1", tern.port("smtp", "starttls")), timeout=20) as s:
        f = s.makefile("rb")
        read_reply(f)
        codes = []
        for _ in range(30):
            try:
                s.sendall(b"BOGUS\r\n")
            except OSError:
                break
            line = f.readline()
            if not line:
                break
            codes.append(line[:3])
            if line.startswith(b"421"):
                break
        assert codes[0] == b"500" and codes[-1] == b"421"
        assert f.readline() == b""  # the server closed the connection


def test_unknown_imap_command_is_bad_and_session_goes_on(tern):
    with socket.create_connection(("127.0.0.1", tern.port("imap", "starttls")), timeout=20) as s:
        f = s.makefile("rb")
        f.readline()
        s.sendall(b"a1 FROBNICATE\r\n")
        assert f.readline().startswith(b"a1 BAD")
        s.sendall(b"a2 NOOP\r\n")
        assert f.readline().startswith(b"a2 OK")


def test_connections_per_ip_are_limited():
    server = TernServer(extra_config="[limits]\nmax_connections_per_ip = 3\n", listeners=[("pop3", "starttls")])
    server.start()
    try:
        port = server.port("pop3", "starttls")
        held = []
        for _ in range(3):
            s = socket.create_connection(("127.0.0.1", port), timeout=10)
            assert s.makefile("rb").readline().startswith(b"+OK")
            held.append(s)
        extra = socket.create_connection(("127.0.0.1", port), timeout=10)
        line = extra.makefile("rb").readline()
        assert not line.startswith(b"+OK"), line  # refused: -ERR or closed
        extra.close()
        held.pop().close()
        time.sleep(0.3)
        again = socket.create_connection(("127.0.0.1", port), timeout=10)
        assert again.makefile("rb").readline().startswith(b"+OK")
        again.close()
        for s in held:
            s.close()
    finally:
        server.close()


def test_sigterm_shuts_down_gracefully(fresh_tern):
    s = socket.create_connection(("127.0.0.1", fresh_tern.port("imap", "starttls")), timeout=20)
    f = s.makefile("rb")
    assert f.readline().startswith(b"* OK")
    fresh_tern.signal(signal.SIGTERM)
    assert fresh_tern.proc.wait(timeout=30) == 0
    rest = f.read()
    assert rest.startswith(b"* BYE"), rest  # idle sessions are told, not just dropped
    s.close()


def test_serve_raises_its_open_files_limit_to_the_hard_limit():
    """Started from a shell whose soft limit is low (256), tern serve raises its soft
    RLIMIT_NOFILE to the hard limit, so max_connections (2,000) can be reached."""
    import resource
    hard = resource.getrlimit(resource.RLIMIT_NOFILE)[1]
    if hard != resource.RLIM_INFINITY and hard <= 256:
        import pytest
        pytest.skip(f"the hard limit here ({hard}) leaves nothing to raise")
    server = TernServer(listeners=[("pop3", "starttls")])
    server.start(open_files=256)
    try:
        limits = open(f"/proc/{server.proc.pid}/limits").read()
        line = next(l for l in limits.splitlines() if l.startswith("Max open files"))
        soft, hard_seen = line.split()[3:5]
        assert soft == hard_seen, line
        assert soft == ("unlimited" if hard == resource.RLIM_INFINITY else str(hard)), line
    finally:
        server.close()
