"""Two-way sync with mbsync (isync) against a real `tern serve` over IMAPS: pull an account
into a local Maildir, change it locally (flags, a deletion, a new folder with a message moved
into it), push, and check the server with imaplib as a second client; then change the server
(STORE, an SMTP delivery), sync again, and check the Maildir."""

import imaplib
import os
import re
import shutil
import ssl
import subprocess
from pathlib import Path

import pytest

from harness import TernServer

MBSYNC = shutil.which("mbsync")
pytestmark = pytest.mark.skipif(MBSYNC is None, reason="mbsync (Debian package isync) is not installed")

CTX = ssl._create_unverified_context()
USER = "alice@example.org"
PASSWORD = "mbsync-test-password"


@pytest.fixture
def server():
    s = TernServer()
    s.add_user(USER, PASSWORD)
    s.start()
    yield s
    s.close()


def message(subject):
    return (f"From: <sender@remote.example>\r\nTo: <{USER}>\r\nSubject: {subject}\r\n"
            f"Message-ID: <{subject}@remote.example>\r\n\r\nThis is {subject}.\r\n")


def write_config(tmp, server):
    maildir = tmp / "Mail"
    maildir.mkdir()
    rc = tmp / "mbsyncrc"
    # isync 1.4: a certificate listed in CertificateFile is trusted as it is (the test
    # server's self-signed one, issued for its hostname rather than 127.0.0.1).
    rc.write_text(f"""\
IMAPAccount tern
Host 127.0.0.1
Port {server.port("imap", "implicit")}
User {USER}
Pass {PASSWORD}
AuthMechs LOGIN
SSLType IMAPS
CertificateFile {server.data_dir / "tls" / "cert.pem"}

IMAPStore tern-far
Account tern

MaildirStore local
Path {maildir}/
Inbox {maildir}/INBOX
SubFolders Verbatim

Channel tern
Far :tern-far:
Near :local:
Patterns *
Create Both
Expunge Both
SyncState *
""")
    return rc, maildir


def mbsync(tmp, rc):
    env = dict(os.environ, HOME=str(tmp))
    res = subprocess.run([MBSYNC, "-c", str(rc), "-a"], capture_output=True, text=True, timeout=120, env=env)
    assert res.returncode == 0, f"mbsync failed ({res.returncode}):\n{res.stdout}\n{res.stderr}"


def maildir_messages(folder):
    """Subject -> (path, Maildir flag letters) of every message in a Maildir folder."""
    found = {}
    for sub in ("new", "cur"):
        for path in (folder / sub).iterdir():
            m = re.search(rb"^Subject: (.*?)\r?$", path.read_bytes(), re.M)
            assert m, path
            info = path.name.partition(":2,")[2]
            found[m.group(1).decode()] = (path, info)
    return found


def set_flags(path, letters):
    """Gives a Maildir message these flags: moves it to cur/ with the ":2,<letters>" suffix
    (letters in ASCII order, as the Maildir spec asks)."""
    base = path.name.partition(":2,")[0]
    path.rename(path.parent.parent / "cur" / f"{base}:2,{''.join(sorted(letters))}")


def connect(server):
    conn = imaplib.IMAP4_SSL("127.0.0.1", server.port("imap", "implicit"), ssl_context=CTX, timeout=30)
    assert conn.login(USER, PASSWORD)[0] == "OK"
    return conn


def ok(result):
    typ, data = result
    assert typ == "OK", data
    return data


def server_messages(conn, mailbox):
    """Subject -> (uid, set of flags) in a server mailbox."""
    ok(conn.select(f'"{mailbox}"', readonly=True))
    found = {}
    for item in ok(conn.uid("FETCH", "1:*", "(UID FLAGS BODY.PEEK[HEADER.FIELDS (SUBJECT)])")):
        if not isinstance(item, tuple):
            continue
        meta, header = item
        uid = int(re.search(rb"UID (\d+)", meta).group(1))
        flags = set(re.search(rb"FLAGS \(([^)]*)\)", meta).group(1).decode().split())
        subject = re.search(rb"Subject: (.*?)\r\n", header).group(1).decode()
        found[subject] = (uid, flags)
    ok(conn.close())
    return found


def test_mbsync_two_way_sync(server, tmp_path):
    for n in range(1, 5):
        server.deliver(USER, message(f"m{n}"))
    rc, maildir = write_config(tmp_path, server)

    # Pull: every message and every folder of the account arrives.
    mbsync(tmp_path, rc)
    inbox = maildir_messages(maildir / "INBOX")
    assert sorted(inbox) == ["m1", "m2", "m3", "m4"]
    assert all(info == "" for _, info in inbox.values())
    for name in ("Drafts", "Sent", "Trash", "Junk", "Archive"):
        assert (maildir / name / "cur").is_dir(), name
    conn = connect(server)
    m3_uid = server_messages(conn, "INBOX")["m3"][0]
    ok(conn.select("INBOX", readonly=True))
    m3_bytes = ok(conn.uid("FETCH", str(m3_uid), "(BODY.PEEK[])"))[0][1]
    ok(conn.close())

    # Local changes: m1 seen and flagged, m2 deleted, m3 moved into a new folder "Projects"
    # (a Maildir client drops mbsync's ",U=<uid>" from the name when it moves a file).
    set_flags(inbox["m1"][0], "FS")
    inbox["m2"][0].unlink()
    projects = maildir / "Projects"
    for sub in ("cur", "new", "tmp"):
        (projects / sub).mkdir(parents=True)
    m3 = inbox["m3"][0]
    m3.rename(projects / "cur" / re.sub(r",U=\d+", "", m3.name))

    # Push, then look at the server with a second client.
    mbsync(tmp_path, rc)
    on_server = server_messages(conn, "INBOX")
    assert sorted(on_server) == ["m1", "m4"]
    assert on_server["m1"][1] == {"\\Seen", "\\Flagged"}
    assert on_server["m4"][1] == set()
    moved = server_messages(conn, "Projects")
    assert sorted(moved) == ["m3"]
    ok(conn.select("Projects", readonly=True))
    uploaded = ok(conn.uid("FETCH", str(moved["m3"][0]), "(BODY.PEEK[])"))[0][1]
    # mbsync marks what it uploads with an X-TUID header line; otherwise the bytes are kept.
    assert re.sub(rb"(?m)^X-TUID: .*\r\n", b"", uploaded) == m3_bytes
    ok(conn.close())
    listed = ok(conn.list('""', "Projects"))
    assert len(listed) == 1 and listed[0].endswith(b'"Projects"'), listed

    # Server changes: m4 flagged, m1 no longer seen, a new message delivered over SMTP.
    ok(conn.select("INBOX"))
    ok(conn.uid("STORE", str(on_server["m4"][0]), "+FLAGS", "(\\Flagged)"))
    ok(conn.uid("STORE", str(on_server["m1"][0]), "-FLAGS", "(\\Seen)"))
    conn.logout()
    server.deliver(USER, message("m5"))

    mbsync(tmp_path, rc)
    inbox = maildir_messages(maildir / "INBOX")
    assert sorted(inbox) == ["m1", "m4", "m5"]
    assert inbox["m1"][1] == "F"
    assert inbox["m4"][1] == "F"
    assert inbox["m5"][1] == ""
    assert sorted(maildir_messages(projects)) == ["m3"]
