"""Submission (issue T2): mail from users' clients on 587 (STARTTLS) and 465 (implicit TLS),
after AUTH, from the account's own addresses; Message-ID and Date added when missing."""

import base64
import email.utils
import re
import smtplib
import subprocess

import pytest

from harness import MAIL_USERS, TLS_CTX, SmtpWire, split_trace, start_mail_server

ALICE, BOB, CAROL = "alice@example.org", "bob@example.org", "carol@example.org"
ALICE_PW = MAIL_USERS[ALICE]


@pytest.fixture(scope="module")
def server():
    s = start_mail_server()
    s.cli("alias", "add", "alice.liddell@example.org", ALICE)
    yield s
    s.close()


def port587(server):
    return server.port("submission", "starttls")


def port465(server):
    return server.port("submission", "implicit")


def message(subject, sender=ALICE, to=BOB, extra=b""):
    return (f"From: <{sender}>\r\nTo: <{to}>\r\nSubject: {subject}\r\n"
            "Message-ID: <" + subject.replace(" ", ".") + "@client.test>\r\n"
            "Date: Tue, 1 Oct 2024 10:00:00 +0000\r\n").encode() + extra + b"\r\nHello.\r\n"


def smtp587(server):
    s = smtplib.SMTP("127.0.0.1", port587(server), local_hostname="client.test", timeout=20)
    s.starttls(context=TLS_CTX)
    s.ehlo()
    return s


def authed_wire(server, user=ALICE, password=None):
    """A raw connection on 587 after STARTTLS, EHLO and AUTH PLAIN."""
    c = SmtpWire(port587(server))
    c.ehlo()
    c.starttls()
    c.ehlo()
    token = base64.b64encode(f"\0{user}\0{password or MAIL_USERS[user]}".encode()).decode()
    code, text = c.cmd(f"AUTH PLAIN {token}")
    assert code == 235, (code, text)
    return c


def delivered(server, address, mark):
    [stored] = server.messages_since(address, mark)
    return split_trace(stored)


# ---- AUTH

def test_auth_plain_after_starttls_then_send(server):
    content = message("plain auth")
    mark = server.last_uid(BOB)
    with smtp587(server) as s:
        code, _ = s.login(ALICE, ALICE_PW)  # smtplib prefers PLAIN
        assert code == 235
        assert s.sendmail(ALICE, [BOB], content) == {}
    return_path, received, rest = delivered(server, BOB, mark)
    assert return_path == ALICE and rest == content
    assert "TLSv1" in received, received


def test_auth_login_after_starttls_then_send(server):
    content = message("login auth")
    mark = server.last_uid(BOB)
    with smtp587(server) as s:
        s.user, s.password = ALICE, ALICE_PW
        code, _ = s.auth("LOGIN", s.auth_login, initial_response_ok=False)
        assert code == 235
        assert s.sendmail(ALICE, [BOB], content) == {}
    assert delivered(server, BOB, mark)[2] == content


def test_wrong_password_is_535(server):
    with smtp587(server) as s:
        with pytest.raises(smtplib.SMTPAuthenticationError) as err:
            s.login(ALICE, "not the password")
        assert err.value.smtp_code == 535 and err.value.smtp_error.startswith(b"5.7.8")


def test_mail_before_auth_is_530(server):
    with SmtpWire(port587(server)) as c:
        c.ehlo()
        code, text = c.cmd(f"MAIL FROM:<{ALICE}>")
        assert code == 530, (code, text)  # before TLS
        c.starttls()
        c.ehlo()
        code, text = c.cmd(f"MAIL FROM:<{ALICE}>")
        assert code == 530 and text.startswith("5.7.0"), (code, text)
        code, _ = c.cmd(f"RCPT TO:<{BOB}>")
        assert code in (503, 530)


def test_app_password_works_for_auth(server):
    _, app_pw = server.add_app_password(ALICE, label="mail client")
    content = message("app password")
    mark = server.last_uid(BOB)
    with smtplib.SMTP_SSL("127.0.0.1", port465(server), context=TLS_CTX, timeout=20) as s:
        assert s.login(ALICE, app_pw)[0] == 235
        assert s.sendmail(ALICE, [BOB], content) == {}
    assert delivered(server, BOB, mark)[2] == content


# ---- who may send what

def test_mail_from_another_address_is_553(server):
    with authed_wire(server) as c:
        for other in (BOB, "alice@elsewhere.example", "someone@remote.example"):
            code, text = c.cmd(f"MAIL FROM:<{other}>")
            assert code == 553 and text.startswith("5.7.1"), (other, code, text)
        assert c.cmd(f"MAIL FROM:<{ALICE}>")[0] == 250


def test_mail_from_the_own_address_in_other_case_is_accepted(server):
    with authed_wire(server) as c:
        assert c.cmd("MAIL FROM:<Alice@EXAMPLE.org>")[0] == 250


