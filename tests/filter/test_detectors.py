from __future__ import annotations

import unicodedata

import pytest
from hypothesis import given
from hypothesis import strategies as st

from monitor.filter.detectors import (
    date_of_birth,
    detector_text,
    email,
    nhs_check_digit_ok,
    nhs_number,
    street_address,
    uk_phone,
    uk_postcode,
)


def found(detector, text: str) -> list[str]:  # type: ignore[no-untyped-def]
    return [text[start:end] for start, end in detector(text)]


@pytest.mark.parametrize("number", ["943 476 5919", "9434765919", "401-023-2137", "450 557 1564"])
def test_valid_nhs_numbers(number: str) -> None:
    assert nhs_check_digit_ok(number)
    assert found(nhs_number, f"his NHS number is {number} ok") == [number]


@pytest.mark.parametrize("number", ["943 476 5918", "1234567890", "0000000000", "123 456 789"])
def test_invalid_nhs_numbers(number: str) -> None:
    assert found(nhs_number, f"number {number}") == []


@pytest.mark.parametrize(
    "phone",
    ["07700 900987", "07700900987", "+44 7700 900987", "+44 (0)7700 900987", "0113 496 0000", "(01924) 123456",
     "020 7946 0018", "0044 113 496 0000"],
)
def test_uk_phone_formats(phone: str) -> None:
    assert found(uk_phone, f"call {phone} now") == [phone]


@pytest.mark.parametrize("text", ["we raised 1234567 pounds", "in 2019 and 2020", "ref 12345", "+1 415 555 2671"])
def test_not_phone_numbers(text: str) -> None:
    assert found(uk_phone, text) == []


@pytest.mark.parametrize("postcode", ["LS1 4AP", "wf1 2ab", "M1 1AE", "SW1A 1AA", "B33 8TH", "CR2 6XH"])
def test_postcodes(postcode: str) -> None:
    assert found(uk_postcode, f"she lives at {postcode} now") == [postcode]


def test_not_postcodes() -> None:
    assert found(uk_postcode, "we had 3 ok days and a 10k run") == []


def test_email_and_street_address() -> None:
    assert found(email, "write to jobs.jrh@gmail.com today") == ["jobs.jrh@gmail.com"]
    assert found(street_address, "she is at 22 Acacia Avenue now") == ["22 Acacia Avenue"]
    assert found(street_address, "he lives in flat 3") == ["flat 3"]


def test_full_width_digits_are_found_with_original_offsets() -> None:
    number = "07700 900987".translate({ord(d): 0xFF10 + int(d) for d in "0123456789"})
    text = f"call {number}"
    assert [text[s:e] for s, e in uk_phone(detector_text(text))] == [number]


@given(st.text())
def test_detector_text_folds_each_character_alone(text: str) -> None:
    def one(char: str) -> str:
        folded = unicodedata.normalize("NFKC", char)
        return folded if len(folded) == 1 else char

    assert detector_text(text) == "".join(one(char) for char in text)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("her DOB is 12/03/1941 if the GP asks", "DOB is 12/03/1941"),
        ("D.O.B: 04.11.52, NHS number to follow", "D.O.B: 04.11.52"),
        ("Mum was born on 3rd March 1938 in Leeds", "born on 3rd March 1938"),
        ("date of birth - June 5, 1944", "date of birth - June 5, 1944"),
    ],
)
def test_a_date_given_as_a_birth_date_is_found(text: str, expected: str) -> None:
    assert found(date_of_birth, text) == [expected]


@pytest.mark.parametrize(
    "text", ["meeting on 12/03/2025 at the office", "born in 1950, still going strong", "happy birthday Jean!"]
)
def test_other_dates_are_not_birth_dates(text: str) -> None:
    assert found(date_of_birth, text) == []


@pytest.mark.parametrize(
    ("text", "expected"),
    [("NHS number 1234567890", "1234567890"), ("her CHI no: 140829 1234", "140829 1234")],
)
def test_ten_digits_called_an_nhs_or_chi_number_are_one_whatever_the_check_digit(text: str, expected: str) -> None:
    assert found(nhs_number, text) == [expected]


@pytest.mark.parametrize(
    ("text", "expected"),
    [("she lives at 14 elm street now", ["14 elm street"]), ("took 2 hours down the road", []),
     ("3 more days on the ward", [])],
)
def test_a_street_address_in_lower_case(text: str, expected: list[str]) -> None:
    assert found(street_address, text) == expected


def test_a_mobile_number_spaced_in_pairs() -> None:
    assert found(uk_phone, "her mobile is 07 912 345 678") == ["07 912 345 678"]
