"""Every TLS and STARTTLS listener completes a real handshake with the generated certificate."""

import signal
import socket
import ssl
import subprocess
import time

import pytest

from harness import TernServer

STARTTLS_NAME = {"smtp": "smtp", "submission": "smtp", "imap": "imap", "pop3": "pop3"}


def s_client(port, proto, tls, extra=()):
    args = ["openssl", "s_client", "-connect", f"127.0.0.1:{port}", "-servername", "mail.test", *extra]
    if tls == "starttls":
        args += ["-starttls", STARTTLS_NAME[proto]]
    return subprocess.run(args, input="", capture_output=True, text=True, timeout=30)


@pytest.mark.parametrize("proto,tls", [
    ("smtp", "starttls"), ("submission", "starttls"), ("submission", "implicit"),
    ("imap", "starttls"), ("imap", "implicit"), ("pop3", "starttls"), ("pop3", "implicit"),
])
def test_openssl_s_client_handshake(tern, proto, tls):
    res = s_client(tern.port(proto, tls), proto, tls)
    out = res.stdout + res.stderr
    assert "Cipher is" in out and "(NONE)" not in out, out
    assert "New, TLSv1.3" in out or "New, TLSv1.2" in out, out
    assert "-----BEGIN CERTIFICATE-----" in out, out


def peer_certificate(port):
    ctx = ssl.create_default_context()
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    with socket.create_connection(("127.0.0.1", port), timeout=10) as raw:
        with ctx.wrap_socket(raw, server_hostname="mail.test") as tls:
            return tls.getpeercert(binary_form=True), tls.version()


def san_of(der):
    pem = ssl.DER_cert_to_PEM_cert(der)
    res = subprocess.run(["openssl", "x509", "-noout", "-ext", "subjectAltName"], input=pem,
                         capture_output=True, text=True, check=True)
    return res.stdout


def test_self_signed_certificate_names_the_hostname(tern):
    der, version = peer_certificate(tern.port("imap", "implicit"))
    assert "DNS:mail.test" in san_of(der)
    assert version in ("TLSv1.2", "TLSv1.3")
    assert (tern.data_dir / "tls" / "cert.pem").exists()
    assert (tern.data_dir / "tls" / "key.pem").stat().st_mode & 0o077 == 0


@pytest.mark.filterwarnings("ignore::DeprecationWarning")  # TLS 1.1 is what we want to see refused
def test_tls_1_1_is_refused(tern):
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    ctx.set_ciphers("DEFAULT:@SECLEVEL=0")
    ctx.minimum_version = ssl.TLSVersion.TLSv1
    ctx.maximum_version = ssl.TLSVersion.TLSv1_1
    with socket.create_connection(("127.0.0.1", tern.port("imap", "implicit")), timeout=10) as raw:
        with pytest.raises(ssl.SSLError) as err:
            with ctx.wrap_socket(raw, server_hostname="mail.test"):
                pass
    # The server's alert, not a client-side refusal to try.
    assert "PROTOCOL_VERSION" in str(err.value).upper() or "UNSUPPORTED_PROTOCOL" in str(err.value).upper()


def test_plaintext_pipelined_after_starttls_is_discarded(tern):
    """RFC 3501 11.1 / RFC 3207 4.2: bytes sent before the handshake must not be executed."""
    with socket.create_connection(("127.0.0.1", tern.port("imap", "starttls")), timeout=10) as raw:
        f = raw.makefile("rb")
        assert f.readline().startswith(b"* OK")
        raw.sendall(b"a STARTTLS\r\nb LOGOUT\r\n")
        line = f.readline()
        assert line.startswith(b"a OK"), line
        ctx = ssl._create_unverified_context()
        with ctx.wrap_socket(raw, server_hostname="mail.test") as tls:
            tls.sendall(b"c NOOP\r\n")
            reply = tls.recv(4096)
            assert reply.startswith(b"c OK"), reply  # b LOGOUT was not run


def write_cert(directory, cn):
    cert, key = directory / f"{cn}.crt", directory / f"{cn}.key"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256",
                    "-nodes", "-keyout", str(key), "-out", str(cert), "-days", "2", "-subj", f"/CN={cn}",
                    "-addext", f"subjectAltName=DNS:{cn}"], check=True, capture_output=True)
    return cert, key


def test_sighup_reloads_the_certificate(tmp_path):
    cert, key = write_cert(tmp_path, "first.test")
    live_cert, live_key = tmp_path / "live.crt", tmp_path / "live.key"
    live_cert.write_bytes(cert.read_bytes())
    live_key.write_bytes(key.read_bytes())
    server = TernServer(extra_config=f'[tls]\ncert = "{live_cert}"\nkey = "{live_key}"\n',
                        listeners=[("imap", "implicit")])
    try:
        server.start()
        port = server.port("imap", "implicit")
        assert "DNS:first.test" in san_of(peer_certificate(port)[0])
        cert2, key2 = write_cert(tmp_path, "second.test")
        live_cert.write_bytes(cert2.read_bytes())
        live_key.write_bytes(key2.read_bytes())
        server.signal(signal.SIGHUP)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            if "DNS:second.test" in san_of(peer_certificate(port)[0]):
                break
            time.sleep(0.1)
        else:
            pytest.fail("certificate not reloaded after SIGHUP")
    finally:
        server.close()
