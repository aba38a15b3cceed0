"""One guard for URLs that users hand us (``file_url`` now, webhooks later): no SSRF.

A URL is fetched only if:

* its scheme is ``http`` or ``https``, it carries no credentials and its port is valid;
* its host, resolved **once**, has no loopback, private, link-local (cloud metadata),
  multicast, unspecified, reserved or shared (CGNAT) address, including the IPv4 forms
  hidden in IPv6 (mapped ``::ffff:a.b.c.d``, NAT64, 6to4, Teredo) — unless the address is
  inside an operator's allow-listed network (``PAGEMILL_URL_ALLOW_NETWORKS``).

The connection is then **pinned** to the checked address: :class:`PinnedTransport` sends the
request to that IP while the ``Host`` header stays the URL's host and TLS uses the hostname
for SNI and certificate verification (httpcore's ``sni_hostname`` request extension). A DNS
answer that changes between the check and the connect (rebinding) is never consulted.
Redirects are followed by hand, each hop checked and pinned again.

Numeric hosts are read like browsers and ``inet_aton`` read them (``2130706433``, ``0x7f.1``,
``0177.0.0.1`` are all 127.0.0.1), so an odd spelling cannot slip past the check.
"""

from __future__ import annotations

import asyncio
import contextlib
import ipaddress
import re
import socket
import ssl
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable, Sequence
from dataclasses import dataclass

import httpx

from pagemill.domain.errors import InvalidInput, UpstreamUnavailable

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network
Resolver = Callable[[str, int], Awaitable[Sequence[str]]]
"""``(host, port) -> addresses``; the default asks the system (``loop.getaddrinfo``)."""

_SHARED = ipaddress.IPv4Network("100.64.0.0/10")  # RFC 6598 carrier-grade NAT
_THIS_NETWORK = ipaddress.IPv4Network("0.0.0.0/8")  # "this host"; 0.0.0.0 reaches loopback
_NAT64 = ipaddress.IPv6Network("64:ff9b::/96")  # RFC 6052 well-known prefix
_REDIRECTS = frozenset({301, 302, 303, 307, 308})
_NUMERIC_LABEL = re.compile(r"^(?:0[xX][0-9a-fA-F]*|[0-9]+)$")


def refusal_reason(address: IPAddress) -> str | None:
    """Why ``address`` must not be fetched from (``None``: it is a public address)."""
    for embedded, how in _embedded_ipv4(address):
        reason = _reason(embedded)
        if reason is not None:
            return f"{reason} ({how} {embedded})"
    if isinstance(address, ipaddress.IPv6Address) and (
        address.ipv4_mapped is not None or address in _NAT64
    ):
        return None  # the embedded IPv4 address is what is reached, and it is public
    return _reason(address)


def _reason(address: IPAddress) -> str | None:
    if address.is_unspecified or (
        isinstance(address, ipaddress.IPv4Address) and address in _THIS_NETWORK
    ):
        return "unspecified"
    if address.is_loopback:
        return "loopback"
    if address.is_link_local:
        return "link-local"
    if address.is_multicast:
        return "multicast"
    if isinstance(address, ipaddress.IPv4Address) and address in _SHARED:
        return "shared address space"
    if address.is_private:
        return "private"
    if address.is_reserved:
        return "reserved"
    if not address.is_global:
        return "not globally routable"
    return None


def _embedded_ipv4(address: IPAddress) -> list[tuple[ipaddress.IPv4Address, str]]:
    if not isinstance(address, ipaddress.IPv6Address):
        return []
    found: list[tuple[ipaddress.IPv4Address, str]] = []
    if address.ipv4_mapped is not None:
        found.append((address.ipv4_mapped, "IPv4-mapped"))
    if address in _NAT64:
        found.append((ipaddress.IPv4Address(int(address) & 0xFFFFFFFF), "NAT64 of"))
    if address.sixtofour is not None:
        found.append((address.sixtofour, "6to4 of"))
    if address.teredo is not None:
        found.append((address.teredo[1], "Teredo of"))
    return found


def parse_numeric_host(host: str) -> IPAddress | None:
    """``host`` as an IP address if it is one in any spelling ``inet_aton`` accepts.

    IPv6 literals come bracket-less (as ``httpx.URL.host`` gives them). Dotted IPv4 with one
    to four parts, each decimal, octal (leading ``0``) or hex (``0x``), the last part filling
    the remaining bytes. Returns ``None`` for a hostname; raises ``ValueError`` for a host
    that is numeric but no valid address (``256.1.1.1``, ``08.0.0.1``).
    """
    if ":" in host:
        return ipaddress.IPv6Address(host)
    labels = host.split(".")
    if not all(_NUMERIC_LABEL.match(label) for label in labels):
        return None
    if len(labels) > 4:
        raise ValueError("too many parts for an IPv4 address")
    numbers = [_ipv4_part(label) for label in labels]
    *head, last = numbers
    if any(part > 255 for part in head) or last >= 256 ** (5 - len(numbers)):
        raise ValueError("IPv4 part out of range")
    value = last
    for index, part in enumerate(head):
        value += part << (8 * (3 - index))
    return ipaddress.IPv4Address(value)


