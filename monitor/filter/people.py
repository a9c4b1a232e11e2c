"""Does a comment name a person? Protected names come from the rules; this finds the rest."""

from __future__ import annotations

import re
from collections.abc import Iterable

TITLES = ("Mr", "Mrs", "Ms", "Miss", "Mx", "Dr", "Nurse", "Auntie", "Uncle", "Nanna", "Grandad")
_TITLED = re.compile(rf"\b(?:{'|'.join(TITLES)})\.?\s+[A-Z][a-z]+")
_CAPITALISED = re.compile(r"\b[A-Z][a-z]+(?:-[A-Z][a-z]+)?\b")


class PersonFinder:
    """Capitalised first names from a list of common names, and titles followed by a name."""

    def __init__(self, first_names: Iterable[str]) -> None:
        self._first_names = frozenset(name.strip().lower() for name in first_names if name.strip())

    def names_someone(self, text: str) -> bool:
        if _TITLED.search(text):
            return True
        return any(match.group().lower() in self._first_names for match in _CAPITALISED.finditer(text))
