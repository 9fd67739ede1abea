"""`tern message list|show`: reading stored mail back from the command line, while the
server runs. Messages arrive over SMTP (the MX listener)."""

import re
import smtplib
import subprocess

import pytest

from harness import dot_stuff, SmtpWire, split_trace, start_mail_server, tern_binary

ALICE, BOB = "alice@example.org", "bob@example.org"
SENDER = "sender@remote.example"


@pytest.fixture(scope="module")
def server():
    s = start_mail_server()
    yield s
    s.close()


def deliver(server, to, content):
    with SmtpWire(server.port("smtp", "starttls")) as c:
        c.ehlo()
        assert c.cmd(f"MAIL FROM:<{SENDER}> BODY=8BITMIME")[0] == 250
        assert c.cmd(f"RCPT TO:<{to}>")[0] == 250
        code, text = c.data(dot_stuff(content))
        assert code == 250, (code, text)


def test_help():
    for cmd in (["message"], ["message", "list"], ["message", "show"]):
        res = subprocess.run([tern_binary(), *cmd, "--help"], capture_output=True, text=True)
        assert res.returncode == 0, (cmd, res.stderr)
        assert "usage" in res.stdout.lower()
    out = subprocess.run([tern_binary(), "message", "show", "--help"], capture_output=True, text=True).stdout
    assert "--mailbox" in out and "UID" in out.upper()


def test_empty_mailbox_lists_nothing(server):
    res = server.cli("message", "list", BOB, "--mailbox", "Trash")
    assert res.returncode == 0 and res.stdout == ""


def test_unknown_account_mailbox_or_uid_is_an_error(server):
    res = server.cli("message", "list", "nobody@example.org", check=False)
    assert res.returncode != 0 and "nobody@example.org" in res.stderr
    res = server.cli("message", "list", ALICE, "--mailbox", "No Such Folder", check=False)
    assert res.returncode != 0 and "No Such Folder" in res.stderr
    res = server.cli("message", "show", "nobody@example.org", "1", check=False)
    assert res.returncode != 0 and res.stdout == ""
    res = server.cli("message", "show", ALICE, "999999", check=False)
    assert res.returncode != 0 and res.stdout == "" and "999999" in res.stderr
    res = server.cli("message", "show", ALICE, "not-a-number", check=False)
    assert res.returncode != 0 and res.stdout == ""


def test_list_and_show_a_delivered_message(server):
    content = ("From: <sender@remote.example>\r\nSubject: Grüße\r\n\r\n"
               "8-bit text: Äpfel, 日本語\r\n.leading dot\r\n").encode()
    mark = server.last_uid(ALICE)
    deliver(server, ALICE, content)
    [msg] = [m for m in server.messages(ALICE) if m["uid"] > mark]
    stored = server.message_bytes(ALICE, msg["uid"])
    assert split_trace(stored)[2] == content
    assert msg["size"] == len(stored)
    assert msg["flags"] == []
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", msg["date"]), msg
    # INBOX is INBOX whatever its case; --mailbox with another mailbox sees other messages.
    assert server.messages(ALICE, mailbox="inbox") == server.messages(ALICE)
    assert server.message_bytes(ALICE, msg["uid"], mailbox="Inbox") == stored
    res = server.cli("message", "show", ALICE, str(msg["uid"]), "--mailbox", "Sent", check=False)
    assert res.returncode != 0


def test_show_is_exact_for_a_message_larger_than_one_read(server):
    line = b"0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ!#$%&'()*+,-./:;<=>?@[]^_`{|}~\r\n"
    body = b"".join(b"%07d " % i + line for i in range(3 * 1024 * 1024 // len(line)))
    content = b"From: <sender@remote.example>\r\nSubject: big\r\n\r\n" + body
    mark = server.last_uid(BOB)
    with smtplib.SMTP("127.0.0.1", server.port("smtp", "starttls"), timeout=60) as s:
        assert s.sendmail(SENDER, [BOB], content) == {}
    [msg] = [m for m in server.messages(BOB) if m["uid"] > mark]
    stored = server.message_bytes(BOB, msg["uid"])
    assert msg["size"] == len(stored) > 3_000_000
    assert split_trace(stored)[2] == content
