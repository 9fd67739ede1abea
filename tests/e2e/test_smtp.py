"""Receiving mail on the MX listener (issue T2): which mailbox a message reaches, and that it
is stored byte for byte as sent, with only a Return-Path line and a Received field on top.

Other SMTP suites: test_smtp_session.py (commands, capabilities, sequencing),
test_smtp_limits.py, test_smtp_submission.py, test_smtp_smuggling.py (line endings),
test_smtp_message_cli.py (`tern message` itself)."""

import smtplib
import subprocess

import pytest

from harness import TLS_CTX, SmtpWire, dot_stuff, split_trace, start_mail_server

ALICE, BOB, CAROL = "alice@example.org", "bob@example.org", "carol@example.org"
SENDER = "sender@remote.example"


@pytest.fixture(scope="module")
def mx():
    server = start_mail_server()
    server.cli("alias", "add", "team@example.org", ALICE, BOB)
    server.cli("alias", "add", "fwd@example.org", CAROL, "someone@remote.example")
    yield server
    server.close()


def mx_port(server):
    return server.port("smtp", "starttls")


def marks(server, *addresses):
    return {a: server.last_uid(a) for a in addresses}


def arrived(server, mark):
    """address -> stored bytes of each message that arrived since `mark` (from marks())."""
    return {a: server.messages_since(a, uid) for a, uid in mark.items()}


def message(subject, body=b"Hello.\r\n", sender=SENDER, to=ALICE):
    return (f"From: <{sender}>\r\nTo: <{to}>\r\nSubject: {subject}\r\n\r\n").encode() + body


def transaction(conn, sender, recipients, content):
    """MAIL, RCPT each, DATA with `content` (dot-stuffed here). Returns the DATA reply."""
    assert conn.cmd(f"MAIL FROM:<{sender}>")[0] == 250
    for r in recipients:
        code, text = conn.cmd(f"RCPT TO:<{r}>")
        assert code == 250, (r, code, text)
    return conn.data(dot_stuff(content))


# ---- exact bytes and trace fields

def test_mx_delivery_stores_exact_bytes_under_return_path_and_received(mx):
    content = (b"From: Sender <sender@remote.example>\r\n"
               b"To: Alice <alice@example.org>\r\n"
               b"Subject: exact bytes\r\n"
               b"X-Folded: first part\r\n"
               b"\tsecond part\r\n"
               b"\r\n"
               b"first line\r\n"
               b".a line that starts with a dot\r\n"
               b"..two dots\r\n"
               b".\r\n"                       # a lone dot inside the body (sent as "..")
               b"   leading and trailing spaces   \r\n"
               b"\r\n"
               b"\r\n"
               b"last line\r\n")
    mark = marks(mx, ALICE)
    with SmtpWire(mx_port(mx)) as c:
        c.ehlo()
        code, text = transaction(c, SENDER, [ALICE], content)
        assert code == 250 and text.startswith("2.0.0"), (code, text)
        assert c.cmd("QUIT")[0] == 221
    [stored] = arrived(mx, mark)[ALICE]
    return_path, received, rest = split_trace(stored)
    assert return_path == SENDER
    assert rest == content  # unstuffed, and nothing added (no Message-ID or Date on MX)
    assert "by mail.test" in received and "client.test" in received, received
    assert "TLSv1" not in received, received  # this session was not encrypted


def test_mx_delivery_over_starttls_names_tls_in_received(mx):
    content = message("over tls")
    mark = marks(mx, ALICE)
    with smtplib.SMTP("127.0.0.1", mx_port(mx), local_hostname="client.test", timeout=20) as s:
        s.starttls(context=TLS_CTX)
        s.ehlo()
        version = s.sock.version()
        assert s.sendmail(SENDER, [ALICE], content) == {}
    [stored] = arrived(mx, mark)[ALICE]
    return_path, received, rest = split_trace(stored)
    assert return_path == SENDER and rest == content
    assert version in received, (version, received)


def test_mx_accepts_the_null_sender(mx):
    content = message("a bounce", sender="MAILER-DAEMON@remote.example")
    mark = marks(mx, ALICE)
    with SmtpWire(mx_port(mx)) as c:
        c.ehlo()
        assert transaction(c, "", [ALICE], content)[0] == 250
    [stored] = arrived(mx, mark)[ALICE]
    assert stored.startswith(b"Return-Path: <>\r\n")
    assert split_trace(stored)[2] == content


def test_helo_instead_of_ehlo_still_delivers(mx):
    content = message("after helo")
    mark = marks(mx, ALICE)
    with SmtpWire(mx_port(mx)) as c:
        code, _ = c.cmd("HELO client.test")
        assert code == 250
        assert transaction(c, SENDER, [ALICE], content)[0] == 250
    [stored] = arrived(mx, mark)[ALICE]
    assert split_trace(stored)[2] == content


