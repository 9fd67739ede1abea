"""Differential test of IMAP SEARCH (src/imap/search.h) against Python's email package.

A gen_mbox.py corpus (200 messages by default) is searched by tern_imap_search_tool for
header, body, date and boolean criteria; the expected message numbers are computed here,
independently: headers decoded by Python's email (policy.default), text compared after
NFKC + casefold, Date: fields read by email.utils.parsedate_tz.

Run: /usr/bin/python3 -m pytest -q tests/imap_search
Needs tern_imap_search_tool: env TERN_IMAP_SEARCH_TOOL, else
build/release/src/imap/tern_imap_search_tool.
"""
import datetime
import email
import email.policy
import email.utils
import html
import mailbox
import os
import re
import subprocess
import sys
import unicodedata
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
GEN = REPO.parent / "shared" / "corpus" / "gen_mbox.py"
CORPUS_N = int(os.environ.get("TERN_IMAP_SEARCH_N", "200"))
BASE_TIME = 1704067200  # 2024-01-01T00:00:00Z; message i is received at BASE_TIME + i * 12 h


def tool_binary():
    path = Path(os.environ.get("TERN_IMAP_SEARCH_TOOL", REPO / "build/release/src/imap/tern_imap_search_tool"))
    if not path.exists():
        pytest.fail(f"tern_imap_search_tool not found at {path} (build it or set TERN_IMAP_SEARCH_TOOL)")
    return path


def fold(s):
    return unicodedata.normalize("NFKC", unicodedata.normalize("NFKC", s).casefold())


class Oracle:
    """What Python's email package sees of one message."""

    def __init__(self, raw, internal_date, seq):
        self.seq = seq  # the tool gives message i the sequence number and UID i
        self.msg = email.message_from_bytes(raw, policy=email.policy.default)
        self.size = len(raw)
        self.internal_day = datetime.datetime.fromtimestamp(internal_date, datetime.timezone.utc).date()
        self.fields = [(k.lower(), str(v)) for k, v in self.msg.items()]
        texts, inner_headers = [], []
        for part in self.msg.walk():
            if part.get_content_type() == "message/rfc822":
                for inner in part.get_payload():
                    inner_headers += [f"{k}: {v}" for k, v in inner.items()]
            elif part.get_content_maintype() == "text" and not part.is_multipart():
                t = part.get_content()
                if part.get_content_subtype() == "html":
                    t = re.sub(r"(?is)<(style|script|head|title)\b.*?</\1\s*>", "", t)
                    t = html.unescape(re.sub(r"<[^>]*>", "\n", t))
                texts.append(t)
        self.body = fold("\n".join(inner_headers + texts))
        self.headers = fold("\n".join(f"{k}: {v}" for k, v in self.msg.items()))
        d = email.utils.parsedate_tz(str(self.msg.get("Date", "")))
        self.sent_day = datetime.date(d[0], d[1], d[2]) if d else self.internal_day

    def header(self, name, needle):
        values = [v for k, v in self.fields if k == name.lower()]
        return any(fold(needle) in fold(v) for v in values)


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    d = tmp_path_factory.mktemp("imap_search")
    mbox = d / "corpus.mbox"
    subprocess.run([sys.executable, str(GEN), str(mbox), str(CORPUS_N), "11"], check=True, capture_output=True)
    messages = []
    box = mailbox.mbox(str(mbox))
    for key in box.keys():
        messages.append(box.get_bytes(key).replace(b"\r\n", b"\n").replace(b"\n", b"\r\n"))
    box.close()
    assert len(messages) == CORPUS_N
    lp = d / "messages.lp"
    with open(lp, "wb") as f:
        for i, m in enumerate(messages):
            f.write(b"%d %d\n" % (len(m), BASE_TIME + i * 43200))
            f.write(m)
    oracles = [Oracle(m, BASE_TIME + i * 43200, i + 1) for i, m in enumerate(messages)]
    return lp, oracles


def astring(s):
    b = s.encode("utf-8")
    if all(0x20 <= c < 0x7F for c in b) and '"' not in s and "\\" not in s:
        return f'"{s}"'.encode()
    return b"{%d}\n" % len(b) + b


def run_tool(lp, queries):
    """queries: lists of byte fragments forming each SEARCH argument line."""
    stdin = b"".join(b"".join(q) + b"\n" for q in queries)
    out = subprocess.run([str(tool_binary()), str(lp)], input=stdin, check=True, capture_output=True).stdout
    lines = out.decode().splitlines()
    assert len(lines) == len(queries)
    results = []
    for line in lines:
        assert line.startswith("* SEARCH"), line
        results.append({int(x) for x in line.split()[2:]})
    return results


def imap_date(d):
    return d.strftime("%d-%b-%Y").encode()


