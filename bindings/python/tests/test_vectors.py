"""The RFC test vectors (RFC 4226 Appendix D, RFC 6238 Appendix B, RFC 6287
Appendix C) through the Python bindings: one test case per vector."""

import pytest

import digital_otp as otp
from otp_support import PIN_HASHES, load_vectors


@pytest.mark.parametrize("kind,count", [("hotp", 10), ("totp", 18), ("ocra", 70)])
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


def _ocra_input(v):
    # The PIN is not part of OcraInput: it is the separate `pin` argument (_ocra_pin).
    return otp.OcraInput(
        question=v["question"],
        counter=v.get("counter"),
        time_steps=v.get("time_steps"),
    )


def _ocra_pin(v):
    return otp.OcraPin.plain(v["pin"]) if "pin" in v else None


def test_ocra_vector(ocra_vector):
    v = ocra_vector
    ocra = otp.Ocra(v["suite"], otp.OtpSecret.from_hex(v["key_hex"]))
    pin = _ocra_pin(v)
    assert ocra.generate(_ocra_input(v), pin=pin) == v["response"]
    # verify reports the timestamp (suites with T), else the counter (C), else 0.
    expected = v.get("time_steps", v.get("counter", 0))
    assert ocra.verify(v["response"], _ocra_input(v), 0, 0, pin=pin) == expected
    # Positional too, as the last argument.
    assert ocra.verify(v["response"], _ocra_input(v), 0, 0, pin) == expected
    if pin is None:
        # Without a PIN the argument can be left out.
        assert ocra.generate(_ocra_input(v)) == v["response"]


def test_ocra_pin_and_pin_hash_give_the_same_response():
    pin_vectors = [v for v in load_vectors("ocra") if "pin" in v]
    assert len(pin_vectors) == 20
    for v in pin_vectors:
        ocra = otp.Ocra(v["suite"], otp.OtpSecret.from_hex(v["key_hex"]))
        hash_name = ocra.suite().pin_hash.name  # HashAlgorithm.SHA1 -> "SHA1"
        pin_hash = PIN_HASHES[hash_name](v["pin"].encode()).digest()
        with_pin = ocra.generate(_ocra_input(v), pin=otp.OcraPin.plain(v["pin"]))
        hashed = otp.OcraPin.hashed(pin_hash)
        with_hash = ocra.generate(_ocra_input(v), pin=hashed)
        assert with_pin == with_hash == v["response"]
        expected = v.get("time_steps", v.get("counter", 0))
        assert ocra.verify(v["response"], _ocra_input(v), 0, 0, pin=hashed) == expected


def test_ocra_missing_pin_is_refused_for_every_pin_vector():
    pin_vectors = [v for v in load_vectors("ocra") if "pin" in v]
    assert len(pin_vectors) == 20
    for v in pin_vectors:
        ocra = otp.Ocra(v["suite"], otp.OtpSecret.from_hex(v["key_hex"]))
        for call in (lambda: ocra.generate(_ocra_input(v)),
                     lambda: ocra.generate(_ocra_input(v), pin=None),
                     lambda: ocra.verify(v["response"], _ocra_input(v), 0, 0)):
            with pytest.raises(otp.OtpError.InvalidOcraInput) as info:
                call()
            assert "PIN" in info.value.reason
        # Another PIN gives another response.
        other = otp.OcraPin.plain(v["pin"] + "0")
        assert ocra.generate(_ocra_input(v), pin=other) != v["response"]
