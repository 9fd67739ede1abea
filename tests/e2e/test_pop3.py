"""POP3 (RFC 1939, 2449, 2595, 5034, 8314) against a real server: Python's poplib, curl and a
raw client for byte-exact checks. Mail arrives over SMTP; each test has its own user."""

import poplib
import re
import socket
import subprocess
import time

import pytest

from pop3_util import CTX, PASSWORD, RawPop, message, new_user, stored


def pop_ssl(tern, user=None):
    conn = poplib.POP3_SSL("127.0.0.1", tern.port("pop3", "implicit"), context=CTX, timeout=30)
    if user:
        conn.user(user)
        conn.pass_(PASSWORD)
    return conn


def uidls(conn):
    resp, lines, _ = conn.uidl()
    return dict(line.decode().split(" ", 1) for line in lines)


def test_stls_port_refuses_plaintext_login_then_works_after_stls(tern):
    user = new_user(tern)
    conn = poplib.POP3("127.0.0.1", tern.port("pop3", "starttls"), timeout=30)
    caps = conn.capa()
    assert "STLS" in caps and "USER" not in caps and "SASL" not in caps
    for cap in ("TOP", "UIDL", "PIPELINING", "RESP-CODES", "AUTH-RESP-CODE"):
        assert cap in caps
    assert caps["EXPIRE"] == ["NEVER"]
    with pytest.raises(poplib.error_proto, match=r"\[AUTH\].*STLS"):
        conn.user(user)
    conn.stls(context=CTX)
    caps = conn.capa()
    assert "STLS" not in caps and "USER" in caps and caps["SASL"] == ["PLAIN", "LOGIN"]
    conn.user(user)
    assert conn.pass_(PASSWORD).startswith(b"+OK")
    assert conn.stat() == (0, 0)
    conn.quit()


def test_poplib_over_pop3s_stat_list_uidl_retr_top(tern):
    user = new_user(tern)
    bodies = [message(f"msg {i}", f"body {i}\r\n" * (i + 1)) for i in range(3)]
    for b in bodies:
        tern.deliver(user, b)
    conn = pop_ssl(tern, user)
    count, size = conn.stat()
    assert count == 3
    resp, listing, _ = conn.list()
    sizes = [int(line.split()[1]) for line in listing]
    assert [int(line.split()[0]) for line in listing] == [1, 2, 3] and sum(sizes) == size
    ids = uidls(conn)
    assert sorted(ids) == ["1", "2", "3"] and len(set(ids.values())) == 3
    for uid in ids.values():
        assert re.fullmatch(r"[\x21-\x7e]{1,70}", uid)
    for i, b in enumerate(bodies, start=1):
        resp, lines, octets = conn.retr(i)
        got = b"\r\n".join(lines) + b"\r\n"
        assert resp == f"+OK {sizes[i - 1]} octets".encode()
        assert octets == sizes[i - 1] == len(got)  # exact octet count, CRLF line ends
        assert got.startswith(b"Return-Path: <sender@remote.example>\r\n")
        assert got.endswith(stored(b))
    resp, lines, _ = conn.top(3, 1)
    assert lines[-2:] == [b"", b"body 2"]
    assert b"Subject: msg 2" in lines
    conn.quit()


def test_retr_is_byte_exact_with_leading_dots_and_long_lines(tern):
    user = new_user(tern)
    body = (b".leading dot\r\n..two dots\r\n.\r\n" + b"x" * 20000 + b"\r\n" + b"." + b"y" * 3000 + b"\r\n"
            b" .\r\nlast line\r\n")
    raw = message("dots and long lines", body.decode())
    tern.deliver(user, raw)
    pop = RawPop(tern.port("pop3", "implicit"))
    pop.login(user)
    size = int(pop.cmd("LIST 1").split()[2])
    assert pop.cmd("RETR 1") == f"+OK {size} octets".encode()
    got = pop.multiline()
    assert len(got) == size
    assert got.endswith(stored(raw))
    # The wire form stuffs exactly the lines that begin with a dot.
    pop.send("TOP 1 3\r\n")
    assert pop.line().startswith(b"+OK")
    wire = []
    while (line := pop.line()) != b".":
        wire.append(line)
    assert wire[-3:] == [b"..leading dot", b"...two dots", b".."]
    assert pop.cmd("QUIT").startswith(b"+OK")
    pop.close()


def test_uidl_is_stable_across_sessions_and_deletions(tern):
    user = new_user(tern)
    for i in range(4):
        tern.deliver(user, message(f"uidl {i}"))
    conn = pop_ssl(tern, user)
    first = uidls(conn)
    conn.dele(2)
    conn.quit()
    conn = pop_ssl(tern, user)
    second = uidls(conn)
    assert list(second.values()) == [first["1"], first["3"], first["4"]]
    conn.quit()
    tern.deliver(user, message("uidl new"))
    conn = pop_ssl(tern, user)
    third = uidls(conn)
    assert list(third.values())[:3] == list(second.values())
    assert third["4"] not in first.values()
    conn.quit()


