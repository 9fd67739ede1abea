"""SMTP sessions (issue T2): what each listener advertises, the simple commands, the order
commands must come in, and the DSN parameters (RFC 3461)."""

import smtplib

import pytest

from harness import TLS_CTX, SmtpWire, split_trace, start_mail_server

ALICE = "alice@example.org"
SENDER = "sender@remote.example"
MX_EXTENSIONS = {"PIPELINING", "SIZE", "8BITMIME", "SMTPUTF8", "ENHANCEDSTATUSCODES", "CHUNKING", "DSN"}


@pytest.fixture(scope="module")
def server():
    s = start_mail_server()
    yield s
    s.close()


def mx(server):
    return SmtpWire(server.port("smtp", "starttls"))


# ---- EHLO

def test_mx_ehlo_advertises_the_receiving_extensions_and_no_auth(server):
    with mx(server) as c:
        ext = c.ehlo()
        assert MX_EXTENSIONS | {"STARTTLS"} <= set(ext), ext
        assert "AUTH" not in ext
        assert int(ext["SIZE"]) == 50 * 1024 * 1024  # the default [limits] max_message_size
        c.starttls()
        ext = c.ehlo()
        assert MX_EXTENSIONS <= set(ext), ext
        assert "STARTTLS" not in ext and "AUTH" not in ext


def test_mx_refuses_auth(server):
    with mx(server) as c:
        c.starttls()
        c.ehlo()
        code, _ = c.cmd("AUTH PLAIN AGFsaWNlAHB3")
        assert code in (502, 503), code


def test_submission_587_offers_auth_only_after_starttls(server):
    with SmtpWire(server.port("submission", "starttls")) as c:
        ext = c.ehlo()
        assert "STARTTLS" in ext and "AUTH" not in ext
        code, text = c.cmd("AUTH PLAIN AGFsaWNlAHB3")
        assert (code == 538 and text.startswith("5.7.11")) or (code == 530 and text.startswith("5.7.0")), \
            (code, text)
        c.starttls()
        ext = c.ehlo()
        assert "STARTTLS" not in ext
        assert {"PLAIN", "LOGIN"} <= set(ext["AUTH"].upper().split()), ext


def test_submission_465_is_tls_from_the_first_byte_and_offers_auth(server):
    with SmtpWire(server.port("submission", "implicit"), implicit_tls=True) as c:
        assert c.sock.version() in ("TLSv1.2", "TLSv1.3")
        ext = c.ehlo()
        assert "STARTTLS" not in ext
        assert {"PLAIN", "LOGIN"} <= set(ext["AUTH"].upper().split()), ext


def test_smtplib_sees_the_mx_extensions(server):
    with smtplib.SMTP("127.0.0.1", server.port("smtp", "starttls"), timeout=20) as s:
        s.ehlo("client.test")
        for name in ("pipelining", "size", "8bitmime", "smtputf8", "chunking", "dsn", "starttls"):
            assert s.has_extn(name), name
        s.starttls(context=TLS_CTX)
        s.ehlo("client.test")
        assert s.has_extn("size") and not s.has_extn("starttls") and not s.has_extn("auth")


# ---- simple commands

def test_vrfy_help_rset_noop(server):
    with mx(server) as c:
        c.ehlo()
        assert c.cmd(f"VRFY {ALICE}")[0] == 252
        assert c.cmd("HELP")[0] == 214
        assert c.cmd("RSET")[0] == 250
        assert c.cmd("NOOP")[0] == 250
        assert c.cmd("QUIT")[0] == 221


def test_unknown_command_is_500_and_the_session_goes_on(server):
    with mx(server) as c:
        c.ehlo()
        code, text = c.cmd("FROBNICATE now")
        assert code == 500 and text.startswith("5.5.2"), (code, text)
        assert c.cmd("NOOP")[0] == 250


# ---- command order (RFC 5321 4.1.4, 4.3.2)

def test_mail_before_ehlo_is_503(server):
    with mx(server) as c:
        code, text = c.cmd(f"MAIL FROM:<{SENDER}>")
        assert code == 503 and text.startswith("5.5.1"), (code, text)
        c.ehlo()
        assert c.cmd(f"MAIL FROM:<{SENDER}>")[0] == 250


def test_rcpt_before_mail_is_503(server):
    with mx(server) as c:
        c.ehlo()
        code, _ = c.cmd(f"RCPT TO:<{ALICE}>")
        assert code == 503


def test_data_without_recipients_is_refused(server):
    with mx(server) as c:
        c.ehlo()
        code, text = c.cmd("DATA")
        assert code == 503, (code, text)  # no transaction at all
        assert c.cmd(f"MAIL FROM:<{SENDER}>")[0] == 250
        assert c.cmd("RCPT TO:<nobody@example.org>")[0] == 550
        code, text = c.cmd("DATA")
        assert (code, text[:5]) in ((503, "5.5.1"), (554, "5.5.1")), (code, text)
        assert c.cmd("NOOP")[0] == 250  # no 354, so nothing is read as message text


def test_second_mail_in_a_transaction_is_503(server):
    with mx(server) as c:
        c.ehlo()
        assert c.cmd(f"MAIL FROM:<{SENDER}>")[0] == 250
        assert c.cmd(f"MAIL FROM:<{SENDER}>")[0] == 503


def test_rset_abandons_the_transaction(server):
    mark = server.last_uid(ALICE)
    with mx(server) as c:
        c.ehlo()
        assert c.cmd(f"MAIL FROM:<{SENDER}>")[0] == 250
        assert c.cmd(f"RCPT TO:<{ALICE}>")[0] == 250
        assert c.cmd("RSET")[0] == 250
        assert c.cmd("DATA")[0] == 503
        assert c.cmd(f"RCPT TO:<{ALICE}>")[0] == 503
    assert server.messages_since(ALICE, mark) == []


def test_ehlo_again_resets_the_transaction(server):
    with mx(server) as c:
        c.ehlo()
        assert c.cmd(f"MAIL FROM:<{SENDER}>")[0] == 250
        c.ehlo()
        assert c.cmd(f"RCPT TO:<{ALICE}>")[0] == 503


def test_unknown_mail_parameter_is_refused(server):
    with mx(server) as c:
        c.ehlo()
        code, _ = c.cmd(f"MAIL FROM:<{SENDER}> FROBNICATE=yes")
        assert code in (555, 501), code  # RFC 5321 4.1.1.11: 555
        assert c.cmd(f"MAIL FROM:<{SENDER}>")[0] == 250


# ---- DSN parameters (RFC 3461)

def test_dsn_parameters_are_accepted(server):
    content = b"From: <sender@remote.example>\r\nSubject: dsn\r\n\r\nbody\r\n"
    mark = server.last_uid(ALICE)
    with mx(server) as c:
        assert "DSN" in c.ehlo()
        code, text = c.cmd(f"MAIL FROM:<{SENDER}> RET=HDRS ENVID=abc")
        assert code == 250, (code, text)
        code, text = c.cmd(f"RCPT TO:<{ALICE}> NOTIFY=SUCCESS,FAILURE ORCPT=rfc822;{ALICE}")
        assert code == 250, (code, text)
        assert c.data(content)[0] == 250
    [stored] = server.messages_since(ALICE, mark)
    assert split_trace(stored)[2] == content


def test_dsn_notify_never_and_ret_full(server):
    with mx(server) as c:
        c.ehlo()
        assert c.cmd(f"MAIL FROM:<{SENDER}> RET=FULL ENVID=QQ314159+2B")[0] == 250
        assert c.cmd(f"RCPT TO:<{ALICE}> NOTIFY=NEVER")[0] == 250
