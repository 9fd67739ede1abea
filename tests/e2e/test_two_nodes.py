"""Two `tern serve` nodes on one PostgreSQL database (issue T9): mail delivered by SMTP on
node A wakes an IDLE client on node B, a flag change made on B reaches a session on A,
the POP3 maildrop lock holds across the nodes, and a queue entry of a node killed mid-attempt
is delivered by the other once its lease runs out. Runs in the PostgreSQL pass of the suite."""
import os
import poplib
import smtplib
import socket
import ssl
import time

import pytest

from harness import TernServer, wait_for

CTX = ssl._create_unverified_context()
PASSWORD = "two nodes password"

pytestmark = pytest.mark.skipif(not os.environ.get("TERN_E2E_PG_URL"),
                                reason="two nodes share a PostgreSQL store: needs TERN_E2E_PG_URL (the PostgreSQL e2e pass)")


@pytest.fixture(scope="module")
def nodes():
    a = TernServer(hostname="a.mail.test")
    b = None
    try:
        for u in ["ann", "ben", "cat"]:
            a.add_user(f"{u}@example.org", PASSWORD)
        a.start()
        b = TernServer(hostname="b.mail.test", same_store_as=a)
        b.start()
        yield a, b
    finally:
        if b:
            b.close()
        a.close()


class Imap:
    """A raw IMAPS client: what imaplib hides (IDLE, untagged responses as they come)."""

    def __init__(self, server, user):
        self.sock = CTX.wrap_socket(socket.create_connection(("127.0.0.1", server.port("imap", "implicit")), timeout=30))
        self.f = self.sock.makefile("rb")
        assert self.f.readline().startswith(b"* OK")
        assert self.cmd(f'LOGIN {user}@example.org "{PASSWORD}"')[-1].startswith(b"t OK")
        assert self.cmd("SELECT INBOX")[-1].startswith(b"t OK")

    def cmd(self, line):
        self.sock.sendall(f"t {line}\r\n".encode())
        lines = []
        while not lines or not lines[-1].startswith(b"t "):
            lines.append(self.f.readline())
        return lines

    def idle(self):
        self.sock.sendall(b"i IDLE\r\n")
        assert self.f.readline().startswith(b"+ ")

    def done(self):
        self.sock.sendall(b"DONE\r\n")
        while not (line := self.f.readline()).startswith(b"i "):
            pass
        assert line.startswith(b"i OK"), line

    def close(self):
        self.sock.close()


def deliver(server, to, subject):
    with smtplib.SMTP("127.0.0.1", server.port("smtp", "starttls"), timeout=30) as smtp:
        smtp.sendmail("sender@remote.example", [to],
                      f"From: <sender@remote.example>\r\nTo: <{to}>\r\nSubject: {subject}\r\n\r\nhi\r\n".encode())


def test_smtp_on_a_wakes_idle_on_b_within_a_second(nodes):
    a, b = nodes
    client = Imap(b, "ann")
    client.idle()
    deliver(a, "ann@example.org", "across nodes")
    delivered = time.monotonic()
    client.sock.settimeout(5)
    line = client.f.readline()
    assert line == b"* 1 EXISTS\r\n", line
    assert time.monotonic() - delivered < 1.0
    client.done()
    fetched = client.cmd("FETCH 1 BODY.PEEK[HEADER.FIELDS (SUBJECT)]")
    assert b"Subject: across nodes\r\n" in fetched
    client.close()


