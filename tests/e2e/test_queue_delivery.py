"""The outbound queue delivers: server A relays to server B through a [[route]], retries a
peer that defers, and bounces (RFC 3464 DSN) what a peer refuses back to the sender's INBOX."""
import email
import email.policy
import imaplib
import re

from harness import MAIL_USERS, SMTP_LISTENERS, TLS_CTX, TernServer, start_mail_server, submit, wait_for

ALICE = "alice@example.org"


def test_a_relays_to_b_through_a_route():
    b = TernServer(hostname="mx.b.test", listeners=SMTP_LISTENERS)
    a = None
    try:
        b.add_user("bob@b.test", "bob's long password")
        b.start()
        route = ("[queue]\ninterval = 1\nretry_base = 1\nretry_max = 2\n"
                 f'[[route]]\ndomain = "b.test"\nhost = "127.0.0.1"\nport = {b.port("smtp", "starttls")}\n')
        a = start_mail_server(extra_config=route)
        # Dot-stuffed on the wire; stored (and relayed) as ".leading dot".
        submit(a, ALICE, ["bob@b.test"],
               b"Subject: across\r\nFrom: <alice@example.org>\r\n\r\n..leading dot\r\nhello b\r\n")
        assert wait_for(lambda: len(b.messages("bob@b.test")) == 1), a.cli("queue", "list").stdout
        stored = b.message_bytes("bob@b.test", b.messages("bob@b.test")[0]["uid"])
        assert b"\r\n.leading dot\r\nhello b\r\n" in stored
        assert b"Subject: across" in stored
        # Delivered: the entry is gone from A's queue.
        assert wait_for(lambda: "0 messages" in a.cli("queue", "list").stdout)
    finally:
        if a:
            a.close()
        b.close()


class FlakyPeer:
    """A minimal SMTP server on loopback that answers RCPT with 451 for its first
    `failures` transactions and takes the message after that. `refuse` maps recipient
    addresses to the reply line RCPT gets for them every time (e.g. a 550)."""

    def __init__(self, failures=2, refuse=None):
        import socket
        import threading
        self.failures = failures
        self.refuse = refuse or {}
        self.transactions = 0
        self.messages = []
        self.accepted = []  # per message taken: the recipients RCPT accepted
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(5)
        self.port = self.sock.getsockname()[1]
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self):
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            with conn:
                f = conn.makefile("rb")
                conn.sendall(b"220 peer.test ESMTP\r\n")
                rcpts = []
                for line in f:
                    verb = line[:4].upper()
                    if verb == b"EHLO":
                        conn.sendall(b"250-peer.test\r\n250 8BITMIME\r\n")
                    elif verb == b"MAIL":
                        self.transactions += 1
                        rcpts = []
                        conn.sendall(b"250 ok\r\n")
                    elif verb == b"RCPT":
                        m = re.match(rb"RCPT TO:<([^>]*)>", line, re.I)
                        address = m.group(1).decode() if m else ""
                        if address in self.refuse:
                            conn.sendall(self.refuse[address].encode() + b"\r\n")
                        elif self.transactions <= self.failures:
                            conn.sendall(b"451 4.7.1 greylisted, try again\r\n")
                        else:
                            rcpts.append(address)
                            conn.sendall(b"250 ok\r\n")
                    elif verb == b"DATA":
                        conn.sendall(b"354 go\r\n")
                        body = b""
                        for data_line in f:
                            if data_line == b".\r\n":
                                break
                            body += data_line
                        self.messages.append(body)
                        self.accepted.append(rcpts)
                        conn.sendall(b"250 2.0.0 taken\r\n")
                    elif verb == b"QUIT":
                        conn.sendall(b"221 bye\r\n")
                        break
                    else:
                        conn.sendall(b"250 ok\r\n")

    def close(self):
        self.sock.close()


def test_deferred_twice_then_delivered():
    peer = FlakyPeer(failures=2)
    route = ("[queue]\ninterval = 1\nretry_base = 1\nretry_max = 1\n"
             f'[[route]]\ndomain = "flaky.test"\nhost = "127.0.0.1"\nport = {peer.port}\n')
    a = start_mail_server(extra_config=route)
    try:
        submit(a, ALICE, ["x@flaky.test"], b"Subject: flaky\r\n\r\nthird time lucky\r\n")
        assert wait_for(lambda: len(peer.messages) == 1, timeout=60), a.cli("queue", "list").stdout
        assert peer.transactions == 3
        assert b"third time lucky" in peer.messages[0]
        assert wait_for(lambda: "0 messages" in a.cli("queue", "list").stdout)
    finally:
        a.close()
        peer.close()


