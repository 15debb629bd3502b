"""Payment terms: due dates (net days, end of month across February and December), discount windows
and amounts (half-up to the cent), and the terms decider's validation."""

from __future__ import annotations

from datetime import date
from decimal import Decimal as D

import pytest

from domain.errors import InvalidRequestError
from domain.terms import (
    PaymentTerms,
    PaymentTermsSet,
    PutPaymentTerms,
    discount_amount,
    due_date,
    invoice_dates,
    month_end,
    terms_decider,
)
from tests.spec import spec

NET_30 = PaymentTerms("NET30", "Net 30", 30)
NET_30_EOM = PaymentTerms("EOM30", "Net 30 end of month", 30, end_of_month=True)
TWO_10_NET_30 = PaymentTerms("2-10-N30", "2/10 net 30", 30, discount_percent=D("2.00"), discount_days=10)


def test_without_terms_an_invoice_is_due_on_issue() -> None:
    assert due_date(date(2026, 3, 2), None) == date(2026, 3, 2)
    assert invoice_dates(date(2026, 3, 2), D("10.00"), None).discount_until is None


def test_net_days_count_from_the_issue_date_across_months_and_years() -> None:
    assert due_date(date(2026, 3, 2), NET_30) == date(2026, 4, 1)
    assert due_date(date(2026, 12, 15), NET_30) == date(2027, 1, 14)
    assert due_date(date(2026, 3, 2), PaymentTerms("N0", "Due now", 0)) == date(2026, 3, 2)


@pytest.mark.parametrize(
    ("issued", "due"),
    [
        (date(2023, 1, 15), date(2023, 3, 2)),  # Jan 31 + 30 in a common year: 2 March
        (date(2024, 1, 15), date(2024, 3, 1)),  # leap year: 29 days in February, 1 March
        (date(2023, 2, 1), date(2023, 3, 30)),  # counted from 28 February
        (date(2024, 2, 29), date(2024, 3, 30)),  # the leap day itself is the month's end
        (date(2026, 12, 1), date(2027, 1, 30)),  # December: from 31 December into the next year
        (date(2026, 12, 31), date(2027, 1, 30)),
    ],
)
def test_end_of_month_counts_from_the_last_day_of_the_issue_month(issued: date, due: date) -> None:
    assert due_date(issued, NET_30_EOM) == due


def test_month_end_of_february_in_leap_and_common_years_and_of_december() -> None:
    assert month_end(date(2023, 2, 10)) == date(2023, 2, 28)
    assert month_end(date(2024, 2, 10)) == date(2024, 2, 29)
    assert month_end(date(2100, 2, 1)) == date(2100, 2, 28)  # a century not divisible by 400
    assert month_end(date(2026, 12, 5)) == date(2026, 12, 31)


def test_two_ten_net_thirty_gives_a_window_of_ten_days_and_two_percent_half_up() -> None:
    dates = invoice_dates(date(2026, 3, 2), D("1109.56"), TWO_10_NET_30)
    assert (dates.due_date, dates.discount_until) == (date(2026, 4, 1), date(2026, 3, 12))
    assert dates.discount_amount == D("22.19")  # 22.1912


def test_the_discount_is_rounded_half_up_once_to_the_cent() -> None:
    assert discount_amount(D("0.25"), D("2.00")) == D("0.01")  # 0.005 rounds up
    assert discount_amount(D("0.24"), D("2.00")) == D("0.00")  # 0.0048
    assert discount_amount(D("999999999999.99"), D("100")) == D("999999999999.99")
    assert discount_amount(D("100.00"), D("1.25")) == D("1.25")


def test_a_window_never_ends_after_the_due_date_and_an_end_of_month_window_counts_from_the_month_end() -> None:
    long = PaymentTerms("X", "x", 5, discount_percent=D("1"), discount_days=10)
    assert invoice_dates(date(2026, 3, 2), D("10.00"), long).discount_until == date(2026, 3, 7)
    eom = PaymentTerms("Y", "y", 30, True, D("2"), 10)
    assert invoice_dates(date(2024, 2, 3), D("10.00"), eom).discount_until == date(2024, 3, 10)


def test_a_zero_percent_discount_or_an_invoice_of_nothing_has_no_discount() -> None:
    none = PaymentTerms("Z", "z", 30, discount_percent=D("0.00"), discount_days=10)
    assert invoice_dates(date(2026, 3, 2), D("10.00"), none).discount_amount is None
    assert invoice_dates(date(2026, 3, 2), D("0.00"), TWO_10_NET_30).discount_amount is None


# --- the terms decider ------------------------------------------------------------------------------

PUT = PutPaymentTerms("2-10-N30", "2/10 net 30", 30, False, D("2.00"), 10)
SET = PaymentTermsSet(
    terms_id="2-10-N30",
    name="2/10 net 30",
    net_days=30,
    end_of_month=False,
    discount_percent=D("2.00"),
    discount_days=10,
)


def test_putting_terms_records_them_and_putting_the_same_again_records_nothing() -> None:
    spec(terms_decider).when(PUT).then(SET)
    spec(terms_decider).given(SET).when(PUT).then()


def test_changed_terms_are_recorded_again() -> None:
    changed = PutPaymentTerms("2-10-N30", "2/10 net 45", 45, False, D("2.00"), 10)
    state = (
        spec(terms_decider)
        .given(SET)
        .when(changed)
        .then(
            PaymentTermsSet(
                terms_id="2-10-N30", name="2/10 net 45", net_days=45, discount_percent=D("2.00"), discount_days=10
            )
        )
    )
    assert state is not None and state.net_days == 45


@pytest.mark.parametrize(
    ("command", "field"),
    [
        (PutPaymentTerms("T", "t", 400), "net_days"),
        (PutPaymentTerms("T", "t", -1), "net_days"),
        (PutPaymentTerms("T", "t", 30, False, D("100.01"), 10), "discount_percent"),
        (PutPaymentTerms("T", "t", 30, False, D("-1"), 10), "discount_percent"),
        (PutPaymentTerms("T", "t", 30, False, D("2"), 400), "discount_days"),
        (PutPaymentTerms("T", "t", 30, False, D("2"), None), "discount_days"),
        (PutPaymentTerms("T", "t", 30, False, None, 10), "discount_percent"),
    ],
)
def test_bad_terms_are_refused_naming_the_field(command: PutPaymentTerms, field: str) -> None:
    error = spec(terms_decider).when(command).then_raises(InvalidRequestError)
    assert error.facts["errors"][0]["field"] == field
