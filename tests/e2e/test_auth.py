"""Logging in over each protocol, with the main password and with app passwords."""

import base64
import imaplib
import poplib
import smtplib
import socket
import ssl

import pytest

from conftest import PASSWORD, USER
from harness import TernServer

CTX = ssl._create_unverified_context()


# ---- IMAP

def test_imap_refuses_login_before_tls(tern):
    conn = imaplib.IMAP4("127.0.0.1", tern.port("imap", "starttls"), timeout=20)
    assert "LOGINDISABLED" in conn.capabilities and "STARTTLS" in conn.capabilities
    with pytest.raises(imaplib.IMAP4.error):
        conn.login(USER, PASSWORD)
    conn.logout()


def test_imap_login_after_starttls(tern):
    conn = imaplib.IMAP4("127.0.0.1", tern.port("imap", "starttls"), timeout=20)
    conn.starttls(ssl_context=CTX)
    assert "LOGINDISABLED" not in conn.capabilities and "STARTTLS" not in conn.capabilities
    typ, _ = conn.login(USER, PASSWORD)
    assert typ == "OK"
    conn.logout()


def test_imap_authenticate_plain_with_initial_response(tern):
    conn = imaplib.IMAP4_SSL("127.0.0.1", tern.port("imap", "implicit"), ssl_context=CTX, timeout=20)
    assert "AUTH=PLAIN" in conn.capabilities and "SASL-IR" in conn.capabilities
    typ, _ = conn.authenticate("PLAIN", lambda _: f"\0{USER}\0{PASSWORD}".encode())
    assert typ == "OK"
    conn.logout()


def test_imap_wrong_password_says_authenticationfailed(tern):
    conn = imaplib.IMAP4_SSL("127.0.0.1", tern.port("imap", "implicit"), ssl_context=CTX, timeout=20)
    with pytest.raises(imaplib.IMAP4.error, match="AUTHENTICATIONFAILED"):
        conn.login(USER, "not the password")
    with pytest.raises(imaplib.IMAP4.error, match="AUTHENTICATIONFAILED"):
        conn.login("nobody@example.org", "not the password")
    conn.logout()


def test_imap_login_with_literal_password(tern):
    """Passwords with spaces or quotes reach the server as literals (RFC 3501 4.3)."""
    with socket.create_connection(("127.0.0.1", tern.port("imap", "implicit")), timeout=20) as raw:
        with CTX.wrap_socket(raw, server_hostname="mail.test") as s:
            f = s.makefile("rb")
            assert f.readline().startswith(b"* OK")
            pw = PASSWORD.encode()
            s.sendall(b"a LOGIN " + USER.encode() + b" {%d}\r\n" % len(pw))
            assert f.readline().startswith(b"+")
            s.sendall(pw + b"\r\n")
            line = f.readline()
            while line.startswith(b"*"):
                line = f.readline()
            assert line.startswith(b"a OK"), line


# ---- POP3

def test_pop3_user_pass_after_stls(tern):
    conn = poplib.POP3("127.0.0.1", tern.port("pop3", "starttls"), timeout=20)
    assert "STLS" in conn.capa()
    conn.stls(context=CTX)
    conn.user(USER)
    assert conn.pass_(PASSWORD).startswith(b"+OK")
    conn.quit()


def test_pop3_refuses_plaintext_password_before_tls(tern):
    conn = poplib.POP3("127.0.0.1", tern.port("pop3", "starttls"), timeout=20)
    with pytest.raises(poplib.error_proto, match=r"\[AUTH\]"):
        conn.user(USER)
        conn.pass_(PASSWORD)
    conn.quit()


def test_pop3_auth_plain_on_implicit_tls(tern):
    conn = poplib.POP3_SSL("127.0.0.1", tern.port("pop3", "implicit"), context=CTX, timeout=20)
    token = base64.b64encode(f"\0{USER}\0{PASSWORD}".encode()).decode()
    assert conn._shortcmd(f"AUTH PLAIN {token}").startswith(b"+OK")
    conn.quit()


