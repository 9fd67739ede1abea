"""The IMAP server (issue T6) with Python's imaplib against a real `tern serve`: mailboxes,
APPEND / FETCH / STORE / SEARCH / EXPUNGE, COPY / MOVE with UIDPLUS, mail delivered by SMTP
on the MX listener, several sessions in sync, IDLE, and a large message streamed."""

import imaplib
import re
import smtplib
import socket
import ssl
import subprocess
import time

import pytest

from harness import TernServer

CTX = ssl._create_unverified_context()
PASSWORD = "imap test password"
USERS = ["alice", "bob", "carol", "dave", "erin", "frank", "grace", "heidi"]


@pytest.fixture(scope="module")
def server():
    s = TernServer()
    for u in USERS:
        s.add_user(f"{u}@example.org", PASSWORD)
    s.start()
    yield s
    s.close()


def connect(server, user):
    conn = imaplib.IMAP4_SSL("127.0.0.1", server.port("imap", "implicit"), ssl_context=CTX, timeout=30)
    assert conn.login(f"{user}@example.org", PASSWORD)[0] == "OK"
    return conn


def message(subject, body="Hello.\r\n", to="alice@example.org"):
    return (f"From: <sender@remote.example>\r\nTo: <{to}>\r\nSubject: {subject}\r\n\r\n{body}").encode()


def deliver(server, to, subject):
    with smtplib.SMTP("127.0.0.1", server.port("smtp", "starttls"), timeout=30) as smtp:
        smtp.sendmail("sender@remote.example", [to], message(subject, to=to))


def ok(result):
    typ, data = result
    assert typ == "OK", data
    return data


def test_capabilities_after_login(server):
    conn = connect(server, "alice")
    caps = ok(conn.capability())[0].decode().upper().split()
    for cap in ("IMAP4REV1", "IDLE", "UIDPLUS", "MOVE", "NAMESPACE", "SPECIAL-USE", "ENABLE", "UNSELECT"):
        assert cap in caps, caps
    conn.logout()


def test_mailbox_commands(server):
    conn = connect(server, "alice")
    names = b"\n".join(ok(conn.list()))
    for name in (b'"INBOX"', b'"Sent"', b'"Trash"', b'"Drafts"', b'"Junk"', b'"Archive"'):
        assert name in names
    assert b"\\Sent" in names
    ok(conn.create("Projects/Tern"))
    typ, _ = conn.create("Projects/Tern")
    assert typ == "NO"
    listed = b"\n".join(ok(conn.list('""', "Projects/*")))
    assert b'"Projects/Tern"' in listed
    ok(conn.rename("Projects/Tern", "Done"))
    assert b'"Done"' in b"\n".join(ok(conn.list('""', "*")))
    ok(conn.subscribe("Done"))
    assert b'"Done"' in b"\n".join(ok(conn.lsub('""', "*")))
    ok(conn.unsubscribe("Done"))
    ok(conn.delete("Done"))
    typ, _ = conn.delete("INBOX")
    assert typ == "NO"
    status = ok(conn.status("INBOX", "(MESSAGES UIDNEXT UIDVALIDITY UNSEEN)"))[0]
    assert re.search(rb"MESSAGES \d+ UIDNEXT \d+ UIDVALIDITY \d+ UNSEEN \d+", status), status
    ns = ok(conn.namespace())[0]
    assert ns == b'(("" "/")) NIL NIL'
    conn.logout()


def test_delivered_by_smtp_then_seen_over_imap(server):
    deliver(server, "bob@example.org", "over the wire")
    conn = connect(server, "bob")
    count = int(ok(conn.select("INBOX"))[0])
    assert count >= 1
    data = ok(conn.fetch(str(count), "(FLAGS BODY.PEEK[HEADER.FIELDS (SUBJECT)] RFC822.SIZE)"))
    assert b"Subject: over the wire" in data[0][1]
    body = ok(conn.fetch(str(count), "(BODY[])"))[0][1]
    assert body.endswith(b"Hello.\r\n")
    assert b"Received:" in body
    flags = ok(conn.fetch(str(count), "(FLAGS)"))[0]
    assert b"\\Seen" in flags
    conn.logout()


def test_append_fetch_store_search_expunge(server):
    conn = connect(server, "carol")
    typ, data = conn.append("INBOX", "(\\Flagged)", None, message("first"))
    assert typ == "OK" and b"APPENDUID" in data[0], data
    ok(conn.append("INBOX", None, None, message("second", body="needle in body\r\n")))
    assert ok(conn.select("INBOX"))[0] == b"2"
    assert ok(conn.search(None, "FLAGGED"))[0] == b"1"
    assert ok(conn.search(None, "BODY", "needle"))[0] == b"2"
    assert ok(conn.uid("SEARCH", "SUBJECT", "second"))[0] == b"2"
    partial = ok(conn.fetch("1", "(BODY.PEEK[]<0.4>)"))[0][1]
    assert partial == b"From"
    ok(conn.store("1", "+FLAGS", "(\\Deleted)"))
    assert ok(conn.expunge())[0] == b"1"
    assert ok(conn.search(None, "ALL"))[0] == b"1"
    data = ok(conn.uid("FETCH", "2", "(UID FLAGS)"))[0]
    assert b"UID 2" in data
    ok(conn.close())
    conn.logout()