def test_8bitmime_and_smtputf8_are_stored_unchanged(mx):
    sender = "jörg@example.net"
    content = ("From: Jörg <jörg@example.net>\r\nTo: <alice@example.org>\r\nSubject: Grüße\r\n"
               "\r\nÄpfel, Birnen und 日本語.\r\n").encode()
    mark = marks(mx, ALICE)
    with SmtpWire(mx_port(mx)) as c:
        c.ehlo()
        assert c.cmd(f"MAIL FROM:<{sender}> BODY=8BITMIME SMTPUTF8".encode())[0] == 250
        assert c.cmd(f"RCPT TO:<{ALICE}>")[0] == 250
        assert c.data(content)[0] == 250
    [stored] = arrived(mx, mark)[ALICE]
    return_path, _, rest = split_trace(stored)
    assert return_path == sender and rest == content


# ---- who gets the message

def test_relay_to_a_remote_domain_is_denied(mx):
    with SmtpWire(mx_port(mx)) as c:
        c.ehlo()
        assert c.cmd(f"MAIL FROM:<{SENDER}>")[0] == 250
        code, text = c.cmd("RCPT TO:<victim@elsewhere.example>")
        assert code == 554 and text.startswith("5.7.1"), (code, text)
        assert c.cmd(f"RCPT TO:<{ALICE}>")[0] == 250  # the transaction goes on


def test_unknown_local_user_is_refused_at_rcpt(mx):
    with SmtpWire(mx_port(mx)) as c:
        c.ehlo()
        assert c.cmd(f"MAIL FROM:<{SENDER}>")[0] == 250
        for rcpt in ("nobody@example.org", "nobody+tag@example.org"):
            code, text = c.cmd(f"RCPT TO:<{rcpt}>")
            assert code == 550 and text.startswith("5.1.1"), (rcpt, code, text)


def test_plus_address_reaches_the_user(mx):
    content = message("plus addressing", to="alice+lists@example.org")
    mark = marks(mx, ALICE, BOB)
    with SmtpWire(mx_port(mx)) as c:
        c.ehlo()
        assert transaction(c, SENDER, ["alice+lists@example.org"], content)[0] == 250
    got = arrived(mx, mark)
    assert len(got[ALICE]) == 1 and got[BOB] == []
    assert split_trace(got[ALICE][0])[2] == content


def test_alias_reaches_each_local_target(mx):
    content = message("to the team", to="team@example.org")
    mark = marks(mx, ALICE, BOB, CAROL)
    with SmtpWire(mx_port(mx)) as c:
        c.ehlo()
        assert transaction(c, SENDER, ["team@example.org"], content)[0] == 250
    got = arrived(mx, mark)
    assert got[CAROL] == []
    for who in (ALICE, BOB):
        assert len(got[who]) == 1, who
        assert split_trace(got[who][0])[:3:2] == (SENDER, content)


def test_alias_with_a_remote_target_is_accepted_and_delivers_the_local_copy(mx):
    content = message("forwarded", to="fwd@example.org")
    mark = marks(mx, CAROL)
    with SmtpWire(mx_port(mx)) as c:
        c.ehlo()
        assert c.cmd(f"MAIL FROM:<{SENDER}>")[0] == 250
        assert c.cmd("RCPT TO:<fwd@example.org>")[0] == 250
        code, text = c.data(dot_stuff(content))
        assert code == 250, (code, text)
    [stored] = arrived(mx, mark)[CAROL]
    assert split_trace(stored)[2] == content


def test_one_message_for_several_local_recipients(mx):
    content = message("for three", to="undisclosed-recipients:;")
    mark = marks(mx, ALICE, BOB, CAROL)
    with SmtpWire(mx_port(mx)) as c:
        c.ehlo()
        assert transaction(c, SENDER, [ALICE, BOB, CAROL], content)[0] == 250
    for who, stored in arrived(mx, mark).items():
        assert len(stored) == 1, who
        assert split_trace(stored[0])[:3:2] == (SENDER, content), who


def test_address_lookup_ignores_case(mx):
    content = message("shouting")
    mark = marks(mx, ALICE, BOB, CAROL)
    with SmtpWire(mx_port(mx)) as c:
        c.ehlo()
        assert transaction(c, SENDER, ["ALICE@EXAMPLE.ORG", "Carol@Example.Org"], content)[0] == 250
    got = arrived(mx, mark)
    assert len(got[ALICE]) == 1 and len(got[CAROL]) == 1 and got[BOB] == []
    mark = marks(mx, ALICE, BOB)
    with SmtpWire(mx_port(mx)) as c:
        c.ehlo()
        assert transaction(c, SENDER, ["TEAM@example.ORG"], content)[0] == 250
    got = arrived(mx, mark)
    assert len(got[ALICE]) == 1 and len(got[BOB]) == 1


# ---- pipelining (RFC 2920) and chunking (RFC 3030)