def _ipv4_part(label: str) -> int:
    try:
        if label[:2].lower() == "0x":
            return int(label[2:] or "0", 16)
        if len(label) > 1 and label.startswith("0"):
            return int(label[1:], 8)
        return int(label, 10)
    except ValueError:
        raise ValueError(f"{label!r} is not a decimal, octal or hex number") from None


def parse_networks(networks: Iterable[str]) -> tuple[IPNetwork, ...]:
    """CIDRs (or single addresses) from settings; ``ValueError`` names a bad entry."""
    parsed: list[IPNetwork] = []
    for entry in networks:
        try:
            parsed.append(ipaddress.ip_network(entry.strip(), strict=False))
        except ValueError as exc:
            raise ValueError(f"url_allow_networks: {entry!r} is not a network: {exc}") from exc
    return tuple(parsed)


async def system_resolve(host: str, port: int) -> list[str]:
    loop = asyncio.get_running_loop()
    infos = await loop.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return [str(info[4][0]) for info in infos if info[0] in (socket.AF_INET, socket.AF_INET6)]


@dataclass(frozen=True, slots=True)
class Destination:
    """A checked URL and the one address a connection to it may use."""

    url: httpx.URL
    hostname: str  # lower case, IDNA (ASCII), no trailing dot; no brackets for IPv6
    port: int
    address: IPAddress
    host_is_address: bool  # the URL named an address, not a hostname (no SNI then)


