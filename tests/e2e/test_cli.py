"""The administrative CLI, against a running server's store."""

import imaplib
import ssl
import subprocess
import tomllib

from conftest import PASSWORD, USER
from harness import tern_binary


def imap_login(tern, user, password):
    """True when an IMAP LOGIN over implicit TLS succeeds."""
    ctx = ssl._create_unverified_context()
    conn = imaplib.IMAP4_SSL("127.0.0.1", tern.port("imap", "implicit"), ssl_context=ctx, timeout=20)
    try:
        conn.login(user, password)
        return True
    except imaplib.IMAP4.error:
        return False
    finally:
        try:
            conn.logout()
        except Exception:
            pass


def test_version_and_help():
    out = subprocess.run([tern_binary(), "--version"], capture_output=True, text=True, check=True).stdout
    assert out.startswith("tern ")
    for cmd in (["serve"], ["config", "check"], ["domain"], ["user"], ["user", "app-password"], ["alias"]):
        res = subprocess.run([tern_binary(), *cmd, "--help"], capture_output=True, text=True)
        assert res.returncode == 0, (cmd, res.stderr)
        assert "Usage" in res.stdout or "usage" in res.stdout.lower()


def test_domain_commands(tern):
    tern.cli("domain", "add", "Other.Example")
    assert "other.example" in tern.cli("domain", "list").stdout.split()
    assert tern.cli("domain", "add", "other.example", check=False).returncode != 0
    assert tern.cli("domain", "add", "bad_domain!", check=False).returncode != 0
    tern.cli("domain", "del", "other.example")
    assert "other.example" not in tern.cli("domain", "list").stdout.split()


def test_domain_with_users_cannot_be_deleted(tern):
    res = tern.cli("domain", "del", "example.org", check=False)
    assert res.returncode != 0
    assert "example.org" in tern.cli("domain", "list").stdout.split()


def test_user_added_while_running_can_log_in(tern):
    tern.cli("user", "add", "bob@example.org", input="bob's secret\n")
    assert "bob@example.org" in tern.cli("user", "list").stdout.split()
    assert imap_login(tern, "bob@example.org", "bob's secret")
    assert imap_login(tern, "BOB@Example.ORG", "bob's secret")  # addresses are case-insensitive
    assert not imap_login(tern, "bob@example.org", "wrong")


def test_user_add_needs_a_local_domain_and_a_password(tern):
    res = tern.cli("user", "add", "carol@nowhere.example", input="pw\n", check=False)
    assert res.returncode != 0 and "tern domain add" in res.stderr
    res = tern.cli("user", "add", "carol@example.org", input="", check=False)
    assert res.returncode != 0 and "password" in res.stderr
    res = tern.cli("user", "add", USER, input="again\n", check=False)
    assert res.returncode != 0


def test_passwd_changes_the_password(tern):
    tern.cli("user", "add", "dave@example.org", input="old password\n")
    tern.cli("user", "passwd", "dave@example.org", input="new password\n")
    assert imap_login(tern, "dave@example.org", "new password")
    assert not imap_login(tern, "dave@example.org", "old password")


def test_user_del_removes_the_account(tern):
    tern.cli("user", "add", "erin@example.org", input="erin pw\n")
    tern.cli("user", "del", "erin@example.org")
    assert "erin@example.org" not in tern.cli("user", "list").stdout.split()
    assert not imap_login(tern, "erin@example.org", "erin pw")


def test_app_passwords(tern):
    pid, pw = tern.add_app_password(USER, "phone")
    assert len(pw) >= 20
    listing = tern.cli("user", "app-password", "list", USER).stdout
    assert "phone" in listing and pw not in listing  # the password is shown only once
    assert imap_login(tern, USER, pw)
    tern.cli("user", "app-password", "del", USER, str(pid))
    assert not imap_login(tern, USER, pw)
    assert imap_login(tern, USER, PASSWORD)  # the main password is untouched


def test_alias_commands(tern):
    tern.cli("alias", "add", "sales@example.org", USER, "partner@remote.example")
    out = tern.cli("alias", "list").stdout
    assert "sales@example.org -> alice@example.org, partner@remote.example" in out
    tern.cli("alias", "del", "sales@example.org", "partner@remote.example")
    assert "sales@example.org -> alice@example.org\n" in tern.cli("alias", "list").stdout
    tern.cli("alias", "del", "sales@example.org")
    assert "sales@example.org" not in tern.cli("alias", "list").stdout
    res = tern.cli("alias", "add", "x@not-local.example", USER, check=False)
    assert res.returncode != 0


def test_config_check_prints_the_effective_config(tern):
    res = tern.cli("config", "check", str(tern.config_path))
    effective = tomllib.loads(res.stdout)
    assert effective["hostname"] == "mail.test"
    assert effective["limits"]["max_message_size"] == 50 * 1024 * 1024  # a default, filled in
    assert len(effective["listener"]) == 7 and effective["listener"][0]["protocol"] == "smtp"


def test_config_check_names_a_bad_key(tmp_path):
    bad = tmp_path / "bad.toml"
    bad.write_text('hostname = "mx.example"\n[limits]\nmax_lien_length = 100\n')
    res = subprocess.run([tern_binary(), "config", "check", str(bad)], capture_output=True, text=True)
    assert res.returncode != 0
    assert "max_lien_length" in res.stderr and ":3" in res.stderr


def test_config_check_names_a_bad_value(tmp_path):
    bad = tmp_path / "bad.toml"
    bad.write_text('[[listener]]\nprotocol = "imap"\nport = 143\ntls = "sometimes"\n')
    res = subprocess.run([tern_binary(), "config", "check", str(bad)], capture_output=True, text=True)
    assert res.returncode != 0 and "tls" in res.stderr


def test_example_config_is_valid():
    from pathlib import Path
    example = Path(__file__).resolve().parents[2] / "etc" / "tern.toml.example"
    res = subprocess.run([tern_binary(), "config", "check", str(example)], capture_output=True, text=True)
    assert res.returncode == 0, res.stderr
