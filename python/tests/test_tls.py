"""TLS on both listeners against a real daemon: certificates made by openssl for the test, server TLS and mutual TLS,
refusals (plaintext client, wrong CA, no client certificate), SIGHUP reloading the certificate without dropping an
open connection, and unreadable files refused before anything is created."""

from __future__ import annotations

import http.client
import shutil
import signal
import socket
import ssl
import subprocess
import time
from pathlib import Path
from typing import Dict, Iterator

import pytest

from daemon import Daemon, free_port, statehoused_binary
from statehouse import TLS, Put, Statehouse, StatehouseError

pytestmark = pytest.mark.skipif(shutil.which("openssl") is None, reason="openssl is not installed")


def openssl(*args: str, cwd: Path) -> None:
    subprocess.run(["openssl", *args], cwd=cwd, check=True, capture_output=True)


def make_ca(directory: Path, name: str) -> None:
    openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj", f"/CN={name}",
            "-keyout", f"{name}.key", "-out", f"{name}.crt", cwd=directory)  # fmt: skip


def make_leaf(directory: Path, ca: str, name: str, serial: int, server: bool, days: int = 2) -> None:
    openssl("req", "-newkey", "rsa:2048", "-nodes", "-subj", f"/CN={name}", "-keyout", f"{name}.key",
            "-out", f"{name}.csr", cwd=directory)  # fmt: skip
    extensions = directory / f"{name}.ext"
    extensions.write_text(
        "subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth\n"
        if server
        else "extendedKeyUsage=clientAuth\n"
    )
    openssl("x509", "-req", "-in", f"{name}.csr", "-CA", f"{ca}.crt", "-CAkey", f"{ca}.key",
            "-set_serial", str(serial), "-days", str(days), "-extfile", extensions.name,
            "-out", f"{name}.crt", cwd=directory)  # fmt: skip


@pytest.fixture(scope="module")
def certs(tmp_path_factory: pytest.TempPathFactory) -> Path:
    directory = tmp_path_factory.mktemp("certs")
    make_ca(directory, "ca")
    make_ca(directory, "other-ca")
    make_leaf(directory, "ca", "server", 1001, server=True)
    make_leaf(directory, "ca", "server-2", 1002, server=True)
    make_leaf(directory, "ca", "client", 2001, server=False)
    make_leaf(directory, "other-ca", "stranger", 3001, server=False)
    make_leaf(directory, "ca", "expired-client", 2002, server=False, days=-1)  # notAfter yesterday
    make_leaf(directory, "ca", "expired-server", 1003, server=True, days=-1)
    return directory


@pytest.fixture
def tls_daemon(tmp_path: Path, certs: Path) -> Iterator[Dict]:
    started = []

    def start(mtls: bool = False) -> Daemon:
        # The daemon reads its files from its own copies, so that a test can replace them and send SIGHUP.
        shutil.copy(certs / "server.crt", tmp_path / "live.crt")
        shutil.copy(certs / "server.key", tmp_path / "live.key")
        args = ["--tls-cert", str(tmp_path / "live.crt"), "--tls-key", str(tmp_path / "live.key")]
        client_tls = TLS(ca_file=str(certs / "ca.crt"))
        if mtls:
            args += ["--tls-client-ca", str(certs / "ca.crt")]
            client_tls = TLS(
                ca_file=str(certs / "ca.crt"), cert_file=str(certs / "client.crt"), key_file=str(certs / "client.key")
            )
        daemon = Daemon(tmp_path / f"data-{len(started)}", args, client_tls=client_tls).start()
        started.append(daemon)
        return daemon

    yield {"start": start, "certs": certs, "dir": tmp_path}
    for daemon in started:
        daemon.stop()


def https(daemon: Daemon, context: ssl.SSLContext, path: str = "/v1/health") -> int:
    conn = http.client.HTTPSConnection("127.0.0.1", daemon.http_port, context=context, timeout=10)
    try:
        conn.request("GET", path)
        return conn.getresponse().status
    finally:
        conn.close()


def peer_serial(port: int, ca: Path) -> int:
    context = ssl.create_default_context(cafile=str(ca))
    with socket.create_connection(("127.0.0.1", port), timeout=10) as raw:
        with context.wrap_socket(raw, server_hostname="127.0.0.1") as wrapped:
            return int(wrapped.getpeercert()["serialNumber"], 16)


