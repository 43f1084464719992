"""The RFC test vectors (RFC 4226 Appendix D, RFC 6238 Appendix B, RFC 6287
Appendix C) through the Python bindings: one test case per vector."""

import pytest

import digital_otp as otp
from otp_support import PIN_HASHES, load_vectors


@pytest.mark.parametrize("kind,count", [("hotp", 10), ("totp", 18), ("ocra", 60)])
def test_vector_counts(kind, count):
    assert len(load_vectors(kind)) == count


def test_hotp_vector(hotp_vector):
    v = hotp_vector
    hotp = otp.Hotp(
        otp.OtpSecret.from_hex(v["key_hex"]), otp.hash_algorithm_from_name(v["algorithm"]), v["digits"]
    )
    assert hotp.generate(v["counter"]) == v["code"]
    # The exact counter verifies and is reported back.
    assert hotp.verify(v["code"], v["counter"], 0, 0) == v["counter"]


def test_totp_vector(totp_vector):
    v = totp_vector
    totp = otp.Totp(
        otp.OtpSecret.from_hex(v["key_hex"]),
        otp.hash_algorithm_from_name(v["algorithm"]),
        v["digits"],
        v["period"],
        v["t0"],
    )
    step = (v["time"] - v["t0"]) // v["period"]
    code = totp.code_at(v["time"])
    assert code.code == v["code"]
    assert code.step == step
    assert code.valid_from <= v["time"] < code.valid_until
    assert code.valid_until - code.valid_from == v["period"]
    assert code.seconds_remaining == code.valid_until - v["time"]
    assert totp.time_step(v["time"]) == step
    assert totp.code_for_step(step) == v["code"]
    assert totp.verify(v["code"], v["time"], 0, 0) == step


def _ocra_input(v, **overrides):
    fields = {
        "question": v["question"],
        "counter": v.get("counter"),
        "pin": v.get("pin"),
        "time_steps": v.get("time_steps"),
    }
    fields.update(overrides)
    return otp.OcraInput(**fields)


def test_ocra_vector(ocra_vector):
    v = ocra_vector
    ocra = otp.Ocra(v["suite"], otp.OtpSecret.from_hex(v["key_hex"]))
    assert ocra.generate(_ocra_input(v)) == v["response"]
    # verify reports the timestamp (suites with T), else the counter (C), else 0.
    expected = v.get("time_steps", v.get("counter", 0))
    assert ocra.verify(v["response"], _ocra_input(v), 0, 0) == expected


def test_ocra_pin_and_pin_hash_give_the_same_response():
    pin_vectors = [v for v in load_vectors("ocra") if "pin" in v]
    assert len(pin_vectors) == 15
    for v in pin_vectors:
        ocra = otp.Ocra(v["suite"], otp.OtpSecret.from_hex(v["key_hex"]))
        hash_name = ocra.suite().pin_hash.name  # HashAlgorithm.SHA1 -> "SHA1"
        pin_hash = PIN_HASHES[hash_name](v["pin"].encode()).digest()
        with_pin = ocra.generate(_ocra_input(v))
        with_hash = ocra.generate(_ocra_input(v, pin=None, pin_hash=pin_hash))
        assert with_pin == with_hash == v["response"]
