"""Shared fixtures for the Python binding tests.

The RFC vectors are read at collection time from the repository's
``tests/vectors/*.json`` (the files the Rust, Kotlin and Swift tests use too) and
every vector becomes its own parametrized test case.
"""

import pytest

from otp_support import RFC_KEY_SHA1_HEX, load_vectors

try:
    import digital_otp
except ImportError as exc:  # a setup problem, not a test failure
    raise pytest.UsageError(
        f"cannot import digital_otp ({exc}); run scripts/test-python.sh, which generates the "
        "bindings and copies them with the native library into bindings/python/src/digital_otp/"
    ) from exc


def _hotp_id(v):
    return f"{v['algorithm']}-counter{v['counter']}"


def _totp_id(v):
    return f"{v['algorithm']}-t{v['time']}"


def _ocra_id(i, v):
    extra = "".join(f"-{key}{v[key]}" for key in ("counter", "time_steps") if key in v)
    return f"{i:02d}-{v['suite']}-{v['question']}{extra}"


def pytest_generate_tests(metafunc):
    """Parametrizes tests that take `hotp_vector`, `totp_vector` or `ocra_vector`."""
    if "hotp_vector" in metafunc.fixturenames:
        vectors = load_vectors("hotp")
        metafunc.parametrize("hotp_vector", vectors, ids=[_hotp_id(v) for v in vectors])
    if "totp_vector" in metafunc.fixturenames:
        vectors = load_vectors("totp")
        metafunc.parametrize("totp_vector", vectors, ids=[_totp_id(v) for v in vectors])
    if "ocra_vector" in metafunc.fixturenames:
        vectors = load_vectors("ocra")
        metafunc.parametrize(
            "ocra_vector", vectors, ids=[_ocra_id(i, v) for i, v in enumerate(vectors)]
        )


@pytest.fixture
def rfc_secret():
    """The RFC 4226 SHA-1 test key."""
    return digital_otp.OtpSecret.from_hex(RFC_KEY_SHA1_HEX)
