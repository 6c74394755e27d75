"""rediss:// URLs: TLS and its options reach redis-py's connections and RQ's, and a real TLS
round trip (store commands and an RQ job) works through a TLS endpoint in front of the test
Redis, with the server certificate verified against a CA given in the URL."""

from __future__ import annotations

import datetime
import ipaddress
import socket
import ssl
import threading
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import pytest
import redis
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from rq import Queue, SimpleWorker

from quota_sentinel.config import Settings
from quota_sentinel.connection import connect
from quota_sentinel.services.context import Context
from tests.conftest import SECRET_KEY
from workers import runtime


def _pool(client: redis.Redis) -> redis.ConnectionPool:
    return client.connection_pool


def test_rediss_urls_give_tls_connections_to_the_store_and_to_rq():
    settings = Settings.from_env(
        {
            "REDIS_URL": "rediss://:pw@cache.example.test:6380/2"
            "?ssl_cert_reqs=none&ssl_ca_certs=/etc/ssl/certs/ca.pem",
            "QUOTA_SENTINEL_SECRET_KEY": SECRET_KEY,
        }
    )
    store, jobs = connect(settings), connect(settings, decode_responses=False)
    queue = Queue("q", connection=jobs)

    for client in (store, jobs, queue.connection):
        pool = _pool(client)
        assert pool.connection_class is redis.SSLConnection
        assert pool.connection_kwargs["ssl_cert_reqs"] == "none"
        assert pool.connection_kwargs["ssl_ca_certs"] == "/etc/ssl/certs/ca.pem"
        assert pool.connection_kwargs["host"] == "cache.example.test"
        assert pool.connection_kwargs["db"] == 2
        assert pool.make_connection().cert_reqs == ssl.CERT_NONE
    store.close()
    jobs.close()


def test_a_plain_rediss_url_verifies_the_server_certificate_and_host():
    settings = Settings.from_env(
        {"REDIS_URL": "rediss://default:pw@x.upstash.io:6379", "QUOTA_SENTINEL_SECRET_KEY": "k"}
    )
    connection = _pool(connect(settings)).make_connection()

    assert connection.cert_reqs == ssl.CERT_REQUIRED and connection.check_hostname is True


def _certificates(folder: Path) -> tuple[Path, Path, Path]:
    """A CA and a server certificate for 127.0.0.1 signed by it (ca.pem, server.pem, key)."""
    now = datetime.datetime.now(datetime.UTC)

    def build(subject, issuer, key, signer, extensions):
        builder = (
            x509.CertificateBuilder()
            .subject_name(subject)
            .issuer_name(issuer)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(minutes=5))
            .not_valid_after(now + datetime.timedelta(hours=1))
        )
        for extension, critical in extensions:
            builder = builder.add_extension(extension, critical=critical)
        return builder.sign(signer, hashes.SHA256())

    ca_key, server_key = (
        ec.generate_private_key(ec.SECP256R1()),
        ec.generate_private_key(ec.SECP256R1()),
    )
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "quota-sentinel test CA")])
    ca = build(
        ca_name,
        ca_name,
        ca_key,
        ca_key,
        [
            (x509.BasicConstraints(ca=True, path_length=None), True),
            (x509.KeyUsage(False, False, False, False, False, True, True, False, False), True),
            (x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()), False),
        ],
    )
    server = build(
        x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")]),
        ca_name,
        server_key,
        ca_key,
        [
            (
                x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
                False,
            ),
            (x509.BasicConstraints(ca=False, path_length=None), True),
            (x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), False),
        ],
    )
    paths = folder / "ca.pem", folder / "server.pem", folder / "server.key"
    paths[0].write_bytes(ca.public_bytes(serialization.Encoding.PEM))
    paths[1].write_bytes(server.public_bytes(serialization.Encoding.PEM))
    paths[2].write_bytes(
        server_key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return paths


def _backend(redis_url: str) -> socket.socket:
    parts = urlsplit(redis_url)
    if parts.scheme == "unix":
        sock = socket.socket(socket.AF_UNIX)
        sock.connect(parts.path)
    else:
        sock = socket.create_connection((parts.hostname, parts.port or 6379))
    return sock


def _pump(source: socket.socket, target: socket.socket) -> None:
    try:
        while data := source.recv(65536):
            target.sendall(data)
    except OSError:
        pass  # the other side closed: this direction is done
    finally:
        for sock in (source, target):
            try:
                sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass  # already shut


@pytest.fixture
def tls_endpoint(redis_url: str, tmp_path: Path) -> Iterator[tuple[int, Path]]:
    """TLS on 127.0.0.1 (a free port), forwarding to the test Redis; yields (port, CA file)."""
    ca, cert, key = _certificates(tmp_path)
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert, key)
    listener = socket.create_server(("127.0.0.1", 0))
    listener.settimeout(0.2)  # accept() wakes up to notice `stop`
    stop = threading.Event()
    open_sockets: list[socket.socket] = []

    def serve() -> None:
        while not stop.is_set():
            try:
                raw, _ = listener.accept()
                raw.settimeout(None)
                client = context.wrap_socket(raw, server_side=True)
            except OSError:
                continue  # nobody came, a failed handshake, or the listener closing
            backend = _backend(redis_url)
            open_sockets.extend([client, backend])
            for a, b in ((client, backend), (backend, client)):
                threading.Thread(target=_pump, args=(a, b), daemon=True).start()

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    try:
        yield listener.getsockname()[1], ca
    finally:
        stop.set()
        listener.close()
        for sock in open_sockets:
            sock.close()
        thread.join(timeout=5)


def test_store_and_an_rq_job_work_over_verified_tls(tls_endpoint, redis_client, tmp_path: Path):
    port, ca = tls_endpoint
    db = redis_client.connection_pool.connection_kwargs.get("db", 0)
    settings = Settings.from_env(
        {
            "REDIS_URL": f"rediss://127.0.0.1:{port}/{db}?ssl_ca_certs={ca}",
            "QUOTA_SENTINEL_SECRET_KEY": SECRET_KEY,
            "QUOTA_SENTINEL_DATA_DIR": str(tmp_path / "data"),
        }
    )
    ctx = Context.build(settings)
    runtime.install(ctx)
    try:
        assert ctx.store.ping()
        ctx.store.note_poll_finished(1234.5)
        assert redis_client.get(ctx.store.keys.last_poll()) == "1234.5"  # the same server
        assert ctx.jobs.enqueue_poll("0123456789abcdef")
        worker = SimpleWorker([ctx.jobs.names["poll"]], connection=ctx.jobs.r)
        worker.work(burst=True)
        worker.refresh()
        assert worker.successful_job_count == 1
        assert ctx.jobs.queue("poll").count == 0
    finally:
        runtime.reset()
        ctx.close()


def test_a_certificate_from_an_unknown_ca_is_refused(tls_endpoint, redis_client, tmp_path: Path):
    port, _ = tls_endpoint
    other_ca, _, _ = _certificates(
        tmp_path / "other" if (tmp_path / "other").mkdir() is None else tmp_path
    )
    settings = Settings.from_env(
        {
            "REDIS_URL": f"rediss://127.0.0.1:{port}/0?ssl_ca_certs={other_ca}",
            "QUOTA_SENTINEL_SECRET_KEY": SECRET_KEY,
        }
    )
    client = connect(settings)
    try:
        with pytest.raises(redis.ConnectionError):
            client.ping()
    finally:
        client.close()