class UrlGuard:
    """Checks untrusted URLs and opens pinned, redirect-checked streams to them."""

    def __init__(
        self,
        allow_networks: Iterable[str] = (),
        *,
        resolver: Resolver | None = None,
        verify: ssl.SSLContext | bool = True,
    ) -> None:
        self.allow_networks = parse_networks(allow_networks)
        self._resolve = resolver or system_resolve
        self._verify = verify

    def is_allowed(self, address: IPAddress) -> bool:
        """Whether a connection to ``address`` may be made."""
        if self._allow_listed(address):
            return True
        return refusal_reason(address) is None

    def _allow_listed(self, address: IPAddress) -> bool:
        candidates: list[IPAddress] = [address]
        if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
            candidates.append(address.ipv4_mapped)
        return any(
            candidate.version == network.version and candidate in network
            for candidate in candidates
            for network in self.allow_networks
        )

    async def check(
        self,
        url: str | httpx.URL,
        *,
        label: str = "file_url",
        timeout: float | None = None,
        redirected: bool = False,
    ) -> Destination:
        """Validate ``url``, resolve its host once and return the address to pin to.

        Raises ``InvalidInput`` for a URL we refuse and ``UpstreamUnavailable`` when the host
        cannot be resolved (in ``timeout`` seconds).
        """
        what = f"A redirect from {label}" if redirected else label
        try:
            parsed = url if isinstance(url, httpx.URL) else httpx.URL(url)
        except (httpx.InvalidURL, TypeError, ValueError) as exc:
            raise InvalidInput(f"{what} is not a valid URL: {exc}") from exc
        if parsed.scheme not in ("http", "https"):
            raise InvalidInput(f"{what} must be an http or https URL; got {str(url)[:200]!r}.")
        if parsed.userinfo:
            raise InvalidInput(f"{what} must not contain credentials (user:password@).")
        port = parsed.port if parsed.port is not None else (443 if parsed.scheme == "https" else 80)
        if not 1 <= port <= 65535:
            raise InvalidInput(f"{what} has an invalid port {port}.")
        hostname = _normal_host(parsed)
        if not hostname:
            raise InvalidInput(f"{what} has no host.")

        try:
            literal = parse_numeric_host(hostname)
        except ValueError as exc:
            raise InvalidInput(f"{what} has an invalid address {hostname!r}: {exc}.") from exc
        if literal is not None:
            addresses: list[IPAddress] = [literal]
        elif hostname == "localhost" or hostname.endswith(".localhost"):
            addresses = [ipaddress.IPv4Address("127.0.0.1")]  # RFC 6761: never asked of DNS
        else:
            addresses = await self._lookup(hostname, port, label, timeout)

        for address in addresses:
            if self._allow_listed(address):
                continue
            reason = refusal_reason(address)
            if reason is not None:
                shown = f"{address}" if literal is not None else f"{hostname} is {address}"
                raise InvalidInput(
                    f"{what} points to a private or local address ({shown}: {reason}); "
                    "only public http(s) URLs are fetched."
                )
        return Destination(parsed, hostname, port, addresses[0], literal is not None)

    async def _lookup(
        self, hostname: str, port: int, label: str, timeout: float | None
    ) -> list[IPAddress]:
        try:
            async with asyncio.timeout(timeout):
                answers = await self._resolve(hostname, port)
        except TimeoutError as exc:
            raise UpstreamUnavailable(
                f"Fetching {label} timed out resolving {hostname!r}."
            ) from exc
        except (OSError, UnicodeError) as exc:
            raise UpstreamUnavailable(
                f"Fetching {label} failed: could not resolve {hostname!r}."
            ) from exc
        addresses: list[IPAddress] = []
        for answer in answers:
            address = ipaddress.ip_address(answer)
            if address not in addresses:
                addresses.append(address)
        if not addresses:
            raise UpstreamUnavailable(f"Fetching {label} failed: {hostname!r} has no address.")
        return addresses

    @contextlib.asynccontextmanager
    async def stream(
        self,
        method: str,
        url: str | httpx.URL,
        *,
        timeout: httpx.Timeout,
        max_redirects: int = 5,
        label: str = "file_url",
        headers: dict[str, str] | None = None,
        content: bytes | None = None,
        follow_redirects: bool = True,
    ) -> AsyncIterator[httpx.Response]:
        """Send a request to ``url`` and yield the final (non-redirect) streaming response.

        Every hop is checked and pinned; httpx errors (timeouts, connection failures) are left
        to the caller to translate. With ``follow_redirects=False`` (webhooks) a redirect is
        yielded as the answer instead of being followed.
        """
        current: str | httpx.URL = url
        request_headers = dict(headers or {})
        for hop in range(max_redirects + 1):
            target = await self.check(
                current, label=label, timeout=timeout.connect, redirected=hop > 0
            )
            async with (
                httpx.AsyncClient(
                    transport=PinnedTransport(target, verify=self._verify),
                    timeout=timeout,
                    follow_redirects=False,
                    trust_env=False,
                ) as client,
                client.stream(
                    method, target.url, headers=request_headers, content=content
                ) as response,
            ):
                location = response.headers.get("location")
                if not follow_redirects or response.status_code not in _REDIRECTS or not location:
                    yield response
                    return
                try:
                    current = target.url.join(location)
                except (httpx.InvalidURL, TypeError, ValueError) as exc:
                    raise UpstreamUnavailable(
                        f"Fetching {label} failed: redirected to an invalid URL."
                    ) from exc
                if response.status_code == 303 or (
                    response.status_code in (301, 302) and method == "POST"
                ):
                    method, content = ("HEAD" if method == "HEAD" else "GET"), None
                if current.scheme != target.url.scheme or current.host != target.url.host:
                    request_headers = {
                        k: v for k, v in request_headers.items() if k.lower() != "authorization"
                    }
        raise UpstreamUnavailable(f"Fetching {label} failed: more than {max_redirects} redirects.")


class PinnedTransport(httpx.AsyncBaseTransport):
    """Sends requests for one checked destination to its checked address, nowhere else.

    The URL's host is swapped for the address; the ``Host`` header the client derived from
    the original URL is kept, and for https the hostname goes to TLS as ``sni_hostname``, so
    the server certificate is verified against the hostname, not the address.
    """

    def __init__(self, destination: Destination, *, verify: ssl.SSLContext | bool = True) -> None:
        self._destination = destination
        self._inner = httpx.AsyncHTTPTransport(verify=verify, retries=0)

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        target = self._destination
        port = request.url.port or (443 if request.url.scheme == "https" else 80)
        if (
            request.url.scheme != target.url.scheme
            or _normal_host(request.url) != target.hostname
            or port != target.port
        ):
            raise httpx.ConnectError(
                f"Refusing to connect to {request.url.host!r}: not the checked destination.",
                request=request,
            )
        extensions = dict(request.extensions)
        if request.url.scheme == "https" and not target.host_is_address:
            extensions["sni_hostname"] = target.hostname
        pinned = httpx.Request(
            request.method,
            request.url.copy_with(host=str(target.address)),
            headers=request.headers,  # includes Host: from the original URL
            stream=request.stream,
            extensions=extensions,
        )
        return await self._inner.handle_async_request(pinned)

    async def aclose(self) -> None:
        await self._inner.aclose()


def _normal_host(url: httpx.URL) -> str:
    host = url.raw_host.decode("ascii").lower()
    return host[:-1] if host.endswith(".") else host