def test_flag_change_on_b_reaches_a_session_on_a(nodes):
    a, b = nodes
    deliver(a, "ben@example.org", "flag me")
    watcher = Imap(a, "ben")
    changer = Imap(b, "ben")
    watcher.idle()
    assert changer.cmd("STORE 1 +FLAGS (\\Flagged)")[-1].startswith(b"t OK")
    watcher.sock.settimeout(5)
    line = watcher.f.readline()
    assert line.startswith(b"* 1 FETCH (") and b"\\Flagged" in line, line
    watcher.done()
    # And an expunge made on A reaches the session on B at its next command.
    assert watcher.cmd("STORE 1 +FLAGS.SILENT (\\Deleted)")[-1].startswith(b"t OK")
    assert watcher.cmd("EXPUNGE")[-1].startswith(b"t OK")
    deadline = time.monotonic() + 5
    seen = []
    while time.monotonic() < deadline and b"* 1 EXPUNGE\r\n" not in seen:
        seen += changer.cmd("NOOP")
    assert b"* 1 EXPUNGE\r\n" in seen, seen
    watcher.close()
    changer.close()


def test_pop3_maildrop_lock_holds_across_nodes(nodes):
    a, b = nodes
    deliver(a, "cat@example.org", "locked")
    first = poplib.POP3_SSL("127.0.0.1", a.port("pop3", "implicit"), context=CTX, timeout=30)
    first.user("cat@example.org")
    first.pass_(PASSWORD)
    second = poplib.POP3_SSL("127.0.0.1", b.port("pop3", "implicit"), context=CTX, timeout=30)
    second.user("cat@example.org")
    with pytest.raises(poplib.error_proto, match=r"\[IN-USE\]"):
        second.pass_(PASSWORD)
    assert first.stat()[0] == 1
    first.quit()
    # Released on A: B may take it now.
    second = poplib.POP3_SSL("127.0.0.1", b.port("pop3", "implicit"), context=CTX, timeout=30)
    second.user("cat@example.org")
    assert second.pass_(PASSWORD).startswith(b"+OK")
    assert second.stat()[0] == 1
    second.quit()


def test_entry_of_a_dead_node_is_delivered_by_another():
    """Node A claims a queue entry and hangs on a next hop that never greets; A dies (kill
    -9). Node B, on the same store, takes the entry over once A's lease ([queue] lease) runs
    out and delivers it."""
    receiver = TernServer(hostname="mx.far.test", listeners=[("smtp", "starttls")])
    hang = socket.create_server(("127.0.0.1", 0))
    a = b = None
    try:
        receiver.add_user("dan@far.test", PASSWORD)
        receiver.start()
        hang_port = hang.getsockname()[1]
        queue = "[queue]\ninterval = 1\nlease = 2\nretry_base = 1\n"
        a = TernServer(hostname="a.mail.test", extra_config=(
            queue + f'[[route]]\ndomain = "far.test"\nhost = "127.0.0.1"\nport = {hang_port}\n'))
        a.add_user("eve@example.org", PASSWORD)
        a.start()
        with smtplib.SMTP("127.0.0.1", a.port("submission", "starttls"), timeout=30) as s:
            s.starttls(context=CTX)
            s.login("eve@example.org", PASSWORD)
            s.sendmail("eve@example.org", ["dan@far.test"],
                       b"From: <eve@example.org>\r\nSubject: taken over\r\n\r\nhello\r\n")
        # A has claimed the entry and waits for a greeting that never comes.
        hang.settimeout(30)
        stuck, _ = hang.accept()
        a.proc.kill()
        a.proc.wait()
        b = TernServer(hostname="b.mail.test", same_store_as=a, extra_config=(
            queue + f'[[route]]\ndomain = "far.test"\nhost = "127.0.0.1"\nport = {receiver.port("smtp", "starttls")}\n'))
        b.start()
        wait_for(lambda: receiver.messages("dan@far.test"))
        got = receiver.messages("dan@far.test")
        assert len(got) == 1, b.cli("queue", "list").stdout
        assert b"Subject: taken over" in receiver.message_bytes("dan@far.test", got[0]["uid"])
        assert wait_for(lambda: "0 messages" in b.cli("queue", "list").stdout), b.cli("queue", "list").stdout
        stuck.close()
    finally:
        hang.close()
        if b:
            b.close()
        if a:
            a.close()
        receiver.close()