def test_dele_rset_and_quit_deletes_durably(tern):
    user = new_user(tern)
    for i in range(3):
        tern.deliver(user, message(f"dele {i}"))
    conn = pop_ssl(tern, user)
    conn.dele(1)
    with pytest.raises(poplib.error_proto, match="already deleted"):
        conn.retr(1)
    conn.rset()
    assert conn.stat()[0] == 3
    conn.dele(1)
    conn.dele(3)
    assert conn.stat()[0] == 1
    assert conn.quit().startswith(b"+OK")
    conn = pop_ssl(tern, user)
    assert conn.stat()[0] == 1
    resp, lines, _ = conn.retr(1)
    assert b"Subject: dele 1" in lines
    conn.quit()


def test_dropped_connection_deletes_nothing(tern):
    user = new_user(tern)
    for i in range(2):
        tern.deliver(user, message(f"drop {i}"))
    pop = RawPop(tern.port("pop3", "implicit"))
    pop.login(user)
    assert pop.cmd("DELE 1").startswith(b"+OK")
    assert pop.cmd("DELE 2").startswith(b"+OK")
    pop.sock.shutdown(socket.SHUT_RDWR)
    pop.close()
    # The session ends and lets the maildrop go; nothing was deleted.
    deadline = time.monotonic() + 10
    while True:
        try:
            conn = pop_ssl(tern, user)
            break
        except poplib.error_proto as e:
            assert b"[IN-USE]" in e.args[0] and time.monotonic() < deadline
            time.sleep(0.1)
    assert conn.stat()[0] == 2
    conn.quit()


def test_second_session_gets_in_use_while_imap_goes_on(tern):
    import imaplib
    user = new_user(tern)
    tern.deliver(user, message("locked"))
    first = pop_ssl(tern, user)
    second = pop_ssl(tern)
    second.user(user)
    with pytest.raises(poplib.error_proto, match=r"\[IN-USE\]"):
        second.pass_(PASSWORD)
    imap = imaplib.IMAP4_SSL("127.0.0.1", tern.port("imap", "implicit"), ssl_context=CTX, timeout=30)
    assert imap.login(user, PASSWORD)[0] == "OK"
    assert imap.noop()[0] == "OK"
    imap.logout()
    assert first.stat()[0] == 1
    first.quit()
    # Once the first session has quit, the second may log in.
    second.user(user)
    assert second.pass_(PASSWORD).startswith(b"+OK")
    second.quit()


def test_pipelined_commands_get_their_replies_in_order(tern):
    user = new_user(tern)
    for i in range(5):
        tern.deliver(user, message(f"pipe {i}", f"line {i}\r\n.dot {i}\r\n"))
    pop = RawPop(tern.port("pop3", "implicit"))
    cmds = [f"USER {user}", f"PASS {PASSWORD}", "STAT"] + [f"RETR {i}" for i in range(1, 6)] + ["DELE 5", "QUIT"]
    pop.send("".join(c + "\r\n" for c in cmds))
    assert pop.line().startswith(b"+OK")
    assert pop.line().startswith(b"+OK Logged in, 5 messages")
    assert pop.line().startswith(b"+OK 5 ")
    for i in range(5):
        assert pop.line().endswith(b" octets")
        assert pop.multiline().endswith(f"line {i}\r\n.dot {i}\r\n".encode())
    assert pop.line() == b"+OK Message 5 deleted"
    assert pop.line() == b"+OK Tern POP3 server signing off (1 messages deleted)"
    assert pop.line() is None
    pop.close()


def test_errors_are_answered_then_the_session_ends(tern):
    pop = RawPop(tern.port("pop3", "implicit"))
    replies = [pop.cmd("BOGUS") for _ in range(10)]
    assert all(r.startswith(b"-ERR") for r in replies)
    assert pop.line() is None
    pop.close()


def curl(*args):
    return subprocess.run(["curl", "-s", "-S", "-k", "--max-time", "30", *args],
                          capture_output=True, timeout=60)


def test_curl_pop3_with_stls_and_pop3s(tern):
    user = new_user(tern)
    raw = message("curl", "first line\r\n.dotted\r\n")
    tern.deliver(user, raw)
    tern.deliver(user, message("curl two"))
    listing = curl("--ssl-reqd", "-u", f"{user}:{PASSWORD}",
                   f"pop3://127.0.0.1:{tern.port('pop3', 'starttls')}/")
    assert listing.returncode == 0, listing.stderr
    lines = listing.stdout.decode().split("\r\n")
    assert [l.split()[0] for l in lines if l] == ["1", "2"]
    got = curl("-u", f"{user}:{PASSWORD}", f"pop3s://127.0.0.1:{tern.port('pop3', 'implicit')}/1")
    assert got.returncode == 0, got.stderr
    assert got.stdout.endswith(stored(raw))
    assert len(got.stdout) == int(lines[0].split()[1])
    # curl's own commands: DELE through -X, then the next listing is shorter.
    dele = curl("-u", f"{user}:{PASSWORD}", "-X", "DELE", "-I",
                f"pop3s://127.0.0.1:{tern.port('pop3', 'implicit')}/1")
    assert dele.returncode == 0, dele.stderr
    after = curl("-u", f"{user}:{PASSWORD}", f"pop3s://127.0.0.1:{tern.port('pop3', 'implicit')}/")
    assert [l.split()[0] for l in after.stdout.decode().split("\r\n") if l] == ["1"]