def test_copy_and_move_report_copyuid(server):
    conn = connect(server, "dave")
    for i in range(3):
        ok(conn.append("INBOX", None, None, message(f"m{i}")))
    ok(conn.select("INBOX"))
    typ, data = conn.copy("1:2", "Archive")
    assert typ == "OK" and b"COPYUID" in data[0], data
    typ, data = conn._simple_command("MOVE", "3", "Trash")
    assert typ == "OK"
    assert any(b"COPYUID" in d for d in conn.untagged_responses.get("OK", [])), conn.untagged_responses
    assert ok(conn.status("Archive", "(MESSAGES)"))[0].endswith(b"(MESSAGES 2)")
    assert ok(conn.status("Trash", "(MESSAGES)"))[0].endswith(b"(MESSAGES 1)")
    conn.logout()


def test_two_sessions_see_each_others_flags_and_expunges(server):
    a = connect(server, "erin")
    b = connect(server, "erin")
    ok(a.append("INBOX", None, None, message("shared 1")))
    ok(a.append("INBOX", None, None, message("shared 2")))
    ok(a.select("INBOX"))
    ok(b.select("INBOX"))
    ok(b.store("1", "+FLAGS", "(\\Flagged)"))
    ok(a.noop())
    fetches = a.untagged_responses.pop("FETCH", [])
    assert any(b"\\Flagged" in f for f in fetches), fetches
    ok(b.store("1", "+FLAGS", "(\\Deleted)"))
    ok(b.expunge())
    ok(a.noop())
    assert a.untagged_responses.pop("EXPUNGE", []) == [b"1"]
    # A new message appended by one session reaches the other at its next command.
    ok(b.append("INBOX", None, None, message("shared 3")))
    ok(a.noop())
    assert a.untagged_responses.pop("EXISTS", [])[-1] == b"2"
    a.logout()
    b.logout()


def test_idle_sees_smtp_delivery_within_a_second(server):
    sock = socket.create_connection(("127.0.0.1", server.port("imap", "implicit")), timeout=30)
    s = CTX.wrap_socket(sock)
    f = s.makefile("rb")
    f.readline()
    s.sendall(f'a1 LOGIN frank@example.org "{PASSWORD}"\r\n'.encode())
    assert f.readline().startswith(b"a1 OK")
    s.sendall(b"a2 SELECT INBOX\r\n")
    while not (line := f.readline()).startswith(b"a2 "):
        pass
    assert line.startswith(b"a2 OK")
    s.sendall(b"a3 IDLE\r\n")
    assert f.readline().startswith(b"+ ")
    deliver(server, "frank@example.org", "idle wake-up")
    delivered = time.monotonic()
    s.settimeout(5)
    line = f.readline()
    assert line == b"* 1 EXISTS\r\n", line
    assert time.monotonic() - delivered < 1.0
    assert f.readline() == b"* 1 RECENT\r\n"
    s.sendall(b"DONE\r\n")
    assert f.readline().startswith(b"a3 OK")
    s.sendall(b"a4 LOGOUT\r\n")
    s.close()


def test_large_message_streams_whole_and_in_parts(server):
    conn = connect(server, "grace")
    body = b"".join(b"%07d " % i + b"x" * 70 + b"\r\n" for i in range(70000))  # ~5.4 MB
    msg = b"Subject: big\r\n\r\n" + body
    ok(conn.append("INBOX", None, None, msg))
    ok(conn.select("INBOX"))
    size = ok(conn.fetch("1", "(RFC822.SIZE)"))[0]
    assert f"RFC822.SIZE {len(msg)}".encode() in size
    whole = ok(conn.fetch("1", "(BODY.PEEK[])"))[0][1]
    assert whole == msg
    part = ok(conn.fetch("1", "(BODY.PEEK[TEXT]<1000000.100>)"))[0][1]
    assert part == body[1000000:1000100]
    conn.logout()


def test_bad_commands_in_the_wrong_state(server):
    sock = socket.create_connection(("127.0.0.1", server.port("imap", "implicit")), timeout=30)
    s = CTX.wrap_socket(sock)
    f = s.makefile("rb")
    f.readline()
    s.sendall(f'a1 LOGIN alice@example.org "{PASSWORD}"\r\n'.encode())
    assert f.readline().startswith(b"a1 OK")
    s.sendall(b"a2 FETCH 1 FLAGS\r\n")
    assert f.readline() == b"a2 BAD No mailbox selected\r\n"
    s.sendall(b"a3 SELECT Nonexistent\r\n")
    assert f.readline().startswith(b"a3 NO [NONEXISTENT]")
    s.sendall(b"a4 FETCH 1 (FROB)\r\n")
    assert f.readline().startswith(b"a4 BAD")
    s.close()


