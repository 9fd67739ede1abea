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


class FlakyPeer:
    """A minimal SMTP server on loopback that answers RCPT with 451 for its first
    `failures` transactions and takes the message after that."""

    def __init__(self, failures=2):
        import socket
        import threading
        self.failures = failures
        self.transactions = 0
        self.messages = []
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
                for line in f:
                    verb = line[:4].upper()
                    if verb == b"EHLO":
                        conn.sendall(b"250-peer.test\r\n250 8BITMIME\r\n")
                    elif verb == b"MAIL":
                        self.transactions += 1
                        conn.sendall(b"250 ok\r\n")
                    elif verb == b"RCPT":
                        if self.transactions <= self.failures:
                            conn.sendall(b"451 4.7.1 greylisted, try again\r\n")
                        else:
                            conn.sendall(b"250 ok\r\n")
                    elif verb == b"DATA":
                        conn.sendall(b"354 go\r\n")
                        body = b""
                        for data_line in f:
                            if data_line == b".\r\n":
                                break
                            body += data_line
                        self.messages.append(body)
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
        c = SmtpWire(a.port("submission", "starttls"))
        c.ehlo()
        c.starttls()
        c.ehlo()
        token = base64.b64encode(f"\0{ALICE}\0alice's long password".encode()).decode()
        assert c.cmd(f"AUTH PLAIN {token}")[0] == 235
        assert c.cmd(f"MAIL FROM:<{ALICE}>")[0] == 250
        assert c.cmd("RCPT TO:<x@flaky.test>")[0] == 250
        code, text = c.data(b"Subject: flaky\r\n\r\nthird time lucky\r\n")
        assert code == 250, (code, text)
        c.close()
        assert wait_for(lambda: len(peer.messages) == 1, timeout=60), a.cli("queue", "list").stdout
        assert peer.transactions == 3
        assert b"third time lucky" in peer.messages[0]
        assert wait_for(lambda: "0 messages" in a.cli("queue", "list").stdout)
    finally:
        a.close()
        peer.close()
