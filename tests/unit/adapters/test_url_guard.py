"""The SSRF guard for untrusted URLs: address classification, checks, pinning, redirects.

No real network: hostnames resolve through a fake resolver, servers listen on loopback.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime
import ipaddress
import ssl
import threading
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
import pytest

from pagemill.adapters.http import HttpxFetcher, PinnedTransport, UrlGuard, refusal_reason
from pagemill.adapters.http.guard import Destination, parse_numeric_host
from pagemill.domain.errors import InvalidInput, PayloadTooLarge, UpstreamUnavailable

LOOPBACK = ["127.0.0.0/8"]
TIMEOUT = httpx.Timeout(5.0)


@dataclass
class FakeResolver:
    """Answers from a table, one answer list per call (the last repeats); records calls."""

    table: dict[str, list[list[str]]] = field(default_factory=dict)
    calls: list[str] = field(default_factory=list)

    def add(self, host: str, *answers: list[str]) -> FakeResolver:
        self.table[host] = list(answers)
        return self

    async def __call__(self, host: str, port: int) -> Sequence[str]:
        self.calls.append(host)
        if host not in self.table:
            raise OSError(f"no such host {host}")
        answers = self.table[host]
        return answers.pop(0) if len(answers) > 1 else answers[0]


# -- classification ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("address", "reason"),
    [
        ("127.0.0.1", "loopback"),
        ("127.255.255.254", "loopback"),
        ("::1", "loopback"),
        ("10.0.0.1", "private"),
        ("172.16.5.4", "private"),
        ("172.31.255.255", "private"),
        ("192.168.1.1", "private"),
        ("fc00::1", "private"),
        ("fd12:3456::1", "private"),
        ("169.254.169.254", "link-local"),  # cloud metadata
        ("169.254.0.1", "link-local"),
        ("fe80::1", "link-local"),
        ("224.0.0.1", "multicast"),
        ("239.255.255.250", "multicast"),
        ("ff02::1", "multicast"),
        ("0.0.0.0", "unspecified"),  # noqa: S104
        ("0.1.2.3", "unspecified"),
        ("::", "unspecified"),
        ("100.64.0.1", "shared address space"),
        ("100.127.255.254", "shared address space"),
        ("240.0.0.1", "private"),
        ("255.255.255.255", "private"),
        ("192.0.2.1", "private"),  # documentation
        ("198.18.0.1", "private"),  # benchmarking
        ("2001:db8::1", "private"),
        ("::ffff:127.0.0.1", "loopback (IPv4-mapped 127.0.0.1)"),
        ("::ffff:10.1.2.3", "private (IPv4-mapped 10.1.2.3)"),
        ("::ffff:169.254.169.254", "link-local (IPv4-mapped 169.254.169.254)"),
        ("::ffff:0.0.0.0", "unspecified (IPv4-mapped 0.0.0.0)"),
        ("::ffff:100.64.0.1", "shared address space (IPv4-mapped 100.64.0.1)"),
        ("64:ff9b::a9fe:a9fe", "link-local (NAT64 of 169.254.169.254)"),
        ("64:ff9b::7f00:1", "loopback (NAT64 of 127.0.0.1)"),
        ("2002:c0a8:0101::1", "private (6to4 of 192.168.1.1)"),
        ("2002:7f00:0001::1", "loopback (6to4 of 127.0.0.1)"),
    ],
)
def test_non_public_addresses_are_refused(address: str, reason: str) -> None:
    assert refusal_reason(ipaddress.ip_address(address)) == reason
    assert not UrlGuard().is_allowed(ipaddress.ip_address(address))


@pytest.mark.parametrize(
    "address",
    [
        "1.1.1.1",
        "8.8.8.8",
        "93.184.216.34",
        "2606:4700::1111",
        "::ffff:8.8.8.8",
        "64:ff9b::808:808",
    ],
)
def test_public_addresses_pass(address: str) -> None:
    assert refusal_reason(ipaddress.ip_address(address)) is None
    assert UrlGuard().is_allowed(ipaddress.ip_address(address))


@pytest.mark.parametrize(
    ("host", "address"),
    [
        ("127.0.0.1", "127.0.0.1"),
        ("2130706433", "127.0.0.1"),
        ("0x7f000001", "127.0.0.1"),
        ("017700000001", "127.0.0.1"),
        ("0x7f.1", "127.0.0.1"),
        ("127.1", "127.0.0.1"),
        ("0177.0.0.1", "127.0.0.1"),
        ("0x7F.0.0.0x1", "127.0.0.1"),
        ("169.16689662", "169.254.169.254"),
        ("0xa9.0xfe.0xa9.0xfe", "169.254.169.254"),
        ("0", "0.0.0.0"),  # noqa: S104
        ("::1", "::1"),
        ("::ffff:7f00:1", "::ffff:127.0.0.1"),
    ],
)
def test_numeric_hosts_are_read_in_every_spelling(host: str, address: str) -> None:
    assert parse_numeric_host(host) == ipaddress.ip_address(address)


@pytest.mark.parametrize("host", ["example.com", "1.2.3.example", "0x7f.example", "localhost"])
def test_hostnames_are_not_numeric(host: str) -> None:
    assert parse_numeric_host(host) is None


@pytest.mark.parametrize("host", ["256.0.0.1", "1.2.3.4.5", "08.0.0.1", "1.16777216", "0xg.1"])
def test_broken_numeric_hosts_are_errors(host: str) -> None:
    if host == "0xg.1":  # not all-numeric: a (bogus) hostname, left to the resolver
        assert parse_numeric_host(host) is None
        return
    with pytest.raises(ValueError, match=r"IPv4 part out of range|too many parts|not a decimal"):
        parse_numeric_host(host)


# -- checks ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("url", "fragment"),
    [
        ("http://127.0.0.1/x", "(127.0.0.1: loopback)"),
        ("http://2130706433/", "(127.0.0.1: loopback)"),
        ("http://0x7f.1/", "(127.0.0.1: loopback)"),
        ("http://127.0.0.1./", "(127.0.0.1: loopback)"),
        ("http://169.254.169.254/latest/meta-data/", "link-local"),
        ("http://[::1]:8000/", "(::1: loopback)"),
        ("http://[::ffff:127.0.0.1]/", "IPv4-mapped 127.0.0.1"),
        ("http://[::ffff:a9fe:a9fe]/", "IPv4-mapped 169.254.169.254"),
        ("http://[fe80::1]/", "link-local"),
        ("http://[fd00::1]/", "private"),
        ("http://0.0.0.0:8000/", "unspecified"),
        ("http://0/", "unspecified"),
        ("https://100.100.100.200/", "shared address space"),
        ("http://localhost/", "(localhost is 127.0.0.1: loopback)"),
        ("http://LocalHost.:9000/", "(localhost is 127.0.0.1: loopback)"),
        ("http://admin.localhost/", "loopback"),
        ("http://internal.example/", "(internal.example is 10.0.0.7: private)"),
        ("http://internal.example./", "(internal.example is 10.0.0.7: private)"),
        ("http://metadata.example/", "169.254.169.254: link-local"),
        ("http://mixed.example/", "(mixed.example is 192.168.0.2: private)"),
        ("http://six.example/", "(six.example is ::1: loopback)"),
    ],
)
async def test_private_and_local_destinations_are_refused(url: str, fragment: str) -> None:
    resolver = (
        FakeResolver()
        .add("internal.example", ["10.0.0.7"])
        .add("metadata.example", ["169.254.169.254"])
        .add("mixed.example", ["93.184.216.34", "192.168.0.2"])  # any bad answer refuses
        .add("six.example", ["2606:4700::1111", "::1"])
    )
    with pytest.raises(InvalidInput) as caught:
        await UrlGuard(resolver=resolver).check(url)
    message = caught.value.detail
    assert message.startswith("file_url points to a private or local address (")
    assert message.endswith("only public http(s) URLs are fetched.")
    assert fragment in message
    assert all(call.endswith(".example") for call in resolver.calls)  # literals: no lookup


@pytest.mark.parametrize(
    ("url", "fragment"),
    [
        ("ftp://example.com/file.pdf", "must be an http or https URL"),
        ("file:///etc/passwd", "must be an http or https URL"),
        ("gopher://127.0.0.1:25/", "must be an http or https URL"),
        ("http://user:pass@example.com/", "must not contain credentials"),
        ("http://user@example.com/", "must not contain credentials"),
        ("http://example.com:99999/", "invalid port 99999"),
        ("http://example.com:0/", "invalid port 0"),
        ("http://example.com:port/", "not a valid URL"),
        ("http:///path-only", "no host"),
        ("http://08.1/", "invalid address"),
        ("http://1.16777216/", "invalid address"),
        ("http://1.2.3.4.5/", "invalid address"),
        ("http://256.1.1.1/", "not a valid URL"),  # httpx checks dotted quads itself
        ("http://0177.0.0.1/", "not a valid URL"),  # httpx refuses zero-padded dotted quads
    ],
)
async def test_malformed_urls_are_invalid_input(url: str, fragment: str) -> None:
    resolver = FakeResolver().add("example.com", ["93.184.216.34"])
    with pytest.raises(InvalidInput, match="file_url") as caught:
        await UrlGuard(resolver=resolver).check(url)
    assert fragment in caught.value.detail
    assert resolver.calls == []


async def test_a_public_host_is_resolved_once_and_pinned() -> None:
    resolver = FakeResolver().add("files.example", ["93.184.216.34", "2606:2800:220:1::"])
    target = await UrlGuard(resolver=resolver).check("https://Files.Example./a.pdf")
    assert resolver.calls == ["files.example"]
    assert target.hostname == "files.example"
    assert target.port == 443
    assert target.address == ipaddress.ip_address("93.184.216.34")
    assert not target.host_is_address


async def test_resolution_failures_are_upstream_errors() -> None:
    with pytest.raises(UpstreamUnavailable, match=r"could not resolve 'nowhere\.example'"):
        await UrlGuard(resolver=FakeResolver()).check("http://nowhere.example/")
    with pytest.raises(UpstreamUnavailable, match="has no address"):
        await UrlGuard(resolver=FakeResolver().add("empty.example", [])).check(
            "http://empty.example/"
        )


async def test_a_slow_resolver_times_out() -> None:
    async def stuck(host: str, port: int) -> Sequence[str]:
        await asyncio.sleep(10)
        return []

    with pytest.raises(UpstreamUnavailable, match="timed out resolving"):
        await UrlGuard(resolver=stuck).check("http://slow.example/", timeout=0.05)


async def test_the_allow_list_admits_listed_networks_only() -> None:
    resolver = (
        FakeResolver()
        .add("dev.example", ["127.0.0.1"])
        .add("both.example", ["127.0.0.1", "10.0.0.1"])
    )
    guard = UrlGuard(LOOPBACK, resolver=resolver)
    assert (await guard.check("http://127.0.0.1:8000/")).address == ipaddress.ip_address(
        "127.0.0.1"
    )
    assert (await guard.check("http://0x7f.1/")).host_is_address
    assert (await guard.check("http://localhost/")).address == ipaddress.ip_address("127.0.0.1")
    assert (await guard.check("http://[::ffff:127.0.0.1]/")).address.version == 6
    assert (await guard.check("http://dev.example/")).address == ipaddress.ip_address("127.0.0.1")
    for refused in (
        "http://[::1]/",
        "http://10.0.0.1/",
        "http://169.254.169.254/",
        "http://both.example/",
    ):
        with pytest.raises(InvalidInput, match="private or local address"):
            await guard.check(refused)
    assert UrlGuard(["10.0.0.0/8", "fd00::/8", "192.168.1.5"]).is_allowed(
        ipaddress.ip_address("192.168.1.5")
    )


def test_a_bad_allow_list_entry_is_a_startup_error() -> None:
    with pytest.raises(ValueError, match=r"'10\.0\.0\.0/33' is not a network"):
        UrlGuard(["10.0.0.0/33"])
    with pytest.raises(ValueError, match="'intranet' is not a network"):
        HttpxFetcher(1.0, allow_networks=["intranet"])


# -- against a loopback server -----------------------------------------------------------------


class _Origin(ThreadingHTTPServer):
    daemon_threads = True
    connections = 0
    requests: list[tuple[str, str]]  # (path, Host header)
    sni: list[str | None]

    def verify_request(self, request: Any, client_address: Any) -> bool:
        self.connections += 1
        return True

    def handle_error(self, request: Any, client_address: Any) -> None:
        return  # failed TLS handshakes are expected in one test


class _Handler(BaseHTTPRequestHandler):
    server: _Origin

    def do_GET(self) -> None:
        self.server.requests.append((self.path, self.headers.get("Host", "")))
        if self.path.startswith("/to?"):
            self.send_response(302)
            self.send_header("Location", self.path.removeprefix("/to?"))
            self.send_header("Content-Length", "0")
            self.end_headers()
        elif self.path == "/loop":
            self.send_response(307)
            self.send_header("Location", "/loop")
            self.send_header("Content-Length", "0")
            self.end_headers()
        elif self.path == "/big":
            self.send_response(200)
            self.end_headers()  # no length: read to close
            self.wfile.write(b"x" * 5000)
            self.close_connection = True
        elif self.path == "/gone":
            self.send_error(410)
        else:
            body = self.headers.get("Host", "").encode()
            self.send_response(200)
            self.send_header("Content-Type", "text/plain")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        return


@contextlib.contextmanager
def _serve(context: ssl.SSLContext | None = None) -> Iterator[_Origin]:
    server = _Origin(("127.0.0.1", 0), _Handler)
    server.requests, server.sni = [], []
    if context is not None:
        context.sni_callback = lambda sock, name, ctx: server.sni.append(name)
        server.socket = context.wrap_socket(server.socket, server_side=True)
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture
def origin() -> Iterator[_Origin]:
    with _serve() as server:
        yield server


def port_of(server: _Origin) -> int:
    return int(server.server_address[1])


async def fetch(guard: UrlGuard, url: str) -> tuple[int, str]:
    async with guard.stream("GET", url, timeout=TIMEOUT) as response:
        return response.status_code, (await response.aread()).decode()


async def test_without_the_allow_list_loopback_is_refused_before_connecting(
    origin: _Origin,
) -> None:
    port = port_of(origin)
    resolver = FakeResolver().add("files.example", ["127.0.0.1"])
    for url in (
        f"http://127.0.0.1:{port}/",
        f"http://localhost:{port}/",
        f"http://files.example:{port}/",
    ):
        with pytest.raises(InvalidInput, match="private or local address"):
            await fetch(UrlGuard(resolver=resolver), url)
    fetcher = HttpxFetcher(5.0, guard=UrlGuard(resolver=resolver))
    with pytest.raises(InvalidInput, match="only public http\\(s\\) URLs are fetched"):
        async with fetcher.open(f"http://2130706433:{port}/doc.pdf", 1000):
            pass
    assert origin.connections == 0


async def test_the_connection_is_pinned_to_the_checked_address(origin: _Origin) -> None:
    port = port_of(origin)
    # A rebinding resolver: the first answer passes the check, later ones point elsewhere.
    resolver = FakeResolver().add("files.example", ["127.0.0.1"], ["192.0.2.99"], ["10.9.9.9"])
    status, body = await fetch(
        UrlGuard(LOOPBACK, resolver=resolver), f"http://files.example:{port}/doc"
    )
    assert (status, body) == (200, f"files.example:{port}")  # the Host header is the hostname
    assert resolver.calls == ["files.example"]
    assert origin.connections == 1


async def test_the_pinned_transport_refuses_any_other_destination(origin: _Origin) -> None:
    port = port_of(origin)
    target = Destination(
        httpx.URL(f"http://files.example:{port}/"),
        "files.example",
        port,
        ipaddress.ip_address("127.0.0.1"),
        host_is_address=False,
    )
    async with httpx.AsyncClient(transport=PinnedTransport(target)) as client:
        assert (await client.get(f"http://files.example:{port}/x")).text == f"files.example:{port}"
        for other in (
            f"http://127.0.0.1:{port}/",
            f"http://other.example:{port}/",
            f"https://files.example:{port}/",
        ):
            with pytest.raises(httpx.ConnectError, match="not the checked destination"):
                await client.get(other)
    assert origin.connections == 1


async def test_redirects_are_followed_and_each_hop_is_checked(origin: _Origin) -> None:
    port = port_of(origin)
    resolver = FakeResolver().add("a.example", ["127.0.0.1"]).add("b.example", ["127.0.0.1"])
    url = f"http://a.example:{port}/to?http://b.example:{port}/final"
    status, body = await fetch(UrlGuard(LOOPBACK, resolver=resolver), url)
    assert (status, body) == (200, f"b.example:{port}")
    assert resolver.calls == ["a.example", "b.example"]
    assert [path for path, _ in origin.requests] == [f"/to?http://b.example:{port}/final", "/final"]


@pytest.mark.parametrize(
    "location",
    [
        "http://169.254.169.254/latest/meta-data/",
        "http://internal.example/admin",
        "http://[::1]:{port}/",
        "http://0x0a.1/",
    ],
)
async def test_a_redirect_from_an_allowed_origin_to_a_refused_address_is_refused(
    origin: _Origin, location: str
) -> None:
    port = port_of(origin)
    resolver = FakeResolver().add("internal.example", ["10.0.0.7"])
    url = f"http://127.0.0.1:{port}/to?{location.format(port=port)}"
    with pytest.raises(InvalidInput) as caught:
        await fetch(UrlGuard(LOOPBACK, resolver=resolver), url)
    assert caught.value.detail.startswith("A redirect from file_url points to a private or local")
    assert len(origin.requests) == 1  # the refused hop was never requested


async def test_a_redirect_to_another_scheme_is_refused(origin: _Origin) -> None:
    url = f"http://127.0.0.1:{port_of(origin)}/to?file:///etc/passwd"
    with pytest.raises(InvalidInput, match="A redirect from file_url must be an http or https URL"):
        await fetch(UrlGuard(LOOPBACK), url)


async def test_redirects_are_capped(origin: _Origin) -> None:
    with pytest.raises(UpstreamUnavailable, match="more than 5 redirects"):
        await fetch(UrlGuard(LOOPBACK), f"http://127.0.0.1:{port_of(origin)}/loop")
    assert len(origin.requests) == 6


async def download(fetcher: HttpxFetcher, url: str, max_bytes: int = 1000) -> tuple[str, bytes]:
    async with fetcher.open(url, max_bytes) as opened:
        return opened.filename, b"".join([chunk async for chunk in opened.chunks])


async def test_the_fetcher_keeps_its_cap_and_error_translation(origin: _Origin) -> None:
    port = port_of(origin)
    base = f"http://127.0.0.1:{port}"
    fetcher = HttpxFetcher(5.0, allow_networks=LOOPBACK)
    assert await download(fetcher, f"{base}/docs/a.pdf") == ("a.pdf", f"127.0.0.1:{port}".encode())
    with pytest.raises(PayloadTooLarge, match="larger than the limit of 1000 bytes"):
        await download(fetcher, f"{base}/big")  # no Content-Length: capped while streaming
    with pytest.raises(UpstreamUnavailable, match="the server answered 410"):
        await download(fetcher, f"{base}/gone")
    origin.shutdown()
    origin.server_close()
    with pytest.raises(UpstreamUnavailable, match="Fetching file_url failed"):
        await download(fetcher, f"{base}/")


# -- TLS: SNI and certificate verification use the hostname, the socket the pinned address ------


def _certificate(tmp_path: Path, hostname: str) -> tuple[Path, Path]:
    x509 = pytest.importorskip("cryptography.x509")
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, hostname)])
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(hours=1))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName(hostname)]), critical=False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = tmp_path / f"{hostname}.pem", tmp_path / f"{hostname}.key"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return cert_path, key_path


async def test_https_is_pinned_with_sni_and_verification_for_the_hostname(tmp_path: Path) -> None:
    cert_path, key_path = _certificate(tmp_path, "files.example")
    server_context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    server_context.load_cert_chain(cert_path, key_path)
    client_context = ssl.create_default_context(cafile=str(cert_path))
    resolver = (
        FakeResolver().add("files.example", ["127.0.0.1"]).add("other.example", ["127.0.0.1"])
    )
    guard = UrlGuard(LOOPBACK, resolver=resolver, verify=client_context)
    with _serve(server_context) as server:
        port = port_of(server)
        status, body = await fetch(guard, f"https://files.example:{port}/doc")
        assert (status, body) == (200, f"files.example:{port}")
        assert server.sni == ["files.example"]
        # Same address, but the certificate is not for this name: verification must fail.
        with pytest.raises(httpx.ConnectError, match=r"CERTIFICATE_VERIFY_FAILED|match"):
            await fetch(guard, f"https://other.example:{port}/doc")
        assert server.sni == ["files.example", "other.example"]
