"""Real POP3 download clients against Tern: fetchmail (delete mode, and keep mode that
relies on UIDL) and getmail6, both over POP3S (implicit TLS). scripts/setup installs them."""

import os
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from pop3_util import PASSWORD, RawPop, message, new_user, stored

FETCHMAIL = shutil.which("fetchmail")
GETMAIL = shutil.which("getmail")

# An MDA for fetchmail: each message on stdin becomes one file in the directory.
MDA = textwrap.dedent("""\
    import os, sys, uuid
    data = sys.stdin.buffer.read()
    with open(os.path.join(sys.argv[1], uuid.uuid4().hex), "wb") as f:
        f.write(data)
""")


def stat(tern, user):
    pop = RawPop(tern.port("pop3", "implicit"))
    pop.login(user)
    count = int(pop.cmd("STAT").split()[1])
    pop.cmd("QUIT")
    pop.close()
    return count


class Fetchmail:
    def __init__(self, tern, user, tmp_path, keep):
        self.home = tmp_path / "fetchmail"
        self.out = tmp_path / "delivered"
        self.home.mkdir()
        self.out.mkdir()
        (self.home / "mda.py").write_text(MDA)
        keep_opts = "keep" if keep else "nokeep"
        uidl = " uidl" if keep else ""  # client-side tracking of what is new, by UIDL
        rc = self.home / "fetchmailrc"
        rc.write_text(
            "set no syslog\n"
            f"set idfile \"{self.home / 'fetchids'}\"\n"
            f"poll 127.0.0.1 service {tern.port('pop3', 'implicit')} protocol POP3{uidl} auth password\n"
            f"  user \"{user}\" password \"{PASSWORD}\"\n"
            f"  options ssl no sslcertck {keep_opts}\n"
            f"  mda \"{sys.executable} {self.home / 'mda.py'} {self.out}\"\n")
        rc.chmod(0o600)
        self.rc = rc

    def run(self):
        env = dict(os.environ, FETCHMAILHOME=str(self.home), HOME=str(self.home))
        return subprocess.run([FETCHMAIL, "-f", str(self.rc), "--nodetach", "--pidfile", str(self.home / "pid")],
                              capture_output=True, text=True, timeout=120, env=env)

    def delivered(self):
        return sorted(p.read_bytes() for p in self.out.iterdir())


@pytest.mark.skipif(FETCHMAIL is None, reason="fetchmail not installed (scripts/setup installs it)")
def test_fetchmail_delete_mode_takes_everything_once(tern, tmp_path):
    user = new_user(tern, "fetch")
    raws = [message(f"fetchmail {i}", f"body {i}\r\n.dot line\r\n") for i in range(3)]
    for raw in raws:
        tern.deliver(user, raw)
    fm = Fetchmail(tern, user, tmp_path, keep=False)
    first = fm.run()
    assert first.returncode == 0, first.stdout + first.stderr
    got = fm.delivered()
    assert len(got) == 3
    for raw in raws:
        assert any(stored(raw).replace(b"\r\n", b"\n") in g.replace(b"\r\n", b"\n") for g in got), raw
    assert stat(tern, user) == 0
    second = fm.run()
    assert second.returncode == 1, second.stdout + second.stderr  # PS_NOMAIL
    assert len(fm.delivered()) == 3


@pytest.mark.skipif(FETCHMAIL is None, reason="fetchmail not installed (scripts/setup installs it)")
def test_fetchmail_keep_mode_fetches_only_new_mail_by_uidl(tern, tmp_path):
    user = new_user(tern, "keep")
    for i in range(2):
        tern.deliver(user, message(f"kept {i}"))
    fm = Fetchmail(tern, user, tmp_path, keep=True)
    first = fm.run()
    assert first.returncode == 0, first.stdout + first.stderr
    assert len(fm.delivered()) == 2
    assert stat(tern, user) == 2  # kept on the server
    second = fm.run()
    assert second.returncode == 1, second.stdout + second.stderr  # nothing new
    assert len(fm.delivered()) == 2
    tern.deliver(user, message("kept new"))
    third = fm.run()
    assert third.returncode == 0, third.stdout + third.stderr
    got = fm.delivered()
    assert len(got) == 3
    assert sum(b"Subject: kept new" in g for g in got) == 1
    assert stat(tern, user) == 3


@pytest.mark.skipif(GETMAIL is None, reason="getmail6 not installed (scripts/setup installs it)")
@pytest.mark.parametrize("delete", [True, False])
def test_getmail6_over_pop3s(tern, tmp_path, delete):
    user = new_user(tern, "getmail")
    raws = [message(f"getmail {i}", f"line {i}\r\n..two dots\r\n") for i in range(2)]
    for raw in raws:
        tern.deliver(user, raw)
    out = tmp_path / "delivered"
    out.mkdir()
    gdir = tmp_path / "getmail"
    gdir.mkdir()
    (gdir / "mda.py").write_text(MDA)
    rc = gdir / "getmailrc"
    # getmail refuses Maildir delivery as root (the tests may run as root): an external MDA,
    # explicitly allowed, stores each message as a file instead.
    rc.write_text(textwrap.dedent(f"""\
        [retriever]
        type = SimplePOP3SSLRetriever
        server = 127.0.0.1
        port = {tern.port('pop3', 'implicit')}
        username = {user}
        password = {PASSWORD}

        [destination]
        type = MDA_external
        path = {sys.executable}
        arguments = ("{gdir / 'mda.py'}", "{out}")
        allow_root_commands = true

        [options]
        delete = {str(delete).lower()}
        read_all = false
        verbose = 0
        """))

    def run():
        res = subprocess.run([GETMAIL, f"--rcfile={rc}", f"--getmaildir={gdir}"],
                             capture_output=True, text=True, timeout=120)
        assert res.returncode == 0, res.stdout + res.stderr
        return sorted(p.read_bytes() for p in out.iterdir())

    got = run()
    assert len(got) == 2
    for raw in raws:
        assert any(stored(raw).replace(b"\r\n", b"\n") in g.replace(b"\r\n", b"\n") for g in got)
    assert stat(tern, user) == (0 if delete else 2)
    # A second run finds nothing new: deleted mail is gone, kept mail is known by its UIDL.
    assert len(run()) == 2
