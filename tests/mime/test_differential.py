"""Differential test of the MIME engine (src/mime) against Python's email package.

Both parsers read the same bytes: a gen_mbox.py corpus (>= 1000 messages) plus hand-made
malformed messages. For each message we compare the part tree (preorder, depth, content
type, parameters), decoded Subject/From/To/Cc, and the SHA-256 of each leaf's decoded body
(transfer encoding removed) and, for text parts, of its text decoded to UTF-8.
Where the two parsers must differ, the case says why and checks what tern does instead.

Run: /usr/bin/python3 -m pytest -q tests/mime
Needs tern_mime_dump: env TERN_MIME_DUMP, else build/release/src/mime/tern_mime_dump.
"""
import email
import email.policy
import hashlib
import json
import mailbox
import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
GEN = REPO.parent / "shared" / "corpus" / "gen_mbox.py"
CORPUS_N = int(os.environ.get("TERN_MIME_DIFF_N", "1200"))


def dump_binary():
    path = Path(os.environ.get("TERN_MIME_DUMP", REPO / "build/release/src/mime/tern_mime_dump"))
    if not path.exists():
        pytest.fail(f"tern_mime_dump not found at {path} (build it or set TERN_MIME_DUMP)")
    return path


def run_dump(messages, tmp_path):
    blob = tmp_path / "messages.lp"
    with open(blob, "wb") as f:
        for m in messages:
            f.write(b"%d\n" % len(m))
            f.write(m)
    out = subprocess.run([str(dump_binary()), str(blob)], check=True, capture_output=True).stdout
    lines = out.decode("utf-8", "surrogateescape").splitlines()
    assert len(lines) == len(messages)
    return [json.loads(line) for line in lines]


def sha(b):
    return hashlib.sha256(b).hexdigest()


def py_params(m):
    h = m.get("content-type")
    ct = m.get_content_type()
    if h is None or "/" not in str(h).split(";")[0]:
        # No (or an invalid) Content-Type: RFC 2045 5.2 default, which Python does not
        # materialise as a parameter.
        return {"charset": "us-ascii"} if ct == "text/plain" else {}
    return {k.lower(): str(v) for k, v in h.params.items()}


def py_walk(m, depth, out):
    entry = {"d": depth, "type": m.get_content_type(), "params": py_params(m)}
    out.append(entry)
    if m.is_multipart():
        for sub in m.get_payload():
            py_walk(sub, depth + 1, out)
        return
    body = m.get_payload(decode=True) or b""
    entry["len"] = len(body)
    entry["sha"] = sha(body)
    if m.get_content_maintype() == "text":
        entry["text_sha"] = sha(m.get_content().encode("utf-8", "surrogateescape"))


def py_addrs(msg, name):
    h = msg.get(name)
    if h is None:
        return []
    out = []
    for a in getattr(h, "addresses", ()):
        addr = a.username + ("@" + a.domain if a.domain else "")
        out.append([a.display_name, addr])
    return out


def py_describe(raw):
    msg = email.message_from_bytes(raw, policy=email.policy.default)
    subject = msg.get("subject")
    parts = []
    py_walk(msg, 0, parts)
    return {
        "subject": None if subject is None else str(subject),
        "from": py_addrs(msg, "from"),
        "to": py_addrs(msg, "to"),
        "cc": py_addrs(msg, "cc"),
        "parts": parts,
    }


def normalise_tern(d):
    d = dict(d)
    d["parts"] = [dict(p, params=dict(reversed(p["params"]))) for p in d["parts"]]
    return d


def compare(tern, py):
    """Returns a list of differences (empty when the parsers agree)."""
    tern = normalise_tern(tern)
    diffs = []
    for key in ("subject", "from", "to", "cc"):
        if tern[key] != py[key]:
            diffs.append(f"{key}: tern={tern[key]!r} python={py[key]!r}")
    if len(tern["parts"]) != len(py["parts"]):
        diffs.append(f"part count: tern={len(tern['parts'])} python={len(py['parts'])}")
        return diffs
    for i, (a, b) in enumerate(zip(tern["parts"], py["parts"])):
        for key in ("d", "type", "params", "len", "sha", "text_sha"):
            if a.get(key) != b.get(key):
                diffs.append(f"part {i} {key}: tern={a.get(key)!r} python={b.get(key)!r}")
    return diffs


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    out = tmp_path_factory.mktemp("corpus") / "gen.mbox"
    subprocess.run(["/usr/bin/python3", str(GEN), str(out), str(CORPUS_N), "7"], check=True,
                   capture_output=True)
    box = mailbox.mbox(str(out), create=False)
    messages = [box.get_bytes(k) for k in box.keys()]
    box.close()
    return messages


