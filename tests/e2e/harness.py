"""Starts a real `tern serve` for end-to-end tests and drives its CLI.

A TernServer owns a fresh data directory and a config whose listeners all bind to
127.0.0.1 port 0; the server prints the ports it got ("listening imap 127.0.0.1:41234
tls=starttls"), which the harness reads back. Later protocol suites reuse this module.
"""

import base64
import os
import re
import signal
import smtplib
import socket
import ssl
import subprocess
import tempfile
import threading
import time
import uuid
from pathlib import Path

LISTENERS = [
    ("smtp", "starttls"),
    ("submission", "starttls"),
    ("submission", "implicit"),
    ("imap", "starttls"),
    ("imap", "implicit"),
    ("pop3", "starttls"),
    ("pop3", "implicit"),
]

_LISTEN_RE = re.compile(r"^listening (\w+) ([\d.]+|\[[0-9a-f:]+\]):(\d+) tls=(\w+)$")


def tern_binary():
    path = os.environ.get("TERN_BIN")
    if not path:
        path = str(Path(__file__).resolve().parents[2] / "build" / "release" / "src" / "cli" / "tern")
    if not os.access(path, os.X_OK):
        raise RuntimeError(f"tern binary not found at {path}; build first or set TERN_BIN")
    return path


class TernServer:
    def __init__(self, hostname="mail.test", extra_config="", listeners=LISTENERS,
                 proxy_protocol=False, same_store_as=None):
        """proxy_protocol=True sets proxy_protocol on every listener (extra_config must then
        give proxy_trusted). same_store_as=<a TernServer> makes this a second node on that
        server's PostgreSQL database (the PostgreSQL pass only); the first server drops it."""
        self.tmp = tempfile.TemporaryDirectory(prefix="tern-e2e-")
        self.dir = Path(self.tmp.name)
        self.data_dir = self.dir / "data"
        self.config_path = self.dir / "tern.toml"
        self.hostname = hostname
        lines = [
            f'hostname = "{hostname}"',
            f'data_dir = "{self.data_dir}"',
            "threads = 2",
            extra_config,
        ]
        # TERN_E2E_PG_URL runs the suite on the PostgreSQL backend: each server gets a
        # database of its own on that cluster.
        self.pg_admin_url = os.environ.get("TERN_E2E_PG_URL")
        self.pg_database = None
        if same_store_as is not None:
            assert self.pg_admin_url and same_store_as.pg_database, "two nodes need the PostgreSQL store"
            url = self.pg_admin_url.rsplit("/", 1)[0] + "/" + same_store_as.pg_database
            lines += ["[store]", 'backend = "postgres"', "[store.postgres]", f'url = "{url}"']
        elif self.pg_admin_url:
            self.pg_database = "tern_e2e_" + uuid.uuid4().hex[:12]
            self._psql(f"CREATE DATABASE {self.pg_database}")
            url = self.pg_admin_url.rsplit("/", 1)[0] + "/" + self.pg_database
            lines += ["[store]", 'backend = "postgres"', "[store.postgres]", f'url = "{url}"']
        for proto, tls in listeners:
            lines += ["[[listener]]", f'protocol = "{proto}"', 'address = "127.0.0.1"', "port = 0", f'tls = "{tls}"']
            if proxy_protocol:
                lines.append("proxy_protocol = true")
        self.config_path.write_text("\n".join(lines) + "\n")
        self.proc = None
        self.endpoints = {}  # (protocol, tls) -> port
        self.log_lines = []

    # ---- process control
    def start(self, timeout=30, open_files=None):
        """open_files=N starts the server with a soft RLIMIT_NOFILE of N (hard limit kept)."""
        def limit():
            import resource
            resource.setrlimit(resource.RLIMIT_NOFILE, (open_files, resource.getrlimit(resource.RLIMIT_NOFILE)[1]))
        self.proc = subprocess.Popen(
            [tern_binary(), "serve", "--config", str(self.config_path)],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
            preexec_fn=limit if open_files else None)
        threading.Thread(target=self._drain_stderr, daemon=True).start()
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            line = self.proc.stdout.readline()
            if not line:
                raise RuntimeError("tern serve exited before ready:\n" + "\n".join(self.log_lines[-30:]))
            line = line.strip()
            m = _LISTEN_RE.match(line)
            if m:
                self.endpoints[(m.group(1), m.group(4))] = int(m.group(3))
            elif line == "ready":
                threading.Thread(target=self._drain_stdout, daemon=True).start()
                return self
        raise RuntimeError("tern serve did not become ready in time")

    def _drain_stderr(self):
        for line in self.proc.stderr:
            self.log_lines.append(line.rstrip("\n"))

    def _drain_stdout(self):
        for line in self.proc.stdout:
            self.log_lines.append(line.rstrip("\n"))

    def signal(self, sig):
        self.proc.send_signal(sig)

    def stop(self, timeout=30):
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        return self.proc.returncode if self.proc else None

    def close(self):
        self.stop()
        if self.pg_database:
            self._psql(f"DROP DATABASE IF EXISTS {self.pg_database} WITH (FORCE)")
        self.tmp.cleanup()

    def _psql(self, sql):
        subprocess.run(["psql", "-X", "-q", "-v", "ON_ERROR_STOP=1", self.pg_admin_url, "-c", sql],
                       check=True, capture_output=True, timeout=60)

    def port(self, protocol, tls):
        return self.endpoints[(protocol, tls)]

    # ---- the CLI, against the same config (and so the same store)
    def cli(self, *args, input=None, check=True):
        res = subprocess.run([tern_binary(), "--config", str(self.config_path), *args],
                             input=input, capture_output=True, text=True, timeout=60)
        if check and res.returncode != 0:
            raise AssertionError(f"tern {' '.join(args)} failed ({res.returncode}): {res.stderr}")
        return res

    def add_user(self, address, password):
        domain = address.split("@", 1)[1]
        if domain not in self.cli("domain", "list").stdout.split():
            self.cli("domain", "add", domain)
        self.cli("user", "add", address, input=password + "\n")

    def add_app_password(self, address, label="test"):
        out = self.cli("user", "app-password", "add", address, "--label", label).stdout
        m = re.search(r"app password (\d+) \(.*?\) for \S+: (\S+)", out)
        assert m, out
        return int(m.group(1)), m.group(2)

    # ---- stored mail, read back through `tern message list|show`
    def messages(self, address, mailbox="INBOX"):
        """The mailbox's messages in UID order, each a dict with uid, size, flags (a list of
        flag names) and date (the internal date as printed, UTC)."""
        out = self.cli("message", "list", address, "--mailbox", mailbox).stdout
        result = []
        for line in out.splitlines():
            uid, size, flags, date = line.split("\t")
            assert flags.startswith("(") and flags.endswith(")"), line
            result.append({"uid": int(uid), "size": int(size), "flags": flags[1:-1].split(), "date": date})
        return result

    def message_bytes(self, address, uid, mailbox="INBOX"):
        """The exact stored bytes of one message."""
        res = subprocess.run([tern_binary(), "--config", str(self.config_path), "message", "show",
                              address, str(uid), "--mailbox", mailbox], capture_output=True, timeout=60)
        if res.returncode != 0:
            raise AssertionError(f"tern message show {address} {uid} failed ({res.returncode}): "
                                 f"{res.stderr.decode(errors='replace')}")
        return res.stdout

    def mailbox_bytes(self, address, mailbox="INBOX"):
        """The stored bytes of every message in the mailbox, in UID order."""
        return [self.message_bytes(address, m["uid"], mailbox) for m in self.messages(address, mailbox)]

    def last_uid(self, address, mailbox="INBOX"):
        """The highest UID in the mailbox, 0 when it is empty: a mark for messages_since."""
        msgs = self.messages(address, mailbox)
        return msgs[-1]["uid"] if msgs else 0

    def messages_since(self, address, mark, mailbox="INBOX"):
        """The stored bytes of the messages with a UID above `mark` (from last_uid), in order."""
        return [self.message_bytes(address, m["uid"], mailbox)
                for m in self.messages(address, mailbox) if m["uid"] > mark]


    # ---- filling mailboxes over SMTP (the MX listener)
    def deliver(self, rcpt, message, sender="sender@remote.example"):
        """Sends `message` (bytes or str, CRLF or LF line ends; smtplib dot-stuffs it) to `rcpt`
        through the MX listener; returns once the server has answered 250 (stored durably).
        The stored message gains Return-Path and Received lines on top."""
        if isinstance(message, str):
            message = message.encode()
        with smtplib.SMTP("127.0.0.1", self.port("smtp", "starttls"), timeout=30) as s:
            s.ehlo("client.example")
            refused = s.sendmail(sender, [rcpt], message)
            assert not refused, refused


