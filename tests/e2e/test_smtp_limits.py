"""SMTP limits (issue T2): message size, command line length, recipients per message and
protocol errors per session. Each refusal leaves the session usable until the error limit."""

import pytest

from harness import SmtpWire, split_trace, start_mail_server

ALICE, BOB, CAROL = "alice@example.org", "bob@example.org", "carol@example.org"
DAVE, ERIN = "dave@example.org", "erin@example.org"
SENDER = "sender@remote.example"
MAX_SIZE = 20000
MAX_RECIPIENTS = 3
MAX_ERRORS = 4


@pytest.fixture(scope="module")
def server():
    s = start_mail_server(extra_config=(
        f"[limits]\nmax_message_size = {MAX_SIZE}\n"
        f"[smtp]\nmax_recipients = {MAX_RECIPIENTS}\nmax_errors = {MAX_ERRORS}\n"))
    s.add_user(DAVE, "dave's long password")
    s.add_user(ERIN, "erin's long password")
    yield s
    s.close()


def mx(server):
    c = SmtpWire(server.port("smtp", "starttls"))
    c.ehlo()
    return c


def big_message(size):
    """A message of exactly `size` octets whose body lines look like SMTP commands."""
    out = b"From: <sender@remote.example>\r\nSubject: big\r\n\r\n"
    line = b"MAIL FROM:<not@a.command> RCPT TO:<nor@this.one> padding padding padding\r\n"
    while len(out) + len(line) + 2 <= size:
        out += line
    out += b"x" * (size - len(out) - 2) + b"\r\n"
    assert len(out) == size
    return out


# ---- message size

def test_ehlo_advertises_the_configured_size(server):
    with SmtpWire(server.port("smtp", "starttls")) as c:
        assert int(c.ehlo()["SIZE"]) == MAX_SIZE


def test_size_parameter_over_the_limit_is_refused_at_mail(server):
    with mx(server) as c:
        code, text = c.cmd(f"MAIL FROM:<{SENDER}> SIZE={MAX_SIZE * 10}")
        assert code == 552 and text.startswith("5.3.4"), (code, text)
        assert c.cmd(f"MAIL FROM:<{SENDER}> SIZE={MAX_SIZE // 2}")[0] == 250


def test_message_under_the_limit_is_accepted(server):
    content = big_message(MAX_SIZE - 1000)  # room for what the server adds on top
    mark = server.last_uid(ALICE)
    with mx(server) as c:
        assert c.cmd(f"MAIL FROM:<{SENDER}> SIZE={len(content)}")[0] == 250
        assert c.cmd(f"RCPT TO:<{ALICE}>")[0] == 250
        code, text = c.data(content)
        assert code == 250, (code, text)
    [stored] = server.messages_since(ALICE, mark)
    assert split_trace(stored)[2] == content


def test_oversized_data_is_read_to_the_end_then_refused(server):
    mark = server.last_uid(ALICE)
    with mx(server) as c:
        assert c.cmd(f"MAIL FROM:<{SENDER}>")[0] == 250  # no SIZE: the client did not say
        assert c.cmd(f"RCPT TO:<{ALICE}>")[0] == 250
        code, text = c.data(big_message(MAX_SIZE * 3))
        assert code == 552, (code, text)
        assert c.cmd("NOOP")[0] == 250
        assert c.cmd("RSET")[0] == 250
        # The session is still in step: a normal message goes through.
        assert c.cmd(f"MAIL FROM:<{SENDER}>")[0] == 250
        assert c.cmd(f"RCPT TO:<{ALICE}>")[0] == 250
        assert c.data(b"Subject: small\r\n\r\nsmall\r\n")[0] == 250
    stored = server.messages_since(ALICE, mark)
    assert len(stored) == 1 and split_trace(stored[0])[2] == b"Subject: small\r\n\r\nsmall\r\n"


