"""Contact details and names as people type them in a chat."""
from __future__ import annotations

from typing import Optional

import pytest

from bot.booking.contact import Contact, display_contact, parse_contact, parse_name, region_from_phone


@pytest.mark.parametrize(
    "text, expected",
    [
        # phone numbers, normalised to E.164
        ("call me on 202-555-0143", Contact("phone", "+12025550143")),
        ("+1 202 555 0143", Contact("phone", "+12025550143")),
        ("my cell: (212) 555-0123, thanks", Contact("phone", "+12125550123")),
        ("+44 20 7946 0958", Contact("phone", "+442079460958")),
        ("call me @ 202 555 0143", Contact("phone", "+12025550143")),
        # 555 is not an area code: the fictional (555) 01xx numbers cannot be dialled
        ("my number is (555) 010-0123", Contact("phone", None, "invalid_phone")),
        ("555 0100", Contact("phone", None, "invalid_phone")),
        ("12345", Contact("phone", None, "invalid_phone")),
        ("020 7946 0958", Contact("phone", None, "invalid_phone")),  # a UK number without +44
        # email addresses: the domain is lowercased, the rest kept as written
        ("email me at Ann@Example.com", Contact("email", "Ann@example.com")),
        ("my email is ann.lee@example.com.", Contact("email", "ann.lee@example.com")),
        ("ann2024@example.com", Contact("email", "ann2024@example.com")),
        ("ann@example", Contact("email", None, "invalid_email")),
        ("ann@@example.com", Contact("email", None, "invalid_email")),
        ("<ann@example.com>", Contact("email", "ann@example.com")),
        # both: the first one written; a valid one beats a broken one
        ("202 555 0143 or ann@example.com", Contact("phone", "+12025550143")),
        ("ann@example.com or 202 555 0143", Contact("email", "ann@example.com")),
        ("apt 1234, email ann@example.com", Contact("email", "ann@example.com")),
        ("ann@example or 202 555 0143", Contact("phone", "+12025550143")),
        # nothing there
        ("", Contact(None, None, "missing")),
        ("no thanks", Contact(None, None, "missing")),
        ("at 5", Contact(None, None, "missing")),
        ("<script>alert(1)</script>", Contact(None, None, "missing")),
    ],
)
def test_parse_contact(text: str, expected: Contact) -> None:
    assert parse_contact(text) == expected


def test_a_local_number_is_read_in_the_spa_region() -> None:
    assert parse_contact("020 7946 0958", default_region="GB") == Contact("phone", "+442079460958")
    assert parse_contact("x" * 10_000 + " 202 555 0143") == Contact(None, None, "missing")


def test_contact_ok() -> None:
    assert Contact("phone", "+12025550143").ok
    assert not Contact("phone", None, "invalid_phone").ok


@pytest.mark.parametrize(
    "spa_phone, region",
    [("+1 555 0100", "US"), ("+44 20 7946 0958", "GB"), ("+61 2 9876 5432", "AU"), ("", "US"), ("call us", "US")],
)
def test_region_from_the_spa_phone(spa_phone: str, region: str) -> None:
    assert region_from_phone(spa_phone) == region


@pytest.mark.parametrize(
    "value, shown",
    [
        ("+12025550143", "+1 202-555-0143"),
        ("+442079460958", "+44 20 7946 0958"),
        ("Ann@example.com", "Ann@example.com"),
        ("not a number", "not a number"),
        ("", ""),
    ],
)
def test_display_contact(value: str, shown: str) -> None:
    assert display_contact(value) == shown


@pytest.mark.parametrize(
    "text, name",
    [
        ("I'm Ann Lee", "Ann Lee"),
        ("my name is Ann", "Ann"),
        ("Ann", "Ann"),
        ("ann lee", "Ann Lee"),
        ("ANN LEE", "Ann Lee"),
        ("it's Ann", "Ann"),
        ("this is Mary-Jane O'Neil", "Mary-Jane O'Neil"),
        ("mary-jane o'neil", "Mary-Jane O'Neil"),
        ("Hi, I am José García", "José García"),
        ("Ann, thanks", "Ann"),
        ("call me Ann.", "Ann"),
        ("DeShawn McDonald", "DeShawn McDonald"),
        ("J. R. Smith", "J. R. Smith"),
        ("name: Ann Lee", "Ann Lee"),
        ("it's under Ann Lee", "Ann Lee"),
        ("you can call me ann", "Ann"),
        ("", None),
        ("   ", None),
        ("12345", None),
        ("Ann2", None),
        ("<b>Ann</b>", None),
        ("x" * 81, None),
        ("x", None),
        ("no", None),
        ("I'd rather not say", None),
        ("I want a massage tomorrow", None),
        ("ann@example.com", None),
        ("my name is", None),
        ("one two three four five six", None),
    ],
)
def test_parse_name(text: str, name: Optional[str]) -> None:
    assert parse_name(text) == name