def test_pipelined_transaction_gets_replies_in_order(mx):
    content = message("pipelined")
    mark = marks(mx, ALICE, BOB, CAROL)
    with SmtpWire(mx_port(mx)) as c:
        assert "PIPELINING" in c.ehlo()
        c.send(f"MAIL FROM:<{SENDER}>\r\nRCPT TO:<{ALICE}>\r\nRCPT TO:<nobody@example.org>\r\n"
               f"RCPT TO:<{BOB}>\r\nDATA\r\n".encode())
        codes = [c.reply()[0] for _ in range(5)]
        assert codes == [250, 250, 550, 250, 354]
        c.send(dot_stuff(content) + b".\r\n")
        assert c.reply()[0] == 250
    got = arrived(mx, mark)
    assert got[CAROL] == []
    for who in (ALICE, BOB):
        assert [split_trace(m)[2] for m in got[who]] == [content], who


def test_next_transaction_pipelined_after_the_message(mx):
    first, second = message("first of two"), message("second of two", to=BOB)
    mark = marks(mx, ALICE, BOB)
    with SmtpWire(mx_port(mx)) as c:
        c.ehlo()
        c.send(f"MAIL FROM:<{SENDER}>\r\nRCPT TO:<{ALICE}>\r\nDATA\r\n".encode())
        assert [c.reply()[0] for _ in range(3)] == [250, 250, 354]
        c.send(dot_stuff(first) + f".\r\nMAIL FROM:<{SENDER}>\r\nRCPT TO:<{BOB}>\r\nDATA\r\n".encode())
        assert [c.reply()[0] for _ in range(4)] == [250, 250, 250, 354]
        c.send(dot_stuff(second) + b".\r\nQUIT\r\n")
        assert [r[0] for r in c.read_all()] == [250, 221]
    got = arrived(mx, mark)
    assert [split_trace(m)[2] for m in got[ALICE]] == [first]
    assert [split_trace(m)[2] for m in got[BOB]] == [second]


def test_bdat_chunks_are_stored_exactly(mx):
    chunks = [
        b"From: <sender@remote.example>\r\nTo: <alice@example.org>\r\nSubject: chunked\r\n\r\n",
        b"a chunk with what DATA would call its end:\r\n.\r\nand then\r\n..two dots stay two\r\n",
        b".a dot first\r\nlast line\r\n",
    ]
    mark = marks(mx, ALICE)
    with SmtpWire(mx_port(mx)) as c:
        assert "CHUNKING" in c.ehlo()
        assert c.cmd(f"MAIL FROM:<{SENDER}>")[0] == 250
        assert c.cmd(f"RCPT TO:<{ALICE}>")[0] == 250
        for i, chunk in enumerate(chunks):
            last = " LAST" if i == len(chunks) - 1 else ""
            c.send(f"BDAT {len(chunk)}{last}\r\n".encode() + chunk)
            code, text = c.reply()
            assert code == 250, (i, code, text)
        assert c.cmd("NOOP")[0] == 250
    [stored] = arrived(mx, mark)[ALICE]
    return_path, _, rest = split_trace(stored)
    assert return_path == SENDER and rest == b"".join(chunks)


def test_pipelined_bdat_ending_with_an_empty_last_chunk(mx):
    content = message("pipelined chunks", body=b"line one\r\n.\r\nline three\r\n")
    a, b = content[:37], content[37:]
    mark = marks(mx, ALICE)
    with SmtpWire(mx_port(mx)) as c:
        c.ehlo()
        c.send(f"MAIL FROM:<{SENDER}>\r\nRCPT TO:<{ALICE}>\r\n".encode()
               + f"BDAT {len(a)}\r\n".encode() + a + f"BDAT {len(b)}\r\n".encode() + b
               + b"BDAT 0 LAST\r\nQUIT\r\n")
        assert [r[0] for r in c.read_all()] == [250, 250, 250, 250, 250, 221]
    [stored] = arrived(mx, mark)[ALICE]
    assert split_trace(stored)[2] == content


# ---- real clients

def test_swaks_delivers_to_the_mx(mx):
    mark = marks(mx, ALICE)
    res = subprocess.run(["swaks", "--server", "127.0.0.1", "--port", str(mx_port(mx)),
                          "--helo", "client.test", "--from", SENDER, "--to", ALICE,
                          "--header", "Subject: sent by swaks", "--body", "swaks body marker 4711"],
                         capture_output=True, text=True, timeout=60)
    assert res.returncode == 0, res.stdout + res.stderr
    [stored] = arrived(mx, mark)[ALICE]
    return_path, _, rest = split_trace(stored)
    assert return_path == SENDER
    assert b"Subject: sent by swaks\r\n" in rest and b"swaks body marker 4711" in rest


def test_curl_delivers_to_the_mx_exactly(mx, tmp_path):
    content = message("sent by curl", body=b"curl body\r\n.dot line\r\n..two dots\r\nend\r\n")
    path = tmp_path / "mail.eml"
    path.write_bytes(content)
    mark = marks(mx, ALICE)
    res = subprocess.run(["curl", "-sS", f"smtp://127.0.0.1:{mx_port(mx)}/client.test",
                          "--mail-from", SENDER, "--mail-rcpt", ALICE, "--upload-file", str(path)],
                         capture_output=True, text=True, timeout=60)
    assert res.returncode == 0, res.stderr
    [stored] = arrived(mx, mark)[ALICE]
    assert split_trace(stored)[:3:2] == (SENDER, content)

