"""The outbound queue finds the receiving server through DNS MX records, served by a dnsmasq
the test starts on a loopback port: MX preference and fallback to the next host, the
domain's own address when it has no MX (RFC 5321 5.1), null MX (RFC 7505) and NXDOMAIN
failing at once, with a bounce."""
import email
import re
import shutil
import socket
import subprocess
import time

import pytest

from harness import SMTP_LISTENERS, TernServer, start_mail_server, submit, wait_for

ALICE = "alice@example.org"


def free_dns_port():
    """A loopback port free for both UDP and TCP (dnsmasq listens on both)."""
    while True:
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as t, \
                socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as u:
            t.bind(("127.0.0.1", 0))
            port = t.getsockname()[1]
            try:
                u.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port


class Dnsmasq:
    """dnsmasq in the foreground on 127.0.0.1:<port>, answering only from its command line:
    every name under .test that it was not given is NXDOMAIN (--local)."""

    def __init__(self, records):
        # Another process may take the port between the probe and dnsmasq's bind: try again.
        for _ in range(5):
            if self._start(records):
                return
        raise AssertionError(f"dnsmasq did not start: {self.output}")

    def _start(self, records):
        self.port = free_dns_port()
        self.proc = subprocess.Popen(
            [shutil.which("dnsmasq") or "/usr/sbin/dnsmasq", "--keep-in-foreground", "--conf-file=/dev/null",
             "--no-resolv", "--no-hosts", "--no-poll", "--bind-interfaces", "--listen-address=127.0.0.1",
             f"--port={self.port}", "--local=/test/", "--user=root", "--log-facility=-", *records],
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        # Ready once it answers a query.
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                self.output = self.proc.stdout.read().decode()
                if "Address already in use" in self.output:
                    return False
                raise AssertionError(f"dnsmasq exited: {self.output}")
            if self._answers():
                return True
            time.sleep(0.1)
        raise AssertionError("dnsmasq did not answer")

    def _answers(self):
        query = b"\x12\x34\x01\x00\x00\x01\x00\x00\x00\x00\x00\x00\x05probe\x04test\x00\x00\x01\x00\x01"
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
            s.settimeout(0.3)
            try:
                s.sendto(query, ("127.0.0.1", self.port))
                return s.recv(512)[:2] == b"\x12\x34"
            except OSError:
                return False

    def close(self):
        self.proc.terminate()
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()


def submit_subject(server, recipients, subject):
    submit(server, ALICE, recipients, f"Subject: {subject}\r\nFrom: <{ALICE}>\r\n\r\nhello\r\n".encode())


@pytest.fixture
def mx_world():
    """B takes mail for b.test and implicit.test on 127.0.0.1; DNS says b.test's best MX is
    mx0.b.test on 127.0.0.2 (nothing listens there) and the next is mx.b.test on 127.0.0.1,
    implicit.test has only an A record, nomail.test has a null MX, and gone.test does not
    exist. A delivers with that DNS, to port B's SMTP port."""
    if not (shutil.which("dnsmasq") or shutil.which("/usr/sbin/dnsmasq")):
        pytest.fail("dnsmasq is missing: scripts/setup installs dnsmasq-base")
    dns = Dnsmasq(["--mx-host=b.test,mx0.b.test,5", "--mx-host=b.test,mx.b.test,10",
                   "--host-record=mx0.b.test,127.0.0.2", "--host-record=mx.b.test,127.0.0.1",
                   "--host-record=implicit.test,127.0.0.1",
                   # RFC 7505 null MX: preference 0, exchange "." (the root).
                   "--dns-rr=nomail.test,15,000000"])
    b = TernServer(hostname="mx.b.test", listeners=SMTP_LISTENERS)
    a = None
    try:
        b.add_user("bob@b.test", "bob's long password")
        b.add_user("ivy@implicit.test", "ivy's long password")
        b.start()
        config = ("[queue]\ninterval = 1\nretry_base = 1\nretry_max = 2\n"
                  f'dns_servers = ["127.0.0.1:{dns.port}"]\nsmtp_port = {b.port("smtp", "starttls")}\n')
        a = start_mail_server(extra_config=config)
        yield a, b
    finally:
        if a:
            a.close()
        b.close()
        dns.close()


def test_mx_by_preference_falls_back_to_the_next_host(mx_world):
    a, b = mx_world
    submit_subject(a, ["bob@b.test"], "by mx")
    assert wait_for(lambda: len(b.messages("bob@b.test")) == 1), a.cli("queue", "list").stdout
    stored = b.message_bytes("bob@b.test", b.messages("bob@b.test")[0]["uid"])
    assert b"Subject: by mx" in stored
    assert wait_for(lambda: "0 messages" in a.cli("queue", "list").stdout)


def test_domain_without_mx_gets_mail_at_its_address(mx_world):
    a, b = mx_world
    submit_subject(a, ["ivy@implicit.test"], "implicit mx")
    assert wait_for(lambda: len(b.messages("ivy@implicit.test")) == 1), a.cli("queue", "list").stdout


def test_null_mx_and_missing_domain_bounce_at_once(mx_world):
    a, b = mx_world
    submit_subject(a, ["someone@nomail.test", "someone@gone.test", "bob@b.test"], "three ways")
    # Bob gets it; the other two fail on the first attempt, not after retries, and come
    # back to Alice in one bounce; then nothing is left in the queue.
    assert wait_for(lambda: len(b.messages("bob@b.test")) == 1), a.cli("queue", "list").stdout
    assert wait_for(lambda: len(a.messages(ALICE)) == 1), a.cli("queue", "list").stdout
    bounce = a.message_bytes(ALICE, a.messages(ALICE)[0]["uid"])
    msg = email.message_from_bytes(bounce)
    assert msg.get_content_type() == "multipart/report"
    status = next(p for p in msg.walk() if p.get_content_type() == "message/delivery-status")
    # Unfolded: long Diagnostic-Code fields are folded.
    report = re.sub(r"\r?\n[ \t]+", " ", status.as_bytes().decode("utf-8", "replace"))
    assert "rfc822; someone@nomail.test" in report
    assert "rfc822; someone@gone.test" in report
    assert "bob@b.test" not in report
    assert "null MX" in report
    assert "does not exist" in report
    assert wait_for(lambda: "0 messages" in a.cli("queue", "list").stdout)
