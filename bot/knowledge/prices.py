"""The spa's price list in words: what the assistant says when someone asks what a massage costs.

Prices are structured in data/kb/spa.yml (`prices:` entries of service, minutes and price) so the
staff page can edit one line without rewriting a sentence, and so a typo in an amount is caught by
the loader instead of being read out to a client. The loader checks amounts with `parse_amount`;
the reply is built here from the rows. Pure: no I/O.
"""
from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import Any, Dict, Iterable, List, Mapping, NamedTuple, Optional

MAX_AMOUNT = Decimal("100000")
AMOUNT_HINT = "an amount like 55 or 49.50, without the currency sign"


class Price(NamedTuple):
    service: str
    minutes: int
    price: str  # decimal text, as parse_amount returned it


def parse_amount(value: Any) -> str:
    """The amount as plain decimal text ("55", "49.50"); ValueError when it is not a price.

    Whole amounts stay whole and others keep two decimals, so "49.5" is said as $49.50.
    """
    if isinstance(value, bool) or value is None:
        raise ValueError(f"must be {AMOUNT_HINT}")
    try:
        amount = Decimal(str(value).strip())
    except InvalidOperation as error:
        raise ValueError(f"must be {AMOUNT_HINT}, not '{value}'") from error
    if not amount.is_finite() or amount < 0 or amount >= MAX_AMOUNT:
        raise ValueError(f"must be {AMOUNT_HINT}, not '{value}'")
    if amount != amount.quantize(Decimal("0.01")):
        raise ValueError(f"has more than two decimals ('{value}')")
    return str(int(amount)) if amount == amount.to_integral_value() else str(amount.quantize(Decimal("0.01")))


def format_amount(amount: str, currency: str) -> str:
    """"$55", "£49.50": the currency as the spa writes it, then the amount."""
    return f"{currency.strip()}{amount}"


def price_lines(prices: Iterable[Price], currency: str) -> List[str]:
    """One line per service, its lengths in the order the spa listed them."""
    by_service: Dict[str, List[str]] = {}
    for row in prices:
        by_service.setdefault(row.service, []).append(
            f"{format_amount(row.price, currency)} for {row.minutes} minutes")
    return [f"{service}: {', '.join(amounts)}" for service, amounts in by_service.items()]


def price_text(prices: Iterable[Price], currency: str) -> str:
    """The whole list in one line ("Massage: $55 for 30 minutes, $95 for 60 minutes"), for places
    that show the spa's settings as text."""
    return "; ".join(price_lines(prices, currency))


def price_reply(spa: Mapping[str, str], prices: Iterable[Price]) -> Optional[str]:
    """The spa's prices after the general answer about cost; None when the spa lists none."""
    lines = price_lines(prices, spa.get("currency") or "")
    if not lines:
        return None
    name = spa.get("name") or "our spa"
    text = f"Our prices at {name}:\n" + "\n".join(f"- {line}" for line in lines)
    note = str(spa.get("prices_note") or "").strip()
    return f"{text}\n{note}" if note else text