def test_pop3_wrong_password(tern):
    conn = poplib.POP3_SSL("127.0.0.1", tern.port("pop3", "implicit"), context=CTX, timeout=20)
    conn.user(USER)
    with pytest.raises(poplib.error_proto, match=r"\[AUTH\]"):
        conn.pass_("wrong")


# ---- SMTP submission

def test_submission_auth_after_starttls(tern):
    with smtplib.SMTP("127.0.0.1", tern.port("submission", "starttls"), timeout=20) as s:
        s.ehlo("client.test")
        assert s.has_extn("starttls") and not s.has_extn("auth")
        s.starttls(context=CTX)
        s.ehlo("client.test")
        assert "PLAIN" in s.esmtp_features["auth"].upper()
        code, _ = s.login(USER, PASSWORD)
        assert code == 235


def test_submission_implicit_tls_auth_login(tern):
    with smtplib.SMTP_SSL("127.0.0.1", tern.port("submission", "implicit"), context=CTX, timeout=20) as s:
        s.ehlo("client.test")
        s.user, s.password = USER, PASSWORD
        code, _ = s.auth("LOGIN", s.auth_login, initial_response_ok=False)
        assert code == 235


def test_submission_wrong_password_535(tern):
    with smtplib.SMTP_SSL("127.0.0.1", tern.port("submission", "implicit"), context=CTX, timeout=20) as s:
        s.ehlo("client.test")
        with pytest.raises(smtplib.SMTPAuthenticationError) as err:
            s.login(USER, "wrong")
        assert err.value.smtp_code == 535


def test_mx_listener_offers_no_auth(tern):
    with smtplib.SMTP("127.0.0.1", tern.port("smtp", "starttls"), timeout=20) as s:
        s.ehlo("peer.test")
        s.starttls(context=CTX)
        s.ehlo("peer.test")
        assert not s.has_extn("auth")


# ---- app passwords on every protocol

def test_app_password_works_everywhere_and_revokes_alone(tern):
    pid, pw = tern.add_app_password(USER, "laptop")
    _, other = tern.add_app_password(USER, "tablet")
    imap = imaplib.IMAP4_SSL("127.0.0.1", tern.port("imap", "implicit"), ssl_context=CTX, timeout=20)
    assert imap.login(USER, pw)[0] == "OK"
    imap.logout()
    pop = poplib.POP3_SSL("127.0.0.1", tern.port("pop3", "implicit"), context=CTX, timeout=20)
    pop.user(USER)
    assert pop.pass_(pw).startswith(b"+OK")
    pop.quit()
    with smtplib.SMTP_SSL("127.0.0.1", tern.port("submission", "implicit"), context=CTX, timeout=20) as s:
        assert s.login(USER, pw)[0] == 235
    tern.cli("user", "app-password", "del", USER, str(pid))
    with smtplib.SMTP_SSL("127.0.0.1", tern.port("submission", "implicit"), context=CTX, timeout=20) as s:
        with pytest.raises(smtplib.SMTPAuthenticationError):
            s.login(USER, pw)
        assert s.login(USER, other)[0] == 235


# ---- throttling

def test_repeated_failures_lock_out_without_revealing_accounts():
    server = TernServer(extra_config="[auth]\nthrottle_free_failures = 1\nthrottle_base_delay_ms = 10\n"
                                     "throttle_lockout_failures = 4\nthrottle_window = 600\n",
                        listeners=[("imap", "implicit")])
    server.add_user(USER, PASSWORD)
    server.start()
    try:
        def attempt(user, pw):
            conn = imaplib.IMAP4_SSL("127.0.0.1", server.port("imap", "implicit"), ssl_context=CTX, timeout=30)
            try:
                conn.login(user, pw)
                return "OK"
            except imaplib.IMAP4.error as e:
                return str(e)
            finally:
                conn.shutdown()

        for _ in range(4):
            assert "AUTHENTICATIONFAILED" in attempt(USER, "wrong")
        # Locked out now: even the right password is refused, and so would anyone's be.
        locked = attempt(USER, PASSWORD)
        assert locked != "OK"
        assert attempt("nobody@example.org", "x") != "OK"
    finally:
        server.close()
