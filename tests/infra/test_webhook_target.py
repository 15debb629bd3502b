"""One attempt resolves the receiver's host once and connects to the address the guard checked: a
second lookup by the HTTP client could answer a private address (DNS rebinding)."""

from __future__ import annotations

import pytest

from infra.adapters.webhooks import Target, UrlNotAllowedError, WebhookSender, new_secret, target
from tests.webhook_receiver import Receiver

PUBLIC = "93.184.215.14"


def test_an_attempt_is_pinned_to_the_checked_address_with_the_url_host_as_host_and_server_name() -> None:
    assert target("https://hooks.example/in?x=1", False, lambda host, port: [PUBLIC]) == Target(
        f"https://{PUBLIC}/in?x=1", "hooks.example", "hooks.example"
    )
    assert target("http://Hooks.Example:8080/in", False, lambda host, port: ["2606:2800:21f:cb07::1"]) == Target(
        "http://[2606:2800:21f:cb07::1]:8080/in", "Hooks.Example:8080", None
    )
    assert target(f"https://{PUBLIC}:8443/in", False, lambda host, port: [host]).url == f"https://{PUBLIC}:8443/in"
    with pytest.raises(UrlNotAllowedError):  # one forbidden address among the answers refuses the attempt
        target("https://hooks.example/in", False, lambda host, port: [PUBLIC, "169.254.169.254"])
    with pytest.raises(UrlNotAllowedError):
        target("https://hooks.example/in", True, lambda host, port: [])


def test_the_connection_goes_where_the_check_looked_even_when_the_name_would_resolve_elsewhere_next() -> None:
    lookups: list[str] = []

    def rebinding(host: str, port: int) -> list[str]:
        lookups.append(host)  # the first answer is the receiver; any later one an address nobody listens on
        return ["127.0.0.1"] if len(lookups) == 1 else ["203.0.113.9"]

    secret = new_secret()
    with Receiver() as receiver:
        receiver.secrets.append(secret)
        sender = WebhookSender(5.0, allow_private=True, resolve=rebinding)
        try:
            url = f"http://hooks.example.invalid:{receiver.port}/hook"  # a name the system resolver cannot answer
            result = sender.send(url, [secret], "msg_1", '{"id":"1"}')
        finally:
            sender.close()
    assert result.succeeded, result
    assert lookups == ["hooks.example.invalid"]  # resolved once, by the guard
    [received] = receiver.received
    assert received.verified
    assert received.headers["host"] == f"hooks.example.invalid:{receiver.port}"
