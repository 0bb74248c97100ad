"""Helpers shared by the tests."""

from pydicom.data import get_testdata_file


def pydicom_file(name: str) -> str:
    """Path of a pydicom / pydicom-data test file, found offline (never downloaded)."""
    path = get_testdata_file(name, download=False)
    assert path is not None, f"{name} not installed: pip install pydicom-data"
    return path