def test_literal_limits_and_non_synchronizing_literals(server):
    """A message over APPENDLIMIT is refused before its bytes are sent (RFC 7889); LITERAL+
    (RFC 7888) literals need no continuation."""
    sock = socket.create_connection(("127.0.0.1", server.port("imap", "implicit")), timeout=30)
    s = CTX.wrap_socket(sock)
    f = s.makefile("rb")
    f.readline()
    s.sendall(f'a1 LOGIN heidi@example.org "{PASSWORD}"\r\n'.encode())
    reply = f.readline()
    assert reply.startswith(b"a1 OK") and b" LITERAL+ " in reply, reply
    limit = int(re.search(rb"APPENDLIMIT=(\d+)", reply).group(1))
    s.sendall(f"a2 APPEND INBOX {{{limit + 1}}}\r\n".encode())
    assert f.readline() == b"a2 NO [TOOBIG] Message too large\r\n"
    # The session goes on; nothing was appended.
    s.sendall(b"a3 STATUS INBOX (MESSAGES)\r\n")
    assert f.readline() == b'* STATUS "INBOX" (MESSAGES 0)\r\n'
    assert f.readline().startswith(b"a3 OK")
    msg = message("literal plus", to="heidi@example.org")
    s.sendall(f"a4 APPEND INBOX {{{len(msg)}+}}\r\n".encode() + msg + b"\r\n")
    assert f.readline().startswith(b"a4 OK [APPENDUID ")
    s.sendall(b"a5 LOGOUT\r\n")
    assert f.readline().startswith(b"* BYE")
    s.close()
    assert server.mailbox_bytes("heidi@example.org") == [msg]


def test_rename_inbox_moves_its_messages(server):
    conn = connect(server, "alice")
    ok(conn.append("INBOX", None, None, message("to be moved")))
    before = int(ok(conn.status("INBOX", "(MESSAGES)"))[0].split(b"MESSAGES ")[1].rstrip(b")"))
    assert before >= 1
    ok(conn.rename("INBOX", "Old-Inbox"))
    assert ok(conn.status("INBOX", "(MESSAGES)"))[0].endswith(b"(MESSAGES 0)")
    assert ok(conn.status("Old-Inbox", "(MESSAGES)"))[0].endswith(f"(MESSAGES {before})".encode())
    conn.logout()


def test_multiappend_and_curl_fetch(server):
    conn = connect(server, "bob")
    lit1, lit2 = message("multi one"), message("multi two")
    ok(conn.create("Multi"))
    tag = conn._new_tag().decode()
    # MULTIAPPEND (RFC 3502): two messages in one command, with non-synchronizing-free literals.
    conn.send(f"{tag} APPEND Multi {{{len(lit1)}}}\r\n".encode())
    assert conn.readline().startswith(b"+")
    conn.send(lit1 + f" (\\Seen) {{{len(lit2)}}}\r\n".encode())
    assert conn.readline().startswith(b"+")
    conn.send(lit2 + b"\r\n")
    reply = conn.readline()
    assert reply.startswith(f"{tag} OK [APPENDUID ".encode()) and b" 1:2] " in reply, reply
    conn.logout()
    # curl's IMAP client: fetch the second message by UID.
    url = f"imaps://127.0.0.1:{server.port('imap', 'implicit')}/Multi;UID=2"
    out = subprocess.run(["curl", "-sk", "--user", f"bob@example.org:{PASSWORD}", url],
                         capture_output=True, timeout=60)
    assert out.returncode == 0, out.stderr
    assert out.stdout == lit2


def test_deleting_a_selected_mailbox_ends_the_other_session(server):
    a = connect(server, "carol")
    b = connect(server, "carol")
    ok(a.create("Doomed"))
    ok(a.select("Doomed"))
    ok(b.delete("Doomed"))
    with pytest.raises(imaplib.IMAP4.abort):
        a.noop()
    b.logout()


def test_autologout_before_and_after_login():
    """[timeouts] pre_auth ends a connection that never logs in, post_auth one that stays
    silent after login, also in IDLE (RFC 2177: clients re-issue IDLE to stay connected)."""
    s = TernServer(extra_config="[timeouts]\npre_auth = 1\npost_auth = 2")
    s.add_user("alice@example.org", PASSWORD)
    s.start()
    try:
        with CTX.wrap_socket(socket.create_connection(("127.0.0.1", s.port("imap", "implicit")), timeout=30)) as c:
            f = c.makefile("rb")
            assert f.readline().startswith(b"* OK")
            assert f.readline() == b"* BYE Autologout; idle for too long\r\n"
            assert f.readline() == b""
        with CTX.wrap_socket(socket.create_connection(("127.0.0.1", s.port("imap", "implicit")), timeout=30)) as c:
            f = c.makefile("rb")
            f.readline()
            c.sendall(f'a1 LOGIN alice@example.org "{PASSWORD}"\r\n'.encode())
            assert f.readline().startswith(b"a1 OK")
            c.sendall(b"a2 SELECT INBOX\r\n")
            while not f.readline().startswith(b"a2 OK"):
                pass
            c.sendall(b"a3 IDLE\r\n")
            assert f.readline().startswith(b"+ ")
            assert f.readline() == b"* BYE Autologout; idle for too long\r\n"
            assert f.readline() == b""
    finally:
        s.close()
