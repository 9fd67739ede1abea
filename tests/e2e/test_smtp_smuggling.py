"""Line endings in message text (issue T2): SMTP smuggling, bare LF, bare CR and NUL.

Only CR LF "." CR LF ends DATA (RFC 5321 4.1.1.4). A client that hides a second
transaction behind a lone LF or CR variant of that sequence must get its whole text stored
as one message (or refused as a whole), and the hidden commands must never be answered
(SMTP smuggling, CVE-2023-51764 and kin). Bare LF is normalised to CR LF by default or
refused with bare_lf = "reject"; a bare CR or a NUL is always refused."""

import re

import pytest

from harness import SmtpWire, dot_stuff, split_trace, start_mail_server

ALICE, BOB = "alice@example.org", "bob@example.org"
SENDER = "sender@remote.example"

SMUGGLED = (b"MAIL FROM:<evil@remote.example>\r\n"
            b"RCPT TO:<bob@example.org>\r\n"
            b"DATA\r\n"
            b"From: <evil@remote.example>\r\n"
            b"Subject: smuggled\r\n"
            b"\r\n"
            b"evil body\r\n")
LF_ENDINGS = [b"\n.\n", b"\n.\r\n", b"\r\n.\n"]
CR_ENDINGS = [b"\r.\r", b"\r\n.\r", b"\r.\r\n"]


@pytest.fixture(scope="module")
def server():
    s = start_mail_server()
    yield s
    s.close()


@pytest.fixture(scope="module")
def strict():
    s = start_mail_server(extra_config='[smtp]\nbare_lf = "reject"\n')
    yield s
    s.close()


def marks(server):
    return {a: server.last_uid(a) for a in (ALICE, BOB)}


def arrived(server, mark):
    return {a: server.messages_since(a, uid) for a, uid in mark.items()}


def smuggle(server, fake_end):
    """One transaction for alice whose text hides `fake_end` + a second transaction for bob,
    sent in one write together with the real end and QUIT. Returns every reply after the
    354, up to the server closing the connection."""
    content = (b"From: <sender@remote.example>\r\nTo: <alice@example.org>\r\nSubject: carrier\r\n\r\n"
               b"legit body" + fake_end + SMUGGLED)
    with SmtpWire(server.port("smtp", "starttls")) as c:
        c.ehlo()
        assert c.cmd(f"MAIL FROM:<{SENDER}>")[0] == 250
        assert c.cmd(f"RCPT TO:<{ALICE}>")[0] == 250
        assert c.cmd("DATA")[0] == 354
        c.send(content + b".\r\nQUIT\r\n")
        return c.read_all()


def refused(server, content):
    """Sends `content` as DATA for alice; returns (reply, the reply to a NOOP after it)."""
    with SmtpWire(server.port("smtp", "starttls")) as c:
        c.ehlo()
        assert c.cmd(f"MAIL FROM:<{SENDER}>")[0] == 250
        assert c.cmd(f"RCPT TO:<{ALICE}>")[0] == 250
        reply = c.data(content)
        return reply, c.cmd("NOOP")


@pytest.mark.parametrize("fake_end", LF_ENDINGS, ids=repr)
def test_smuggling_with_bare_lf_stores_one_message(server, fake_end):
    mark = marks(server)
    replies = smuggle(server, fake_end)
    assert [code for code, _ in replies] == [250, 221], replies  # the hidden commands got nothing
    got = arrived(server, mark)
    assert got[BOB] == []
    [stored] = got[ALICE]
    rest = split_trace(stored)[2]
    assert b"legit body" in rest and b"MAIL FROM:<evil@remote.example>" in rest and b"evil body" in rest
    assert re.search(rb"(?<!\r)\n", stored) is None, stored  # normalised to CR LF


@pytest.mark.parametrize("fake_end", CR_ENDINGS, ids=repr)
def test_smuggling_with_bare_cr_is_refused_whole(server, fake_end):
    mark = marks(server)
    replies = smuggle(server, fake_end)
    assert [code for code, _ in replies] == [550, 221], replies
    assert replies[0][1].startswith("5.6.0"), replies
    assert arrived(server, mark) == {ALICE: [], BOB: []}


@pytest.mark.parametrize("fake_end", LF_ENDINGS + CR_ENDINGS, ids=repr)
def test_smuggling_with_bare_lf_rejected_by_policy(strict, fake_end):
    mark = marks(strict)
    replies = smuggle(strict, fake_end)
    assert [code for code, _ in replies] == [550, 221], replies
    assert replies[0][1].startswith("5.6.0"), replies
    assert arrived(strict, mark) == {ALICE: [], BOB: []}


def test_bare_lf_is_normalised_to_crlf_by_default(server):
    content = b"From: <sender@remote.example>\nSubject: bare lf\n\nline one\nline two\r\nline three\n\r\n"
    mark = marks(server)
    with SmtpWire(server.port("smtp", "starttls")) as c:
        c.ehlo()
        assert c.cmd(f"MAIL FROM:<{SENDER}>")[0] == 250
        assert c.cmd(f"RCPT TO:<{ALICE}>")[0] == 250
        assert c.data(content)[0] == 250
    [stored] = arrived(server, mark)[ALICE]
    assert split_trace(stored)[2] == re.sub(rb"(?<!\r)\n", b"\r\n", content)


def test_bare_lf_is_refused_with_the_reject_policy(strict):
    mark = marks(strict)
    (code, text), noop = refused(strict, b"Subject: bare lf\n\nline one\nline two\r\n")
    assert code == 550 and text.startswith("5.6.0"), (code, text)
    assert noop[0] == 250
    assert arrived(strict, mark)[ALICE] == []


def test_the_reject_policy_takes_proper_crlf_mail(strict):
    content = b"From: <sender@remote.example>\r\nSubject: fine\r\n\r\n.dot line\r\nbody\r\n"
    mark = marks(strict)
    with SmtpWire(strict.port("smtp", "starttls")) as c:
        c.ehlo()
        assert c.cmd(f"MAIL FROM:<{SENDER}>")[0] == 250
        assert c.cmd(f"RCPT TO:<{ALICE}>")[0] == 250
        assert c.data(dot_stuff(content))[0] == 250
    [stored] = arrived(strict, mark)[ALICE]
    assert split_trace(stored)[2] == content


def test_bare_cr_is_refused(server):
    mark = marks(server)
    (code, text), noop = refused(server, b"Subject: bare cr\r\n\r\nline one\rstill line one\r\n")
    assert code == 550 and text.startswith("5.6.0"), (code, text)
    assert noop[0] == 250
    assert arrived(server, mark)[ALICE] == []


def test_nul_is_refused(server):
    mark = marks(server)
    (code, text), noop = refused(server, b"Subject: nul\r\n\r\nbefore\x00after\r\n")
    assert 500 <= code < 600, (code, text)
    assert noop[0] == 250
    assert arrived(server, mark)[ALICE] == []
