"""Helpers for the POP3 end-to-end tests: a fresh user per test, its mail, a raw client."""

import itertools
import socket
import ssl

CTX = ssl._create_unverified_context()
PASSWORD = "pop3 test password"
_users = itertools.count(1)


def new_user(tern, prefix="pop"):
    """A new account on `tern` (its own maildrop, so tests do not see each other's mail)."""
    address = f"{prefix}{next(_users)}@example.org"
    tern.add_user(address, PASSWORD)
    return address


def message(subject, body="Hello.\r\n"):
    return (f"From: Sender <sender@remote.example>\r\nTo: <rcpt@example.org>\r\n"
            f"Subject: {subject}\r\nMessage-ID: <{subject.replace(' ', '.')}@remote.example>\r\n"
            f"\r\n{body}").encode()


def stored(raw):
    """`raw` as the store holds it: LF line ends made CRLF (SMTP), trace lines not included."""
    return raw.replace(b"\r\n", b"\n").replace(b"\n", b"\r\n")


class RawPop:
    """A line-level POP3 client over implicit TLS (or plain), for byte-exact checks."""

    def __init__(self, port, tls=True, timeout=30):
        sock = socket.create_connection(("127.0.0.1", port), timeout=timeout)
        self.sock = CTX.wrap_socket(sock, server_hostname="mail.test") if tls else sock
        self.f = self.sock.makefile("rb")
        self.greeting = self.line()

    def line(self):
        data = self.f.readline()
        if not data:
            return None
        assert data.endswith(b"\r\n"), data
        return data[:-2]

    def send(self, data):
        self.sock.sendall(data if isinstance(data, bytes) else data.encode())

    def cmd(self, text):
        self.send(text + "\r\n")
        return self.line()

    def multiline(self):
        """The body of a multi-line response: lines un-stuffed, CRLF ends kept."""
        out = []
        while True:
            line = self.line()
            assert line is not None, "connection closed inside a multi-line response"
            if line == b".":
                return b"".join(out)
            if line.startswith(b"."):
                line = line[1:]
            out.append(line + b"\r\n")

    def login(self, user, password=PASSWORD):
        assert self.cmd(f"USER {user}").startswith(b"+OK"), user
        reply = self.cmd(f"PASS {password}")
        assert reply.startswith(b"+OK"), reply
        return reply

    def close(self):
        try:
            self.sock.close()
        except OSError:
            pass
