"""A classifier with the shipped packs, built once (it is read-only and thread-safe)."""

from __future__ import annotations

import pytest

from monitor.filter import Classifier, FilterSettings


@pytest.fixture(scope="session")
def default_classifier() -> Classifier:
    return Classifier.from_settings(FilterSettings())
