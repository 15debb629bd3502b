"""O2C_DUNNING_DAYS and O2C_OVERDUE_HOLD_DAYS: defaults, accepted forms and refusals naming the variable."""

from __future__ import annotations

import pytest

from infra.settings import ConfigError, load_settings


def test_defaults_are_7_21_45_and_no_overdue_hold() -> None:
    settings = load_settings({})
    assert (settings.dunning_days, settings.overdue_hold_days) == ((7, 21, 45), None)


def test_accepted_values() -> None:
    settings = load_settings({"O2C_DUNNING_DAYS": " 5, 30 ", "O2C_OVERDUE_HOLD_DAYS": "0"})
    assert (settings.dunning_days, settings.overdue_hold_days) == ((5, 30), 0)


@pytest.mark.parametrize(
    ("variable", "value"),
    [
        ("O2C_DUNNING_DAYS", "7,21,21"),
        ("O2C_DUNNING_DAYS", "21,7"),
        ("O2C_DUNNING_DAYS", "0,7"),
        ("O2C_DUNNING_DAYS", "7,,21"),
        ("O2C_DUNNING_DAYS", "seven"),
        ("O2C_OVERDUE_HOLD_DAYS", "-1"),
        ("O2C_OVERDUE_HOLD_DAYS", "ten"),
        ("O2C_OVERDUE_HOLD_DAYS", "4000"),
    ],
)
def test_bad_values_stop_start_up_naming_the_variable(variable: str, value: str) -> None:
    with pytest.raises(ConfigError, match=variable):
        load_settings({variable: value})
