"""The outbound queue delivers: server A relays to server B through a [[route]]."""
import base64
import time

from harness import SMTP_LISTENERS, SmtpWire, TernServer, start_mail_server

ALICE = "alice@example.org"


def wait_for(predicate, timeout=30):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.2)
    return False


def test_a_relays_to_b_through_a_route():
    b = TernServer(hostname="mx.b.test", listeners=SMTP_LISTENERS)
    a = None
    try:
        b.add_user("bob@b.test", "bob's long password")
        b.start()
        route = ("[queue]\ninterval = 1\nretry_base = 1\nretry_max = 2\n"
                 f'[[route]]\ndomain = "b.test"\nhost = "127.0.0.1"\nport = {b.port("smtp", "starttls")}\n')
        a = start_mail_server(extra_config=route)
        c = SmtpWire(a.port("submission", "starttls"))
        c.ehlo()
        c.starttls()
        c.ehlo()
        token = base64.b64encode(f"\0{ALICE}\0alice's long password".encode()).decode()
        assert c.cmd(f"AUTH PLAIN {token}")[0] == 235
        assert c.cmd(f"MAIL FROM:<{ALICE}>")[0] == 250
        assert c.cmd("RCPT TO:<bob@b.test>")[0] == 250
        # Dot-stuffed on the wire; stored (and relayed) as ".leading dot".
        content = b"Subject: across\r\nFrom: <alice@example.org>\r\n\r\n..leading dot\r\nhello b\r\n"
        code, text = c.data(content)
        assert code == 250, (code, text)
        c.close()
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