def test_mail_from_an_alias_of_the_account_is_accepted(server):
    content = message("from my alias", sender="alice.liddell@example.org")
    mark = server.last_uid(BOB)
    with authed_wire(server) as c:
        assert c.cmd("MAIL FROM:<alice.liddell@example.org>")[0] == 250
        assert c.cmd(f"RCPT TO:<{BOB}>")[0] == 250
        assert c.data(content)[0] == 250
    return_path, _, rest = delivered(server, BOB, mark)
    assert return_path == "alice.liddell@example.org" and rest == content


def test_remote_recipient_is_accepted_after_auth(server):
    with authed_wire(server) as c:
        assert c.cmd(f"MAIL FROM:<{ALICE}>")[0] == 250
        code, text = c.cmd("RCPT TO:<friend@remote.example>")
        assert code == 250, (code, text)
        code, text = c.data(message("to the world", to="friend@remote.example"))
        assert code == 250, (code, text)


def test_local_and_remote_recipients_together(server):
    content = message("mixed recipients")
    mark = server.last_uid(CAROL)
    with smtp587(server) as s:
        s.login(ALICE, ALICE_PW)
        assert s.sendmail(ALICE, ["friend@remote.example", CAROL], content) == {}
    assert delivered(server, CAROL, mark)[2] == content


def queue_entries(server):
    """`tern queue list` parsed: {id: (header line, [recipient lines])}."""
    entries, current = {}, None
    for line in server.cli("queue", "list").stdout.splitlines():
        if line.startswith("\t"):
            entries[current][1].append(line.strip())
        elif "\tfrom <" in line:
            current = int(line.split("\t")[0])
            entries[current] = (line, [])
    return entries


def test_remote_recipients_wait_in_the_queue_with_their_dsn_parameters(server):
    before = set(queue_entries(server))
    content = message("for the queue", to="Far@Remote.Example")
    with authed_wire(server) as c:
        assert c.cmd(f"MAIL FROM:<{ALICE}> RET=HDRS ENVID=q1")[0] == 250
        assert c.cmd("RCPT TO:<Far@Remote.Example> NOTIFY=FAILURE,DELAY")[0] == 250
        assert c.cmd("RCPT TO:<other@remote.example>")[0] == 250
        code, text = c.data(content)
        assert code == 250, (code, text)
    new = {k: v for k, v in queue_entries(server).items() if k not in before}
    assert len(new) == 1, new
    qid, (head, rcpts) = next(iter(new.items()))
    assert f"from <{ALICE}>" in head
    assert rcpts == ["<Far@Remote.Example>\tqueued\tnotify failure,delay",
                     "<other@remote.example>\tqueued\tnotify default"]
    # The whole entry, and the message's header as queued.
    shown = server.cli("queue", "show", str(qid)).stdout
    fields, _, header = shown.partition("\n\n")
    assert f"id: {qid}" in fields.splitlines()
    assert f"from: <{ALICE}>" in fields.splitlines()
    assert "envid: q1" in fields.splitlines() and "ret: hdrs" in fields.splitlines()
    assert any(line.startswith("recipient: <Far@Remote.Example>\tqueued\tnotify failure,delay\torcpt ")
               and line.endswith("\t-") for line in fields.splitlines()), fields
    assert "Subject: for the queue" in header
    assert "\nReturn-Path:" not in "\n" + header
    unknown = server.cli("queue", "show", "999999", check=False)
    assert unknown.returncode != 0 and "no queue entry 999999" in unknown.stderr
    # An operator can hold it, release it, and make it due now.
    assert f"held queue entry {qid}" in server.cli("queue", "hold", str(qid)).stdout
    assert queue_entries(server)[qid][0].endswith("\theld")
    assert f"released queue entry {qid}" in server.cli("queue", "release", str(qid)).stdout
    assert not queue_entries(server)[qid][0].endswith("\theld")
    assert f"queue entry {qid} is due now" in server.cli("queue", "retry", str(qid)).stdout
    missing = server.cli("queue", "hold", "999999", check=False)
    assert missing.returncode != 0 and "no queue entry" in missing.stderr
    # An operator can drop it; a second delete finds nothing.
    assert f"deleted queue entry {qid}" in server.cli("queue", "delete", str(qid)).stdout
    assert qid not in queue_entries(server)
    gone = server.cli("queue", "del", str(qid), check=False)
    assert gone.returncode != 0 and "no queue entry" in gone.stderr


# ---- headers a submission server completes (RFC 6409 8.2, 8.3)

