"""Things that identify a person however they are written: UK phone numbers, emails, NHS numbers, postcodes,
street addresses, dates of birth. They run on the original text (compatibility forms folded one character for one), so
leetspeak handling never turns a 0 into an o inside a phone number and the offsets are the original ones.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable
from functools import lru_cache

Span = tuple[int, int]

_PHONE = re.compile(
    r"(?<![\w+])(?:(?:\+|00)\s?44\s?(?:\(0\)\s?)?|\(?0)\d{1,4}\)?(?:[\s.-]?\d){5,9}(?![\d-])"
)
_EMAIL = re.compile(r"(?<![\w.+-])[\w.+-]{1,64}@[A-Za-z0-9-]{1,63}(?:\.[A-Za-z0-9-]{1,63})+")
_NHS = re.compile(r"(?<![\d+])\d{3}[\s-]?\d{3}[\s-]?\d{4}(?![\d-])")
# Ten digits called an NHS (or Scottish CHI, Northern Irish H&C) number are one, even if mistyped.
_NAMED_HEALTH_NUMBER = re.compile(
    r"(?i)\b(?:nhs|chi|h&c|health and care)\s*(?:number|num|no\.?|#)?\s*(?:is|was|:)?\s*"
    r"(\d{3}[\s-]?\d{3}[\s-]?\d{4})(?![\d-])"
)
_POSTCODE = re.compile(
    r"\b(?:[A-PR-UWYZ][A-HK-Y]?\d[A-Z\d]?|GIR)\s?\d[ABD-HJLNP-UW-Z]{2}\b", re.IGNORECASE
)
_STREET_TYPES = (
    "road|rd|street|st|avenue|ave|lane|ln|close|drive|dr|way|crescent|cres|court|ct|place|pl|grove|gardens|"
    "terrace|walk|hill|row|mews|square|sq|view|park|rise|green|parade|boulevard|vale|wynd|croft|fold"
)
# Words that come between a number and "road" without naming a street ("2 hours down the road").
_NOT_STREET_NAMES = "the|a|an|down|up|to|in|on|of|at|my|your|our|his|her|their|and|or|by|off|along|across"
_NOT_STREET_NAMES += "|hours?|mins?|minutes?|days?|weeks?|months?|years?|miles?|times?|more|other|of"
_STREET = re.compile(
    rf"\b\d{{1,4}}[a-zA-Z]?,?\s+(?:[A-Z][A-Za-z'-]+\s+){{1,3}}(?i:{_STREET_TYPES})\b"
    rf"|\b\d{{1,4}}[a-z]?,?\s+(?:(?!(?:{_NOT_STREET_NAMES})\b)[a-z][a-z'-]+\s+){{1,3}}(?:{_STREET_TYPES})\b"
    rf"|\b(?i:flat|apartment|apt|unit)\s+\d{{1,4}}[a-zA-Z]?\b"
)
_MONTHS = "jan|feb|mar|apr|may|jun|jul|aug|sep|sept|oct|nov|dec"
_DATE = (
    r"\d{1,2}[/.-]\d{1,2}[/.-](?:19|20)?\d\d"
    rf"|\d{{1,2}}(?:st|nd|rd|th)?(?: of)? (?:{_MONTHS})[a-z]*,? (?:19|20)\d\d"
    rf"|(?:{_MONTHS})[a-z]* \d{{1,2}}(?:st|nd|rd|th)?,? (?:19|20)\d\d"
)
# A date given as when someone was born: a date alone (an event, an appointment) is not one.
_BIRTH_CUE = r"d\.?o\.?b\.?|date of birth|born(?: on)?|birthday(?: is)?|bday(?: is)?"
_BIRTH_DATE = re.compile(rf"(?i)\b(?:{_BIRTH_CUE})\s*(?:is\s*)?[:\-]?\s*(?:{_DATE})\b")
_DIGIT_OR_AT = re.compile(r"[\d@]")


_NON_ASCII = re.compile(r"[^\x00-\x7f]")


@lru_cache(maxsize=4096)
def _fold_one(char: str) -> str:
    folded = unicodedata.normalize("NFKC", char)
    return folded if len(folded) == 1 else char


def detector_text(original: str) -> str:
    """The original with each character folded one for one (full-width digits → ASCII); same offsets."""
    if original.isascii():
        return original
    return _NON_ASCII.sub(lambda match: _fold_one(match.group()), original)


def _digits(text: str) -> str:
    return "".join(char for char in text if char.isdigit())


def is_uk_phone(candidate: str) -> bool:
    digits = _digits(candidate)
    if digits.startswith("0044"):
        digits = "0" + digits[4:]
    elif digits.startswith("44") and candidate.lstrip().startswith("+"):
        digits = "0" + digits[2:]
    if digits.startswith("00"):
        digits = digits[1:]
    return len(digits) in (10, 11) and digits[0] == "0" and digits[1] in "123578"


def nhs_check_digit_ok(candidate: str) -> bool:
    """Modulus 11: weights 10..2 on the first nine digits; 11 → 0, 10 → never valid."""
    digits = _digits(candidate)
    if len(digits) != 10 or len(set(digits)) == 1:
        return False
    total = sum(int(digit) * weight for digit, weight in zip(digits[:9], range(10, 1, -1), strict=True))
    check = 11 - total % 11
    if check == 11:
        check = 0
    return check != 10 and check == int(digits[9])


def _found(pattern: re.Pattern[str], text: str, accept: Callable[[str], bool] | None = None) -> list[Span]:
    return [match.span() for match in pattern.finditer(text) if accept is None or accept(match.group())]


def uk_phone(text: str) -> list[Span]:
    return _found(_PHONE, text, is_uk_phone) if _DIGIT_OR_AT.search(text) else []


def email(text: str) -> list[Span]:
    return _found(_EMAIL, text) if "@" in text else []


def nhs_number(text: str) -> list[Span]:
    if not _DIGIT_OR_AT.search(text):
        return []
    named = [match.span(1) for match in _NAMED_HEALTH_NUMBER.finditer(text)]
    return sorted(set(named) | set(_found(_NHS, text, nhs_check_digit_ok)))


def uk_postcode(text: str) -> list[Span]:
    return _found(_POSTCODE, text) if _DIGIT_OR_AT.search(text) else []


def street_address(text: str) -> list[Span]:
    return _found(_STREET, text) if _DIGIT_OR_AT.search(text) else []


def date_of_birth(text: str) -> list[Span]:
    return _found(_BIRTH_DATE, text) if _DIGIT_OR_AT.search(text) else []


DETECTORS: dict[str, Callable[[str], list[Span]]] = {
    "uk_phone": uk_phone,
    "email": email,
    "nhs_number": nhs_number,
    "uk_postcode": uk_postcode,
    "street_address": street_address,
    "date_of_birth": date_of_birth,
}
# RE2 patterns that any text a detector would accept must contain; a detector runs only when its hint is seen.
DETECTOR_HINTS = {
    "uk_phone": r"(?:\+|00)\s?44|(?:^|[^\d])\(?0\d{2,4}\)?[\s.-]?\d{3}",
    "email": r"[\w.+-]@[A-Za-z0-9-]+\.[A-Za-z0-9]",
    "nhs_number": r"\d{3}[\s-]?\d{3}[\s-]?\d{4}",
    "uk_postcode": r"(?i)(?:^|[^a-z0-9])[a-z]{1,2}\d[a-z\d]?\s?\d[a-z]{2}(?:[^a-z0-9]|$)",
    "street_address": r"\d[a-zA-Z]?,?\s+[A-Z]|(?i)(?:flat|apartment|apt|unit)\s+\d",
    "date_of_birth": r"(?i)(?:d\.?o\.?b|date of birth|born|b(?:irth)?day)",
}
DETECTOR_DESCRIPTIONS = {
    "uk_phone": "a UK phone number",
    "email": "an email address",
    "nhs_number": "an NHS number",
    "uk_postcode": "a UK postcode",
    "street_address": "a street address",
    "date_of_birth": "a date of birth",
}