def test_tls_on_both_listeners(tls_daemon: Dict) -> None:
    certs: Path = tls_daemon["certs"]
    daemon = tls_daemon["start"]()
    with Statehouse(url=daemon.url, tls=TLS(ca_file=str(certs / "ca.crt")), namespace="tls") as client:
        result = client.apply([Put("a", "k", {"secret": True})])
        assert client.get_state("a", "k").value == {"secret": True}
    context = ssl.create_default_context(cafile=str(certs / "ca.crt"))
    assert https(daemon, context) == 200
    assert https(daemon, context, f"/v1/namespaces/tls/commits/{result.commit_ts}") == 200

    # Refusals: a plaintext gRPC client, a client that trusts another CA, plaintext HTTP.
    with Statehouse(url=daemon.url, timeout=3) as plaintext:
        with pytest.raises(StatehouseError):
            plaintext.health()
    with Statehouse(url=daemon.url, tls=TLS(ca_file=str(certs / "other-ca.crt")), timeout=3) as wrong:
        with pytest.raises(StatehouseError):
            wrong.health()
    with pytest.raises(ssl.SSLCertVerificationError):
        https(daemon, ssl.create_default_context(cafile=str(certs / "other-ca.crt")))
    conn = http.client.HTTPConnection("127.0.0.1", daemon.http_port, timeout=5)
    with pytest.raises((http.client.HTTPException, ConnectionError, OSError)):
        conn.request("GET", "/v1/health")
        conn.getresponse()
    conn.close()


def test_mutual_tls(tls_daemon: Dict) -> None:
    certs: Path = tls_daemon["certs"]
    daemon = tls_daemon["start"](mtls=True)
    ca = str(certs / "ca.crt")
    with Statehouse(
        url=daemon.url, tls=TLS(ca_file=ca, cert_file=str(certs / "client.crt"), key_file=str(certs / "client.key"))
    ) as client:
        assert client.health() == "ok"
    with Statehouse(url=daemon.url, tls=TLS(ca_file=ca), timeout=3) as anonymous:
        with pytest.raises(StatehouseError):
            anonymous.health()
    with Statehouse(
        url=daemon.url,
        tls=TLS(ca_file=ca, cert_file=str(certs / "stranger.crt"), key_file=str(certs / "stranger.key")),
        timeout=3,
    ) as stranger:
        with pytest.raises(StatehouseError):
            stranger.health()
    expired = TLS(ca_file=ca, cert_file=str(certs / "expired-client.crt"), key_file=str(certs / "expired-client.key"))
    with Statehouse(url=daemon.url, tls=expired, timeout=3) as late:
        with pytest.raises(StatehouseError):
            late.health()
    expired_context = ssl.create_default_context(cafile=ca)
    expired_context.load_cert_chain(str(certs / "expired-client.crt"), str(certs / "expired-client.key"))
    with pytest.raises((ssl.SSLError, ConnectionError, OSError)):
        https(daemon, expired_context)
    context = ssl.create_default_context(cafile=ca)
    with pytest.raises((ssl.SSLError, ConnectionError, OSError)):
        https(daemon, context)
    context.load_cert_chain(str(certs / "client.crt"), str(certs / "client.key"))
    assert https(daemon, context) == 200