def remove_field(message_bytes, name):
    """Removes the one header field `name` (with its continuation lines); returns
    (field value unfolded, message without it)."""
    head, sep, body = message_bytes.partition(b"\r\n\r\n")
    lines = head.split(b"\r\n")
    found = [i for i, line in enumerate(lines) if line.lower().startswith(name.lower() + b":")]
    assert len(found) == 1, (name, head)
    i = found[0]
    end = i + 1
    while end < len(lines) and lines[end][:1] in (b" ", b"\t"):
        end += 1
    value = b" ".join(line.strip() for line in lines[i:end])[len(name) + 1:].strip()
    return value.decode(), b"\r\n".join(lines[:i] + lines[end:]) + sep + body


def test_message_id_and_date_are_added_when_missing(server):
    content = b"From: <alice@example.org>\r\nTo: <bob@example.org>\r\nSubject: bare\r\n\r\nNo ids here.\r\n"
    mark = server.last_uid(BOB)
    with smtp587(server) as s:
        s.login(ALICE, ALICE_PW)
        assert s.sendmail(ALICE, [BOB], content) == {}
    _, _, rest = delivered(server, BOB, mark)
    message_id, rest = remove_field(rest, b"Message-ID")
    date, rest = remove_field(rest, b"Date")
    assert rest == content
    assert re.fullmatch(r"<[^<>@\s]+@[^<>@\s]+>", message_id), message_id
    assert email.utils.parsedate_to_datetime(date).tzinfo is not None, date


def test_message_id_and_date_are_kept_when_present(server):
    content = message("with ids", extra=b"X-Mailer: test\r\n")
    mark = server.last_uid(BOB)
    with smtp587(server) as s:
        s.login(ALICE, ALICE_PW)
        assert s.sendmail(ALICE, [BOB], content) == {}
    assert delivered(server, BOB, mark)[2] == content


# ---- 465 with real clients

def test_465_smtplib_ssl(server):
    content = message("over 465")
    mark = server.last_uid(BOB)
    with smtplib.SMTP_SSL("127.0.0.1", port465(server), local_hostname="client.test",
                          context=TLS_CTX, timeout=20) as s:
        s.ehlo()
        assert "PLAIN" in s.esmtp_features["auth"].upper()
        assert s.login(ALICE, ALICE_PW)[0] == 235
        assert s.sendmail(ALICE, [BOB], content) == {}
    return_path, received, rest = delivered(server, BOB, mark)
    assert return_path == ALICE and rest == content and "TLSv1" in received


def test_465_curl_smtps(server, tmp_path):
    content = message("curl over 465", extra=b"X-Note: .dot and\r\n")
    path = tmp_path / "mail.eml"
    path.write_bytes(content)
    mark = server.last_uid(BOB)
    res = subprocess.run(["curl", "-sS", "--insecure", f"smtps://127.0.0.1:{port465(server)}/client.test",
                          "--user", f"{ALICE}:{ALICE_PW}", "--mail-from", ALICE, "--mail-rcpt", BOB,
                          "--upload-file", str(path)], capture_output=True, text=True, timeout=60)
    assert res.returncode == 0, res.stderr
    assert delivered(server, BOB, mark)[2] == content


def test_465_swaks_tls_on_connect(server):
    mark = server.last_uid(BOB)
    res = subprocess.run(["swaks", "--server", "127.0.0.1", "--port", str(port465(server)), "--tlsc",
                          "--auth", "PLAIN", "--auth-user", ALICE, "--auth-password", ALICE_PW,
                          "--helo", "client.test", "--from", ALICE, "--to", BOB,
                          "--header", "Subject: swaks on 465", "--body", "swaks 465 marker"],
                         capture_output=True, text=True, timeout=60)
    assert res.returncode == 0, res.stdout + res.stderr
    return_path, _, rest = delivered(server, BOB, mark)
    assert return_path == ALICE and b"swaks 465 marker" in rest


def test_587_swaks_starttls_auth_plain(server):
    mark = server.last_uid(BOB)
    res = subprocess.run(["swaks", "--server", "127.0.0.1", "--port", str(port587(server)), "--tls",
                          "--auth", "PLAIN", "--auth-user", ALICE, "--auth-password", ALICE_PW,
                          "--helo", "client.test", "--from", ALICE, "--to", BOB,
                          "--header", "Subject: swaks on 587", "--body", "swaks 587 marker"],
                         capture_output=True, text=True, timeout=60)
    assert res.returncode == 0, res.stdout + res.stderr
    return_path, _, rest = delivered(server, BOB, mark)
    assert return_path == ALICE and b"swaks 587 marker" in rest


def test_swaks_with_a_wrong_password_fails(server):
    res = subprocess.run(["swaks", "--server", "127.0.0.1", "--port", str(port587(server)), "--tls",
                          "--auth", "PLAIN", "--auth-user", CAROL, "--auth-password", "wrong",
                          "--from", CAROL, "--to", BOB], capture_output=True, text=True, timeout=60)
    assert res.returncode != 0
    assert "535" in res.stdout