def test_oversized_bdat_is_refused_and_the_session_stays_in_step(server):
    mark = server.last_uid(ALICE)
    content = big_message(MAX_SIZE * 2)
    with mx(server) as c:
        assert c.cmd(f"MAIL FROM:<{SENDER}>")[0] == 250
        assert c.cmd(f"RCPT TO:<{ALICE}>")[0] == 250
        c.send(f"BDAT {len(content)} LAST\r\n".encode() + content)
        code, text = c.reply()
        assert code == 552, (code, text)
        assert c.cmd("NOOP")[0] == 250
    assert server.messages_since(ALICE, mark) == []


# ---- command lines (RFC 5321 4.5.3.1.4: 512 octets with the CRLF)

def test_command_line_of_512_octets_is_accepted_and_longer_is_500(server):
    with mx(server) as c:
        line = b"NOOP " + b"x" * (512 - len(b"NOOP ") - 2)
        assert len(line + b"\r\n") == 512
        assert c.cmd(line)[0] == 250
        code, text = c.cmd(b"NOOP " + b"x" * 600)
        assert code == 500 and text.startswith("5.5.2"), (code, text)
        assert c.cmd("NOOP")[0] == 250


# ---- recipients per message

def test_recipients_over_the_limit_get_452(server):
    rcpts = [ALICE, BOB, CAROL, DAVE, ERIN]
    mark = {a: server.last_uid(a) for a in rcpts}
    content = b"Subject: many recipients\r\n\r\nhello\r\n"
    with mx(server) as c:
        assert c.cmd(f"MAIL FROM:<{SENDER}>")[0] == 250
        replies = [c.cmd(f"RCPT TO:<{r}>") for r in rcpts]
        assert [code for code, _ in replies] == [250] * MAX_RECIPIENTS + [452] * (len(rcpts) - MAX_RECIPIENTS)
        assert all(text.startswith("4.5.3") for _, text in replies[MAX_RECIPIENTS:]), replies
        assert c.data(content)[0] == 250
    for who in (ALICE, BOB, CAROL):
        assert [split_trace(m)[2] for m in server.messages_since(who, mark[who])] == [content], who
    for who in (DAVE, ERIN):
        assert server.messages_since(who, mark[who]) == [], who


# ---- errors per session

def test_too_many_protocol_errors_get_421_and_close(server):
    with mx(server) as c:
        codes = []
        for _ in range(MAX_ERRORS + 1):
            try:
                c.send(b"BOGUS\r\n")
            except OSError:
                pass  # already closed: the 421 may still be waiting to be read
            try:
                codes.append(c.reply()[0])
            except (EOFError, OSError):
                break
            if codes[-1] == 421:
                break
        assert codes[-1] == 421, codes
        assert codes[:-1] == [500] * (len(codes) - 1) and len(codes) - 1 >= MAX_ERRORS - 1, codes
        assert c.read_all() == []  # closed


def test_mail_loop_is_refused_by_its_received_fields(server):
    """[smtp] max_hops (50): a message that already carries 50 Received: fields is a loop."""
    def message(hops):
        trace = b"".join(b"Received: from relay%d.example by relay%d.example; Mon, 23 Nov 2026 10:00:00 +0000\r\n"
                         % (i, i + 1) for i in range(hops))
        return trace + b"From: <sender@remote.example>\r\nSubject: hops %d\r\n\r\nlooping?\r\n" % hops

    before = len(server.messages(CAROL))
    with mx(server) as c:
        assert c.cmd(f"MAIL FROM:<{SENDER}>")[0] == 250
        assert c.cmd(f"RCPT TO:<{CAROL}>")[0] == 250
        code, text = c.data(message(50))
        assert (code, text[:5]) == (554, "5.4.6"), (code, text)
        # Nothing stored; the session goes on, and 49 hops still pass.
        assert len(server.messages(CAROL)) == before
        assert c.cmd(f"MAIL FROM:<{SENDER}>")[0] == 250
        assert c.cmd(f"RCPT TO:<{CAROL}>")[0] == 250
        code, text = c.data(message(49))
        assert code == 250, (code, text)
    stored = server.messages(CAROL)
    assert len(stored) == before + 1
    assert b"Subject: hops 49" in server.message_bytes(CAROL, stored[-1]["uid"])