# ---- SMTP helpers shared by the test_smtp*.py suites

TLS_CTX = ssl._create_unverified_context()
SMTP_LISTENERS = [("smtp", "starttls"), ("submission", "starttls"), ("submission", "implicit")]
# The accounts of start_mail_server, address -> password.
MAIL_USERS = {
    "alice@example.org": "alice's long password",
    "bob@example.org": "bob's long password",
    "carol@example.org": "carol's long password",
}


def start_mail_server(extra_config="", listeners=SMTP_LISTENERS):
    """A started server for domain example.org with the accounts of MAIL_USERS."""
    server = TernServer(extra_config=extra_config, listeners=listeners)
    try:
        for address, password in MAIL_USERS.items():
            server.add_user(address, password)
        server.start()
    except BaseException:
        server.close()
        raise
    return server


class SmtpWire:
    """A raw SMTP client on a socket, for what smtplib will not send: pipelined commands,
    exact DATA bytes, BDAT chunks, malformed input. Replies are (code, text) with the
    lines of a multi-line reply joined by newlines."""

    def __init__(self, port, implicit_tls=False, timeout=20):
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=timeout)
        if implicit_tls:
            self.sock = TLS_CTX.wrap_socket(self.sock, server_hostname="mail.test")
        self.f = self.sock.makefile("rb")
        self.greeting = self.reply()
        assert self.greeting[0] == 220, self.greeting

    def send(self, data):
        self.sock.sendall(data)

    def reply(self):
        """Reads one reply; raises EOFError when the server has closed the connection."""
        code, lines = None, []
        while True:
            line = self.f.readline()
            if not line:
                raise EOFError("connection closed" + (f" after {lines}" if lines else ""))
            assert line.endswith(b"\r\n") and len(line) >= 5, line
            code = int(line[:3])
            lines.append(line[4:-2].decode("utf-8", "replace"))
            if line[3:4] == b" ":
                return code, "\n".join(lines)
            assert line[3:4] == b"-", line

    def cmd(self, line):
        self.send((line.encode() if isinstance(line, str) else line) + b"\r\n")
        return self.reply()

    def ehlo(self, name="client.test"):
        """EHLO; returns the extension keywords (upper case) mapped to their parameters."""
        code, text = self.cmd(f"EHLO {name}")
        assert code == 250, (code, text)
        ext = {}
        for line in text.split("\n")[1:]:
            keyword, _, params = line.partition(" ")
            ext[keyword.upper()] = params
        return ext

    def starttls(self):
        code, text = self.cmd("STARTTLS")
        assert code == 220, (code, text)
        self.sock = TLS_CTX.wrap_socket(self.sock, server_hostname="mail.test")
        self.f = self.sock.makefile("rb")

    def data(self, content):
        """DATA with `content` sent exactly as given (already dot-stuffed, ending in CRLF),
        then the terminating ".". Returns the reply after the content."""
        code, text = self.cmd("DATA")
        assert code == 354, (code, text)
        self.send(content + b".\r\n")
        return self.reply()

    def read_all(self):
        """Every reply until the server closes the connection."""
        replies = []
        while True:
            try:
                replies.append(self.reply())
            except (EOFError, ConnectionResetError):
                return replies

    def close(self):
        try:
            self.sock.close()
        except OSError:
            pass

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


