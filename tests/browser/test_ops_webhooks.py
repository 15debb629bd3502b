"""The /ops card of failing webhooks: an admin sees a webhook whose delivery failed and sends its
failed deliveries again with Retry; the receiver is real and checks each signature."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from infra.adapters.keys import KeyRing
from infra.eventstore.engine import make_engine
from infra.settings import Settings
from tests.conftest import ADMIN_KEY, Api, make_settings, wait_until
from tests.http import ok
from tests.webhook_receiver import Receiver

TIMEOUT_MS = 20_000


@pytest.fixture
def settings(database_url: str) -> Settings:
    return make_settings(database_url, webhook_allow_private=True, webhook_retry_schedule=(0.05,))


@pytest.fixture
def api(served: str) -> Iterator[Api]:
    with httpx.Client(base_url=served, timeout=30) as client:
        yield Api(client)


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    with Receiver() as r:
        yield r


def test_an_admin_retries_the_failed_deliveries_of_a_failing_webhook(
    served: str, api: Api, settings: Settings, receiver: Receiver, browser: Any
) -> None:
    from playwright.sync_api import expect

    hook = {"webhook_id": "crm", "url": receiver.url, "event_types": ["WarehouseDefined"]}
    receiver.secrets.append(ok(api.post("/v1/webhooks", hook), 201)["secret"])
    receiver.default = (500, {})
    assert api.put("/v1/warehouses/W-A", {"name": "Main"}).status_code == 201
    failing = lambda: ok(api.get("/v1/ops/signals"), 200)["webhooks_failing"]  # noqa: E731
    assert wait_until(failing, timeout=10)
    reader = KeyRing(make_engine(settings), None).create("dashboard-viewer", frozenset({"read"}))

    context = browser.new_context(viewport={"width": 1440, "height": 1000})
    try:
        page = context.new_page()
        page.set_default_timeout(TIMEOUT_MS)
        expect.set_options(timeout=TIMEOUT_MS)

        def sign_in(key: str) -> None:
            assert page.goto(f"{served}/ops?every=1").status == 200
            expect(page.locator("#login")).to_be_visible()
            page.fill("#key", key)
            page.click("#login button[type=submit]")

        # a read key sees the failing webhook but no Retry
        sign_in(reader)
        row = page.locator("#webhooks-table tr[data-id='crm']")
        expect(row.locator(".failed")).to_have_text("1")
        expect(row).to_contain_text(receiver.url)
        expect(row.locator("button.retry")).to_have_count(0)
        page.click("#forget")

        # an admin retries; the receiver answers again and the webhook is no longer failing
        sign_in(ADMIN_KEY)
        row = page.locator("#webhooks-table tr[data-id='crm']")
        expect(row.locator("button.retry")).to_be_visible()
        seen = len(receiver.received)
        receiver.default = (200, {})
        row.locator("button.retry").click()
        expect(page.locator("#webhooks-table")).to_contain_text("No failing webhooks.")
        # the card clears once the retry is pending again; the receiver's answer is recorded a moment after
        assert wait_until(lambda: ok(api.get("/v1/webhooks/crm/deliveries", status="succeeded"), 200)["items"], 10)
        assert len(receiver.received) > seen and receiver.received[-1].verified
    finally:
        context.close()
