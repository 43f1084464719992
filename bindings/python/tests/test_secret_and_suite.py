"""OtpSecret generation, decoding and redaction; OcraPin redaction; OCRA suite information;
hash names."""

import base64

import pytest

import digital_otp as otp
from otp_support import EXAMPLE_BASE32, RFC_KEY_SHA1_HEX, RFC_KEY_SHA256_HEX


def test_generate_is_160_bits_and_redacted():
    secret = otp.OtpSecret.generate()
    assert secret.byte_length() == 20
    encoded = secret.to_base32()
    assert len(encoded) == 32 and encoded.isupper()
    assert str(secret) == "<redacted secret>"
    for text in (str(secret), repr(secret), f"{secret}"):
        assert encoded not in text
        assert encoded[:8] not in text
    assert otp.OtpSecret.from_base32(encoded) == secret
    assert otp.OtpSecret.generate() != secret


def test_ocra_pin_is_redacted_and_not_part_of_ocra_input():
    pin = otp.OcraPin.plain("98765432")
    hashed = otp.OcraPin.hashed(bytes.fromhex("a1b2c3d4e5f60718293a4b5c6d7e8f9012345678"))
    for p in (pin, hashed):
        assert str(p) == "<redacted PIN>"
        for text in (str(p), repr(p), f"{p}", f"{p!r}"):
            assert "98765432" not in text
            assert "a1b2c3d4" not in text.lower()
    # OcraInput has no PIN field any more, so its string form cannot show one.
    ocra_input = otp.OcraInput(question="12345678", counter=1, time_steps=5)
    for text in (str(ocra_input), repr(ocra_input)):
        assert "pin" not in text.lower()
    assert "12345678" in str(ocra_input)
    for field in ("pin", "pin_hash"):
        assert not hasattr(ocra_input, field)
        with pytest.raises(TypeError):
            otp.OcraInput(question="12345678", **{field: "1234"})
    # The PIN goes beside the input, and the response is that of the RFC (Appendix C).
    ocra = otp.Ocra("OCRA-1:HOTP-SHA256-8:C-QN08-PSHA1", otp.OtpSecret.from_hex(RFC_KEY_SHA256_HEX))
    assert ocra.generate(otp.OcraInput(question="12345678", counter=0), pin=otp.OcraPin.plain("1234")) == "65347737"


def test_generate_with_length():
    assert otp.OtpSecret.generate_with_length(32).byte_length() == 32
    assert otp.OtpSecret.generate_with_length(64).byte_length() == 64


def test_decoders_agree_and_equality():
    from_hex = otp.OtpSecret.from_hex(RFC_KEY_SHA1_HEX)
    from_upper_hex = otp.OtpSecret.from_hex(RFC_KEY_SHA1_HEX.upper())
    from_bytes = otp.OtpSecret.from_bytes(b"12345678901234567890")
    from_base32 = otp.OtpSecret.from_base32("GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ")
    assert from_hex == from_upper_hex == from_bytes == from_base32
    assert from_hex.byte_length() == 20
    assert from_hex != otp.OtpSecret.from_hex(RFC_KEY_SHA256_HEX)


@pytest.mark.parametrize(
    "text", ["jbswy3dpehpk3pxp", "JBSW Y3DP EHPK 3PXP", "JBSW-Y3DP-EHPK-3PXP"]
)
def test_base32_tolerates_case_spaces_and_hyphens(text):
    secret = otp.OtpSecret.from_base32(text)
    assert secret.to_base32() == EXAMPLE_BASE32
    assert secret.byte_length() == 10


@pytest.mark.parametrize("length", [11, 12, 13, 14, 16])
def test_base32_padding_and_unpadded_output(length):
    raw = bytes(range(1, length + 1))
    padded = base64.b32encode(raw).decode()
    assert padded.endswith("=")
    secret = otp.OtpSecret.from_base32(padded)
    assert secret == otp.OtpSecret.from_bytes(raw)
    assert secret.to_base32() == padded.rstrip("=")
    assert otp.OtpSecret.from_base32(padded.rstrip("=")) == secret


@pytest.mark.parametrize(
    "name,expected",
    [("SHA1", "SHA1"), ("sha1", "SHA1"), ("SHA-256", "SHA256"), ("sha256", "SHA256"), ("Sha512", "SHA512")],
)
def test_hash_algorithm_from_name(name, expected):
    assert otp.hash_algorithm_from_name(name) == otp.HashAlgorithm[expected]


SUITES = [
    (
        "OCRA-1:HOTP-SHA1-6:QN08",
        dict(algorithm="SHA1", digits=6, uses_counter=False, question_format="NUMERIC",
             question_length=8, pin_hash=None, session_length=None, time_step_seconds=None),
    ),
    (
        "OCRA-1:HOTP-SHA256-8:C-QN08-PSHA1",
        dict(algorithm="SHA256", digits=8, uses_counter=True, question_format="NUMERIC",
             question_length=8, pin_hash="SHA1", session_length=None, time_step_seconds=None),
    ),
    (
        "OCRA-1:HOTP-SHA512-8:QA10-T1M",
        dict(algorithm="SHA512", digits=8, uses_counter=False, question_format="ALPHANUMERIC",
             question_length=10, pin_hash=None, session_length=None, time_step_seconds=60),
    ),
    (
        "OCRA-1:HOTP-SHA256-10:C-QH64-PSHA512-S512-T48H",
        dict(algorithm="SHA256", digits=10, uses_counter=True, question_format="HEX",
             question_length=64, pin_hash="SHA512", session_length=512, time_step_seconds=48 * 3600),
    ),
    (
        "OCRA-1:HOTP-SHA1-4:QA04-S001-T30S",
        dict(algorithm="SHA1", digits=4, uses_counter=False, question_format="ALPHANUMERIC",
             question_length=4, pin_hash=None, session_length=1, time_step_seconds=30),
    ),
]


@pytest.mark.parametrize("suite,fields", SUITES, ids=[s for s, _ in SUITES])
def test_ocra_suite_info(suite, fields):
    expected = otp.OcraSuiteInfo(
        suite=suite,
        algorithm=otp.HashAlgorithm[fields["algorithm"]],
        digits=fields["digits"],
        uses_counter=fields["uses_counter"],
        question_format=otp.OcraQuestionFormat[fields["question_format"]],
        question_length=fields["question_length"],
        pin_hash=otp.HashAlgorithm[fields["pin_hash"]] if fields["pin_hash"] else None,
        session_length=fields["session_length"],
        time_step_seconds=fields["time_step_seconds"],
    )
    assert otp.parse_ocra_suite(suite) == expected
    ocra = otp.Ocra(suite, otp.OtpSecret.from_hex(RFC_KEY_SHA256_HEX))
    assert ocra.suite() == expected
    has_timestamp = fields["time_step_seconds"] is not None
    steps = ocra.time_steps_at(1_206_446_790)
    assert (steps is not None) == has_timestamp
    if has_timestamp:
        assert steps == 1_206_446_790 // fields["time_step_seconds"]