def submit(server, sender, recipients, content):
    """`sender` (an account of MAIL_USERS) submits `content` (CRLF line ends, sent as given:
    dot-stuff lines that start with ".") to `recipients` on the submission port, after
    STARTTLS and AUTH PLAIN; asserts the 250."""
    c = SmtpWire(server.port("submission", "starttls"))
    try:
        c.ehlo()
        c.starttls()
        c.ehlo()
        token = base64.b64encode(f"\0{sender}\0{MAIL_USERS[sender]}".encode()).decode()
        assert c.cmd(f"AUTH PLAIN {token}")[0] == 235
        assert c.cmd(f"MAIL FROM:<{sender}>")[0] == 250
        for r in recipients:
            assert c.cmd(f"RCPT TO:<{r}>")[0] == 250
        code, text = c.data(content)
        assert code == 250, (code, text)
    finally:
        c.close()


def wait_for(predicate, timeout=30):
    """Polls `predicate` every 0.2 s until it is true (returns True) or `timeout` seconds
    have passed (returns False): for effects that happen in the background, like queue
    delivery."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.2)
    return False


def dot_stuff(content):
    """SMTP transparency (RFC 5321 4.5.2): a line starting with "." gets another "."."""
    return re.sub(rb"(?m)^\.", b"..", content)


_TRACE_RE = re.compile(rb"Return-Path: <([^>\r\n]*)>\r\nReceived:[^\r\n]*\r\n(?:[ \t][^\r\n]*\r\n)*")


def split_trace(stored):
    """Splits a delivered message into (return_path, received, rest): the message must start
    with one "Return-Path: <...>" line followed by one Received: field (folded or not).
    `received` is the unfolded field body; `rest` is everything after it."""
    m = _TRACE_RE.match(stored)
    assert m, f"stored message does not start with Return-Path and Received: {stored[:400]!r}"
    received = m.group(0)[m.group(0).index(b"Received:") + 9:]
    received = re.sub(rb"\r\n[ \t]+", b" ", received).strip().decode("utf-8", "replace")
    rest = stored[m.end():]
    return m.group(1).decode("utf-8", "replace"), received, rest
