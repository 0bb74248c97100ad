"""Shared fixtures: quiet the warnings pydicom gives for its own (deliberately odd) test files."""

import warnings

import pytest


@pytest.fixture(autouse=True)
def _quiet_pydicom():
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", module="pydicom")
        yield