def test_generated_corpus_matches_python(corpus, tmp_path):
    assert len(corpus) >= 1000
    tern = run_dump(corpus, tmp_path)
    failures = []
    for i, (raw, t) in enumerate(zip(corpus, tern)):
        diffs = compare(t, py_describe(raw))
        if diffs:
            failures.append(f"message {i}: " + "; ".join(diffs[:3]))
    assert not failures, f"{len(failures)} of {len(corpus)} differ:\n" + "\n".join(failures[:20])
    # The corpus really exercises the tree: nested messages, multiparts, attachments.
    kinds = {p["type"] for t in tern for p in t["parts"]}
    assert {"multipart/mixed", "multipart/alternative", "message/rfc822", "text/html"} <= kinds


# Malformed or unusual messages on which both parsers must agree.
AGREE = {
    "crlf line endings":
        b"Subject: crlf\r\nContent-Type: multipart/mixed; boundary=x\r\n\r\n--x\r\n\r\none\r\n--x--\r\n",
    "missing close delimiter":
        b"Content-Type: multipart/mixed; boundary=b\n\n--b\n\nfirst\n--b\nContent-Type: text/html\n\nlast\n",
    "delimiter with transport padding":
        b"Content-Type: multipart/mixed; boundary=b\n\npre\n--b  \n\nx\n--b--\t\nepilogue\n",
    "boundary prefix is not a delimiter":
        b"Content-Type: multipart/mixed; boundary=b\n\n--b\n\n--bb\n--b-\n--b--\n",
    "line without colon ends the header":
        b"Subject: s\nthis is not a header\nX: y\n\nbody\n",
    "header only, no blank line": b"Subject: only header\nFrom: a@b.example",
    "empty part headers": b"Content-Type: multipart/mixed; boundary=b\n\n--b\n\n\n--b--\n",
    "nul bytes in body": b"Subject: nul\n\nbefore\x00after\n",
    "invalid content type": b"Content-Type: garbage\n\nbody\n",
    "rfc 2231 continuations":
        b"Content-Type: application/x-stuff;\n title*0*=us-ascii'en'This%20is%20even%20more%20;\n"
        b" title*1*=%2A%2A%2Afun%2A%2A%2A%20;\n title*2=\"isn't it!\"\n\nx",
    "rfc 2231 charset filename":
        b"Content-Type: multipart/mixed; boundary=b\n\n--b\nContent-Type: application/octet-stream;"
        b" name*=iso-8859-1''caf%E9.bin\nContent-Transfer-Encoding: base64\n\naGVsbG8g\nd29ybGQ=\n--b--\n",
    "digest children are message/rfc822":
        b"Content-Type: multipart/digest; boundary=d\n\n--d\n\nSubject: one\n\nbody one\n--d\n"
        b"Content-Type: text/plain\n\nplain\n--d--\n",
    "quoted-printable soft breaks and bad escapes":
        b"Content-Transfer-Encoding: quoted-printable\nContent-Type: text/plain; charset=utf-8\n\n"
        b"caf=C3=A9 soft=\nbreak =ZZ end\n",
    "base64 with line breaks":
        b"Content-Transfer-Encoding: base64\nContent-Type: application/octet-stream\n\naGVs\nbG8g\nd29y\nbGQ=\n",
    "encoded words, adjacent":
        b"Subject: =?ISO-8859-1?Q?a?= =?ISO-8859-1?Q?b?= (=?ISO-8859-1?Q?Andr=E9?= Pirard)\n\n",
    "group address and quoted local part":
        b"From: \"Smith, John\" <john@x.example>\nTo: Team: a@x.example, \"b c\"@y.example;\n\n",
    "utf-8 subject (rfc 6532)": "Subject: Grüße\n\nx".encode(),
    "message/rfc822 inside multipart, unterminated":
        b"Content-Type: multipart/mixed; boundary=o\n\n--o\nContent-Type: message/rfc822\n\n"
        b"Subject: inner\nContent-Type: multipart/alternative; boundary=i\n\n--i\n\nt\n--i\n\nu\n",
    "inner multipart unterminated, outer closed":
        b"Content-Type: multipart/mixed; boundary=o\n\n--o\nContent-Type: multipart/alternative; boundary=i\n\n"
        b"--i\n\nt\n--i\n\nu\n\n--o\n\nlast\n--o--\n",
}


@pytest.mark.parametrize("name", sorted(AGREE))
def test_malformed_agrees_with_python(name, tmp_path):
    raw = AGREE[name]
    (tern,) = run_dump([raw], tmp_path)
    assert compare(tern, py_describe(raw)) == []