def imap_inbox(server, address):
    """Every message in the account's INBOX, read over IMAP (implicit TLS): raw bytes, UID order."""
    conn = imaplib.IMAP4_SSL("127.0.0.1", server.port("imap", "implicit"), ssl_context=TLS_CTX, timeout=30)
    try:
        assert conn.login(address, MAIL_USERS[address])[0] == "OK"
        assert conn.select("INBOX", readonly=True)[0] == "OK"
        typ, data = conn.uid("SEARCH", None, "ALL")
        assert typ == "OK", data
        out = []
        for uid in data[0].split():
            typ, fetched = conn.uid("FETCH", uid, "(BODY.PEEK[])")
            assert typ == "OK", fetched
            out.append(fetched[0][1])
        return out
    finally:
        conn.logout()


def delivery_status(dsn):
    """The per-recipient groups of a parsed multipart/report's message/delivery-status part."""
    parts = dsn.get_payload()
    assert len(parts) == 3, [p.get_content_type() for p in parts]
    assert parts[1].get_content_type() == "message/delivery-status"
    groups = parts[1].get_payload()
    assert groups[0]["Reporting-MTA"] == "dns; mail.test", groups[0].items()
    return groups[1:]


BOUNCE_LISTENERS = SMTP_LISTENERS + [("imap", "implicit")]


def bounce_server(peer):
    route = ("[queue]\ninterval = 1\nretry_base = 1\nretry_max = 1\n"
             f'[[route]]\ndomain = "refusing.test"\nhost = "127.0.0.1"\nport = {peer.port}\n')
    return start_mail_server(extra_config=route, listeners=BOUNCE_LISTENERS)


def test_refused_recipient_bounces_to_the_local_senders_inbox():
    peer = FlakyPeer(failures=0, refuse={"nobody@refusing.test": "550 5.1.1 <nobody@refusing.test>: no such user"})
    a = bounce_server(peer)
    try:
        content = b"Subject: doomed\r\nFrom: <alice@example.org>\r\n\r\nthis will come back\r\n"
        submit(a, ALICE, ["nobody@refusing.test"], content)
        assert wait_for(lambda: len(a.messages(ALICE)) == 1, timeout=60), a.cli("queue", "list").stdout
        [raw] = imap_inbox(a, ALICE)
        assert raw.startswith(b"Return-Path: <>\r\n"), raw[:200]
        dsn = email.message_from_bytes(raw, policy=email.policy.compat32)
        assert dsn.get_content_type() == "multipart/report"
        assert dsn.get_param("report-type") == "delivery-status"
        assert dsn["To"] == "<alice@example.org>"
        assert dsn["From"] == "Mail Delivery System <MAILER-DAEMON@mail.test>"
        assert dsn["Auto-Submitted"] == "auto-replied"
        text = dsn.get_payload()[0].get_payload()
        assert "nobody@refusing.test" in text and "550 5.1.1" in text, text
        [rcpt] = delivery_status(dsn)
        assert rcpt["Final-Recipient"] == "rfc822; nobody@refusing.test"
        assert rcpt["Action"] == "failed"
        assert rcpt["Status"] == "5.1.1"
        assert rcpt["Diagnostic-Code"] == "smtp; 550 5.1.1 <nobody@refusing.test>: no such user"
        returned = dsn.get_payload()[2]
        assert returned.get_content_type() == "message/rfc822"
        original = returned.get_payload()[0]
        assert original["Subject"] == "doomed"
        assert "this will come back" in original.get_payload()
        # Failed and bounced: nothing is left in the queue, and the peer took nothing.
        assert wait_for(lambda: "0 messages" in a.cli("queue", "list").stdout), a.cli("queue", "list").stdout
        assert peer.messages == []
    finally:
        a.close()
        peer.close()


def test_one_of_two_recipients_refused_the_other_delivered():
    peer = FlakyPeer(failures=0, refuse={"bad@refusing.test": "550 5.1.1 bad@refusing.test unknown here"})
    a = bounce_server(peer)
    try:
        submit(a, ALICE, ["good@refusing.test", "bad@refusing.test"], b"Subject: half\r\n\r\nto two\r\n")
        assert wait_for(lambda: len(a.messages(ALICE)) == 1, timeout=60), a.cli("queue", "list").stdout
        assert len(peer.messages) == 1
        assert peer.accepted == [["good@refusing.test"]]
        assert b"to two" in peer.messages[0]
        [raw] = imap_inbox(a, ALICE)
        dsn = email.message_from_bytes(raw, policy=email.policy.compat32)
        assert dsn.get_content_type() == "multipart/report"
        [rcpt] = delivery_status(dsn)
        assert rcpt["Final-Recipient"] == "rfc822; bad@refusing.test"
        assert rcpt["Diagnostic-Code"] == "smtp; 550 5.1.1 bad@refusing.test unknown here"
        assert b"good@refusing.test" not in raw.split(b"\r\n\r\n", 1)[1].split(b"message/rfc822")[0]
        assert wait_for(lambda: "0 messages" in a.cli("queue", "list").stdout), a.cli("queue", "list").stdout
    finally:
        a.close()
        peer.close()