def check(corpus, cases):
    """cases: (query fragments, predicate over Oracle)."""
    lp, oracles = corpus
    got = run_tool(lp, [q for q, _ in cases])
    failures = []
    for (q, pred), g in zip(cases, got):
        want = {i + 1 for i, o in enumerate(oracles) if pred(o)}
        if g != want:
            failures.append(f"{b''.join(q)!r}: tern-only {sorted(g - want)[:10]}, python-only {sorted(want - g)[:10]}")
    assert not failures, "\n".join(failures)


SUBJECTS = ["meeting", "REPORT", "invoice", "Re:", "#1", "#42", "lunch tomorrow?", "grüße", "MÜNCHEN", "café",
            "ÆRØSKØBING", "日本語", "привет", "ΔΟΚΙΜΉ", "€100", "straße", "STRASSE", "señor", "nothing-matches-this"]
NAMES = ["alice", "Müller", "GARCÍA", "o'brien", "zoë", "josé", "SØREN", "chloé", "example.net",
         "lists.example.org", "smith", "nobody@nowhere"]


def test_subject(corpus):
    check(corpus, [([b"CHARSET UTF-8 SUBJECT ", astring(s)], lambda o, s=s: o.header("Subject", s))
                   for s in SUBJECTS])


@pytest.mark.parametrize("key", ["FROM", "TO", "CC"])
def test_address_fields(corpus, key):
    check(corpus, [([b"CHARSET UTF-8 %s " % key.encode(), astring(n)], lambda o, n=n, k=key: o.header(k, n))
                   for n in NAMES])


def test_header(corpus):
    cases = [
        ([b'HEADER X-Mailer ""'], lambda o: any(k == "x-mailer" for k, _ in o.fields)),
        ([b'HEADER In-Reply-To ""'], lambda o: any(k == "in-reply-to" for k, _ in o.fields)),
        ([b"HEADER X-Mailer thunderbird"], lambda o: o.header("X-Mailer", "thunderbird")),
        ([b"HEADER references gen1"], lambda o: o.header("References", "gen1")),
        ([b"HEADER Message-ID ", astring("@example.org>")], lambda o: o.header("Message-ID", "@example.org>")),
    ]
    check(corpus, cases)


def test_body_and_text(corpus):
    words = ["warranty", "MERCHANTABILITY", "copyleft", "grüße", "münchen", "日本語", "Привет", "zzqx-none"]
    cases = [([b"CHARSET UTF-8 BODY ", astring(w)], lambda o, w=w: fold(w) in o.body) for w in words]
    cases += [([b"CHARSET UTF-8 TEXT ", astring(w)], lambda o, w=w: fold(w) in o.body or fold(w) in o.headers)
              for w in words + ["thunderbird", "Message-ID: <"]]
    check(corpus, cases)


def test_dates(corpus):
    _, oracles = corpus
    days = sorted({o.sent_day for o in oracles})
    pick = [days[0], days[len(days) // 3], days[len(days) // 2], days[-1]]
    cases = []
    for d in pick:
        cases += [
            ([b"SENTON ", imap_date(d)], lambda o, d=d: o.sent_day == d),
            ([b"SENTBEFORE ", imap_date(d)], lambda o, d=d: o.sent_day < d),
            ([b"SENTSINCE ", imap_date(d)], lambda o, d=d: o.sent_day >= d),
        ]
    internal = sorted({o.internal_day for o in oracles})
    for d in [internal[1], internal[len(internal) // 2]]:
        cases += [
            ([b"ON ", imap_date(d)], lambda o, d=d: o.internal_day == d),
            ([b"BEFORE ", imap_date(d)], lambda o, d=d: o.internal_day < d),
            ([b"SINCE ", imap_date(d)], lambda o, d=d: o.internal_day >= d),
        ]
    check(corpus, cases)


def test_sizes_sets_and_boolean(corpus):
    def seq_in(o, lo, hi):
        return lo <= o.seq <= hi

    cases = [
        ([b"LARGER 100000"], lambda o: o.size > 100000),
        ([b"SMALLER 5000"], lambda o: o.size < 5000),
        ([b"OR FROM alice SUBJECT invoice"], lambda o: o.header("From", "alice") or o.header("Subject", "invoice")),
        ([b"NOT SUBJECT re:"], lambda o: not o.header("Subject", "re:")),
        ([b"FROM example.com NOT (OR TO example.org CC example.org)"],
         lambda o: o.header("From", "example.com") and not (o.header("To", "example.org") or o.header("Cc", "example.org"))),
        ([b"10:50 SUBJECT re LARGER 3000"], lambda o: seq_in(o, 10, 50) and o.header("Subject", "re") and o.size > 3000),
        ([b"UID 150:* OR NOT BODY warranty FROM smith"],
         lambda o: o.seq >= 150 and (fold("warranty") not in o.body or o.header("From", "smith"))),
    ]
    check(corpus, cases)


def test_bad_charset(corpus):
    lp, _ = corpus
    out = subprocess.run([str(tool_binary()), str(lp)], input=b"CHARSET ISO-8859-1 SUBJECT x\n",
                         check=True, capture_output=True).stdout.decode()
    assert out.startswith("NO [BADCHARSET (UTF-8 US-ASCII)]")
