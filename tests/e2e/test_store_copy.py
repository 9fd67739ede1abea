"""`tern store copy`: moving an SQLite-backed installation onto PostgreSQL.

Runs only in the PostgreSQL e2e pass (TERN_E2E_PG_URL set, as scripts/test does): the source
is an SQLite store filled through the CLI, the destination a fresh PostgreSQL database, and
a server started on the copy must let the same users log in. Messages cannot be delivered
over the wire yet, so their copy (UIDs, MODSEQs, flags) is covered by the store tests
(StoreConformance.CopyKeepsUidsModseqsAndEverythingElse, PgStore.CopyFromSqliteKeepsUidsAndModseqs).
"""

import imaplib
import os
import poplib
import ssl
import subprocess

import pytest

from harness import TernServer, tern_binary

CTX = ssl._create_unverified_context()
ALICE = "alice@example.org"
BOB = "bob@example.net"
PASSWORD = "correct horse battery staple"

pytestmark = pytest.mark.skipif(
    not os.environ.get("TERN_E2E_PG_URL"),
    reason="tern store copy copies into PostgreSQL: needs TERN_E2E_PG_URL (the PostgreSQL e2e pass)")


def store_copy(src, dst):
    return subprocess.run([tern_binary(), "store", "copy", "--from", str(src.config_path),
                           "--to", str(dst.config_path)], capture_output=True, text=True, timeout=120)


def app_passwords(server, address):
    """(label, created, last used) of each app password; ids are the store's own."""
    lines = server.cli("user", "app-password", "list", address).stdout.splitlines()
    return sorted(tuple(line.split("\t")[1:]) for line in lines if line.strip())


@pytest.fixture
def sqlite_source(monkeypatch):
    """An SQLite-backed installation, filled through the CLI (not running)."""
    pg_url = os.environ["TERN_E2E_PG_URL"]
    monkeypatch.delenv("TERN_E2E_PG_URL")
    server = TernServer()
    monkeypatch.setenv("TERN_E2E_PG_URL", pg_url)
    assert server.pg_database is None
    server.add_user(ALICE, PASSWORD)
    server.add_user(BOB, "bob's password")
    _, app_pw = server.add_app_password(ALICE, label="phone")
    server.cli("alias", "add", "postmaster@example.org", ALICE, "someone@elsewhere.test")
    yield server, app_pw
    server.close()


@pytest.fixture
def pg_destination():
    server = TernServer()
    assert server.pg_database is not None
    yield server
    server.close()


def test_copy_keeps_accounts_app_passwords_and_aliases(sqlite_source, pg_destination):
    src, app_pw = sqlite_source
    dst = pg_destination
    res = store_copy(src, dst)
    assert res.returncode == 0, res.stderr
    assert "copied 2 domains, 2 accounts, 1 aliases, 12 mailboxes, 0 messages" in res.stdout

    for args in (("domain", "list"), ("user", "list"), ("alias", "list")):
        assert dst.cli(*args).stdout == src.cli(*args).stdout
    assert app_passwords(dst, ALICE) == app_passwords(src, ALICE)
    assert len(app_passwords(dst, ALICE)) == 1

    # A server on the copy accepts the same passwords.
    dst.start()
    conn = imaplib.IMAP4_SSL("127.0.0.1", dst.port("imap", "implicit"), ssl_context=CTX, timeout=20)
    assert conn.login(ALICE, PASSWORD)[0] == "OK"
    conn.logout()
    conn = imaplib.IMAP4_SSL("127.0.0.1", dst.port("imap", "implicit"), ssl_context=CTX, timeout=20)
    assert conn.login(ALICE, app_pw)[0] == "OK"
    conn.logout()
    conn = imaplib.IMAP4_SSL("127.0.0.1", dst.port("imap", "implicit"), ssl_context=CTX, timeout=20)
    with pytest.raises(imaplib.IMAP4.error, match="AUTHENTICATIONFAILED"):
        conn.login(ALICE, "not the password")
    conn.logout()
    pop = poplib.POP3_SSL("127.0.0.1", dst.port("pop3", "implicit"), context=CTX, timeout=20)
    pop.user(BOB)
    assert pop.pass_("bob's password").startswith(b"+OK")
    pop.quit()


def test_copy_refuses_a_destination_with_the_same_domains(sqlite_source, pg_destination):
    src, _ = sqlite_source
    dst = pg_destination
    dst.cli("domain", "add", "example.net")
    res = store_copy(src, dst)
    assert res.returncode != 0
    assert "example.net" in res.stderr
    # Nothing was copied.
    assert dst.cli("domain", "list").stdout.split() == ["example.net"]
    assert dst.cli("user", "list").stdout.strip() == ""