def test_an_expired_server_certificate_is_refused_by_clients(tmp_path: Path, certs: Path) -> None:
    args = ["--tls-cert", str(certs / "expired-server.crt"), "--tls-key", str(certs / "expired-server.key")]
    daemon = Daemon(tmp_path / "data", args, client_tls=TLS(ca_file=str(certs / "ca.crt")))
    daemon.process = subprocess.Popen(
        [str(statehoused_binary()), "--listen", daemon.url, "--http-listen", f"127.0.0.1:{daemon.http_port}"]
        + ["--data-dir", str(daemon.data_dir), *args],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            with socket.socket() as probe:
                if probe.connect_ex(("127.0.0.1", daemon.http_port)) == 0:
                    break
            time.sleep(0.05)
        with Statehouse(url=daemon.url, tls=TLS(ca_file=str(certs / "ca.crt")), timeout=3) as client:
            with pytest.raises(StatehouseError):
                client.health()
        with pytest.raises(ssl.SSLCertVerificationError):
            https(daemon, ssl.create_default_context(cafile=str(certs / "ca.crt")))
    finally:
        daemon.process.terminate()
        daemon.process.wait(30)


def test_sighup_reloads_the_certificate_without_dropping_connections(tls_daemon: Dict) -> None:
    certs: Path = tls_daemon["certs"]
    directory: Path = tls_daemon["dir"]
    daemon = tls_daemon["start"]()
    assert peer_serial(daemon.http_port, certs / "ca.crt") == 1001
    with Statehouse(url=daemon.url, tls=TLS(ca_file=str(certs / "ca.crt")), namespace="reload") as open_client:
        open_client.apply([Put("a", "k", 1)])
        shutil.copy(certs / "server-2.crt", directory / "live.crt")
        shutil.copy(certs / "server-2.key", directory / "live.key")
        assert daemon.process is not None
        daemon.process.send_signal(signal.SIGHUP)
        deadline = time.monotonic() + 10
        while "Reloaded the TLS certificate" not in daemon.log() and time.monotonic() < deadline:
            time.sleep(0.05)
        assert "Reloaded the TLS certificate" in daemon.log()
        assert peer_serial(daemon.http_port, certs / "ca.crt") == 1002  # new connections: the new certificate
        assert peer_serial(daemon.port, certs / "ca.crt") == 1002
        open_client.apply([Put("a", "k", 2)])  # the open connection goes on
        assert open_client.get_state("a", "k").value == 2
        # A reload from a broken file keeps the current certificate.
        (directory / "live.crt").write_text("not a certificate")
        daemon.process.send_signal(signal.SIGHUP)
        deadline = time.monotonic() + 10
        while "keeping the current one" not in daemon.log() and time.monotonic() < deadline:
            time.sleep(0.05)
        assert "keeping the current one" in daemon.log()
        assert peer_serial(daemon.http_port, certs / "ca.crt") == 1002


@pytest.mark.parametrize(
    "args,message",
    [
        (["--tls-cert", "MISSING.crt", "--tls-key", "server.key"], "tls-cert: cannot read PEM certificates from"),
        (["--tls-cert", "server.crt", "--tls-key", "server.crt"], "tls-key: cannot read a PEM private key from"),
        (["--tls-cert", "server.crt"], "tls-cert and tls-key go together"),
        (["--tls-client-ca", "ca.crt"], "tls-client-ca needs tls-cert and tls-key"),
    ],
)
def test_bad_tls_settings_stop_the_daemon_before_the_store(
    tmp_path: Path, certs: Path, args: list, message: str
) -> None:
    data = tmp_path / "data"
    result = subprocess.run(
        [str(statehoused_binary()), "--listen", f"127.0.0.1:{free_port()}", "--data-dir", str(data), *args],
        cwd=certs,
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert result.returncode != 0
    assert message in result.stderr
    assert not data.exists()


def test_statehousectl_over_tls_and_mutual_tls(tls_daemon: Dict) -> None:
    certs: Path = tls_daemon["certs"]
    ctl = str(statehoused_binary().parent / "statehousectl")
    daemon = tls_daemon["start"](mtls=True)
    base = [ctl, "--addr", daemon.url, "-n", "ctl-tls"]

    def run(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run([*base[:1], *args, *base[1:]], capture_output=True, text=True, timeout=30)

    client = [
        "--tls-ca",
        str(certs / "ca.crt"),
        "--tls-cert",
        str(certs / "client.crt"),
        "--tls-key",
        str(certs / "client.key"),
    ]
    assert run("put", "a", "k", '{"x": 1}', *client).returncode == 0
    got = run("get", "a", "k", *client, "-o", "json")
    assert got.returncode == 0 and '"x":1' in got.stdout.replace(" ", "")
    refused = run("get", "a", "k", "--tls-ca", str(certs / "ca.crt"))  # no client certificate
    assert refused.returncode != 0 and "Traceback" not in refused.stderr
    before = subprocess.run([ctl, *client, "--addr", daemon.url, "health"], capture_output=True, text=True, timeout=30)
    assert before.returncode == 0, before.stderr  # global options before the command, as the docs write them
    plaintext = run("health")
    assert plaintext.returncode != 0
    half = run("health", "--tls-cert", str(certs / "client.crt"))
    assert half.returncode != 0 and "--tls-cert and --tls-key go together" in half.stderr