def test_missing_boundary_differs(tmp_path):
    # Why: RFC 2046 keeps a multipart a multipart even when no delimiter is found, and
    # IMAP BODYSTRUCTURE needs a multipart node there; Python demotes it to a leaf whose
    # payload is the raw body (StartBoundaryNotFoundDefect / NoBoundaryInMultipartDefect).
    for raw in (b"Content-Type: multipart/mixed; boundary=b\n\n--c\n\nx\n--c--\n",
                b"Content-Type: multipart/mixed\n\nno boundary parameter\n"):
        (tern,) = run_dump([raw], tmp_path)
        py = py_describe(raw)
        assert [p["type"] for p in tern["parts"]] == ["multipart/mixed"]
        assert "sha" not in tern["parts"][0]       # tern: an empty multipart
        assert "sha" in py["parts"][0]             # python: a leaf with the raw body


def test_eight_bit_header_differs(tmp_path):
    # Why: RFC 6532 allows only UTF-8 in headers. For other 8-bit bytes tern reads
    # windows-1252 so the text stays searchable; Python keeps them as undecodable
    # surrogate escapes.
    raw = b"Subject: caf\xe9\n\nx"
    (tern,) = run_dump([raw], tmp_path)
    assert tern["subject"] == "caf\u00e9"
    assert py_describe(raw)["subject"] != "caf\u00e9"


def test_utf8_address_header_differs(tmp_path):
    # Why: RFC 6532 allows UTF-8 display names; Python's bytes parser decodes raw UTF-8 in
    # unstructured fields but leaves it as surrogate escapes in address fields.
    raw = "From: Zoë <zoe@example.com>\n\nx".encode()
    (tern,) = run_dump([raw], tmp_path)
    assert tern["from"] == [["Zoë", "zoe@example.com"]]
    assert py_describe(raw)["from"][0][0] != "Zoë"


def test_huge_header_count_differs(tmp_path):
    # Why: tern keeps at most 4,096 fields per header block (kMaxHeaderFields) so a hostile
    # header costs bounded memory; later fields, here the Content-Type, are not seen. The
    # body still starts after the blank line, so offsets and sizes stay exact. Python keeps
    # every field.
    raw = b"X-Junk: y\n" * 5000 + b"Content-Type: text/html\n\n<p>body</p>\n"
    (tern,) = run_dump([raw], tmp_path)
    py = py_describe(raw)
    assert tern["parts"][0]["type"] == "text/plain"
    assert py["parts"][0]["type"] == "text/html"
    assert tern["parts"][0]["sha"] == py["parts"][0]["sha"]  # same body either way


def test_other_message_subtypes_differ(tmp_path):
    # Why: IMAP (RFC 9051 7.5.2) encapsulates only message/rfc822 and message/global;
    # Python parses every message/* subtype (except delivery-status) as a nested message.
    raw = b"Content-Type: message/partial; id=x\n\nSubject: part\n\nbody\n"
    (tern,) = run_dump([raw], tmp_path)
    assert [p["type"] for p in tern["parts"]] == ["message/partial"]
    assert len(py_describe(raw)["parts"]) == 2


def test_obsolete_and_bare_cr_header_lines_differ(tmp_path):
    # Why: RFC 5322 4.5.8 (obs-optional) allows whitespace before the colon, so tern
    # reads "Subject : x" as a field; Python ends the header there and starts the body.
    raw = b"Subject : spaced\n\nbody\n"
    (tern,) = run_dump([raw], tmp_path)
    assert tern["subject"] == "spaced"
    assert py_describe(raw)["subject"] is None
    # Why: RFC 5322 lines end in CRLF; tern does not split at a bare CR (so the byte
    # offsets IMAP reports stay those of real lines), Python treats a lone CR as a break.
    raw = b"Subject: a\rTo: b@c.example\n\nbody\n"
    (tern,) = run_dump([raw], tmp_path)
    assert tern["to"] == [] and tern["subject"] == "aTo: b@c.example"  # unfolding drops the CR
    assert py_describe(raw)["to"] == [["", "b@c.example"]]


def test_deep_nesting_differs(tmp_path):
    # Why: tern stops nesting at depth 64 (kMaxDepth) to bound work on hostile input; the
    # innermost entity becomes an opaque leaf. Python follows every level.
    raw = b"Content-Type: message/rfc822\n\n" * 100 + b"Subject: deep\n\nbody\n"
    (tern,) = run_dump([raw], tmp_path)
    py = py_describe(raw)
    assert len(tern["parts"]) == 64
    assert max(p["d"] for p in tern["parts"]) == 63
    assert len(py["parts"]) > 64
    assert compare(dict(tern, parts=tern["parts"][:63]), dict(py, parts=py["parts"][:63])) == []


if __name__ == "__main__":
    sys.exit(pytest.main([__file__, "-q"]))
