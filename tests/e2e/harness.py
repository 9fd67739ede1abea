"""Starts a real `tern serve` for end-to-end tests and drives its CLI.

A TernServer owns a fresh data directory and a config whose listeners all bind to
127.0.0.1 port 0; the server prints the ports it got ("listening imap 127.0.0.1:41234
tls=starttls"), which the harness reads back. Later protocol suites reuse this module.
"""

import os
import re
import signal
import smtplib
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
                 proxy_protocol=False):
        """proxy_protocol=True sets proxy_protocol on every listener (extra_config must then
        give proxy_trusted)."""
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
        if self.pg_admin_url:
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
    def start(self, timeout=30):
        self.proc = subprocess.Popen(
            [tern_binary(), "serve", "--config", str(self.config_path)],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
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
