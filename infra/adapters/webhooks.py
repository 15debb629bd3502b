"""Outbound webhook calls, to the Standard Webhooks specification: the URL guard (SSRF), the
signature (the `standardwebhooks` library) and one attempt over httpx (10 s, no redirects)."""

from __future__ import annotations

import base64
import functools
import ipaddress
import secrets
import socket
import ssl
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from urllib.parse import SplitResult, urlsplit, urlunsplit

import httpx
from standardwebhooks import Webhook

Resolver = Callable[[str, int], Sequence[str]]  # host, port -> the addresses it resolves to


class UrlNotAllowedError(Exception):
    """The URL is not http(s), or its host resolves to an address webhooks may not reach."""


def new_secret() -> str:
    """`whsec_` + base64 of 32 random bytes (API.md: 24-64)."""
    return "whsec_" + base64.b64encode(secrets.token_bytes(32)).decode()


def system_resolver(host: str, port: int) -> list[str]:
    """The addresses `host` resolves to, in the resolver's order of preference, each once."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError) as exc:
        raise UrlNotAllowedError(f"the host {host} does not resolve ({exc})") from None
    return list(dict.fromkeys(str(info[4][0]) for info in infos))


def _forbidden(address: str) -> bool:
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return (
        ip.is_loopback
        or ip.is_private
        or ip.is_link_local
        or ip.is_multicast
        or ip.is_unspecified
        or ip.is_reserved
        or (isinstance(ip, ipaddress.IPv4Address) and ip in ipaddress.ip_network("100.64.0.0/10"))  # carrier NAT
    )


@dataclass(frozen=True)
class Target:
    """Where one attempt connects: the checked address, so the connection cannot go elsewhere than what
    the guard allowed (a second DNS lookup by the HTTP client could answer differently: DNS rebinding)."""

    url: str  # the URL with its host replaced by the checked address
    host: str  # the Host header: the URL's own host[:port]
    server_name: str | None  # https: the name TLS sends (SNI) and checks the certificate against


def _split(url: str) -> tuple[SplitResult, int]:
    try:
        parts = urlsplit(url)
        port = parts.port or (443 if parts.scheme == "https" else 80)
    except ValueError as exc:
        raise UrlNotAllowedError(f"not a valid URL ({exc})") from None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise UrlNotAllowedError("a webhook URL must be http:// or https:// with a host")
    if parts.username or parts.password:
        raise UrlNotAllowedError("a webhook URL must not carry credentials")
    return parts, port


def _checked(parts: SplitResult, port: int, allow_private: bool, resolve: Resolver) -> list[str]:
    host = parts.hostname or ""
    addresses = list(resolve(host, port))
    if not addresses:
        raise UrlNotAllowedError(f"the host {host} does not resolve")
    bad = [a for a in addresses if _forbidden(a)]
    if bad and not allow_private:
        raise UrlNotAllowedError(
            f"the host {host} resolves to {bad[0]}, a loopback, private, link-local or multicast address"
        )
    return addresses


def check_url(url: str, allow_private: bool, resolve: Resolver = system_resolver) -> None:
    """Raise UrlNotAllowedError unless `url` is http(s) with a host that resolves only to public
    addresses (any host when `allow_private`; the host need not resolve yet then)."""
    parts, port = _split(url)
    if not allow_private:
        _checked(parts, port, allow_private, resolve)


def target(url: str, allow_private: bool, resolve: Resolver = system_resolver) -> Target:
    """Resolve `url`'s host once, check every address, and pin the attempt to the first."""
    parts, port = _split(url)
    address = _checked(parts, port, allow_private, resolve)[0]
    literal = f"[{address}]" if ":" in address else address
    netloc = literal if parts.port is None else f"{literal}:{parts.port}"
    host = parts.netloc.rsplit("@", 1)[-1]
    return Target(urlunsplit(parts._replace(netloc=netloc)), host, parts.hostname if parts.scheme == "https" else None)


def signature(secrets_: Sequence[str], msg_id: str, at: datetime, body: str) -> str:
    """`v1,<base64>` per secret, separated by spaces (the old and new secret while a rotation lasts)."""
    return " ".join(Webhook(s).sign(msg_id, at, body) for s in secrets_)


@dataclass(frozen=True)
class AttemptResult:
    status_code: int | None  # None: no answer (refused, timed out, not allowed)
    duration_ms: int
    error: str | None  # None on success
    retry_after: float | None = None  # seconds the receiver asked for on 429/503

    @property
    def succeeded(self) -> bool:
        return self.status_code is not None and 200 <= self.status_code < 300

    @property
    def gone(self) -> bool:
        return self.status_code == 410


def retry_after(value: str | None, now: datetime) -> float | None:
    """Retry-After as seconds: delta-seconds or an HTTP date."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max((when - now).total_seconds(), 0.0)


@functools.cache
def _tls() -> ssl.SSLContext:
    """httpx's verifying TLS context (certifi's roots), made once per process: loading the roots
    takes about 50 ms, which every worker start paid for its sender."""
    return httpx.create_ssl_context()


class WebhookSender:
    """POSTs one signed delivery; never raises for what the receiver or the network does."""

    def __init__(self, timeout: float, allow_private: bool, resolve: Resolver = system_resolver) -> None:
        self.allow_private = allow_private
        self.resolve = resolve
        self.client = httpx.Client(timeout=timeout, follow_redirects=False, trust_env=False, verify=_tls())

    def send(
        self, url: str, secrets_: Sequence[str], msg_id: str, body: str, traceparent: str | None = None
    ) -> AttemptResult:
        started = time.monotonic()

        def took() -> int:
            return int((time.monotonic() - started) * 1000)

        try:  # at every attempt: DNS may have changed; the connection goes to the address checked here
            pinned = target(url, self.allow_private, self.resolve)
        except UrlNotAllowedError as exc:
            return AttemptResult(None, took(), f"url not allowed: {exc}")
        now = datetime.now(UTC)  # the receiver checks the timestamp against its own (real) clock
        headers = {
            "content-type": "application/json",
            "webhook-id": msg_id,
            "webhook-timestamp": str(int(now.timestamp())),
            "webhook-signature": signature(secrets_, msg_id, now, body),
            "user-agent": "o2c-webhooks/1",
            "host": pinned.host,
        }
        if traceparent is not None:
            headers["traceparent"] = traceparent
        try:
            sni = {} if pinned.server_name is None else {"sni_hostname": pinned.server_name}
            answer = self.client.post(pinned.url, content=body.encode(), headers=headers, extensions=sni)
        except httpx.TimeoutException:
            return AttemptResult(None, took(), "timeout: no answer within the time allowed")
        except httpx.HTTPError as exc:
            return AttemptResult(None, took(), f"{type(exc).__name__}: {exc}"[:500])
        code = answer.status_code
        if 200 <= code < 300:
            return AttemptResult(code, took(), None)
        wait = retry_after(answer.headers.get("retry-after"), now) if code in (429, 503) else None
        error = f"HTTP {code}" + (" (redirects are not followed)" if 300 <= code < 400 else "")
        return AttemptResult(code, took(), error, wait)

    def close(self) -> None:
        self.client.close()
