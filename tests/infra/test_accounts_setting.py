"""O2C_ACCOUNTS: the journal's chart, every role once with an account of its own, checked at start-up
(the one-line exit of every `o2c` command is in test_config_errors.py; here, each rule's message)."""

from __future__ import annotations

import pytest

from domain.journal import DEFAULT_ACCOUNTS, ROLES, Accounts
from infra.settings import ConfigError, load_settings

DEFAULT = "ar=1200,cash=1000,unapplied=2300,tax=2200,revenue=4000,freight=4100,discounts=4900"


def test_unset_or_blank_is_the_default_chart_of_api_md() -> None:
    assert load_settings({}).accounts == DEFAULT_ACCOUNTS
    assert load_settings({"O2C_ACCOUNTS": "  "}).accounts == DEFAULT_ACCOUNTS
    assert load_settings({"O2C_ACCOUNTS": DEFAULT}).accounts == DEFAULT_ACCOUNTS
    assert ROLES == ("ar", "cash", "unapplied", "tax", "revenue", "freight", "discounts")


def test_a_chart_of_its_own_in_any_order_with_spaces() -> None:
    text = " discounts = 7.490 , freight=4-100,revenue=R_4000, tax=2200,unapplied=2300,cash=1000,ar=AR1200 "
    assert load_settings({"O2C_ACCOUNTS": text}).accounts == Accounts(
        ar="AR1200", cash="1000", unapplied="2300", tax="2200", revenue="R_4000", freight="4-100", discounts="7.490"
    )


@pytest.mark.parametrize(
    ("text", "says"),
    [
        (DEFAULT.replace("ar=", "receivables="), "unknown role 'receivables'"),
        (DEFAULT.replace(",discounts=4900", ""), "lacks the role(s) discounts"),
        ("ar=1200", "lacks the role(s) cash, unapplied, tax, revenue, freight, discounts"),
        (DEFAULT + ",ar=1300", "names the role 'ar' twice"),
        (DEFAULT.replace("freight=4100", "freight=4000"), "gives the account '4000' to more than one role"),
        (DEFAULT.replace("tax=2200", "tax="), "gives tax the account ''"),
        (DEFAULT.replace("tax=2200", "tax=22 00"), "gives tax the account '22 00'"),
        (DEFAULT.replace("tax=2200", "tax=" + "9" * 21), "not 1-20 letters"),
        (DEFAULT.replace("tax=2200", "tax"), "has 'tax', not role=number"),
        (DEFAULT + ",", "has '', not role=number"),
    ],
)
def test_a_bad_chart_stops_start_up_naming_the_variable_and_the_rule(text: str, says: str) -> None:
    with pytest.raises(ConfigError) as caught:
        load_settings({"O2C_ACCOUNTS": text})
    message = str(caught.value)
    assert message.startswith("O2C_ACCOUNTS ") and says in message, message
    assert DEFAULT in message  # and says what it must look like
    assert "\n" not in message
