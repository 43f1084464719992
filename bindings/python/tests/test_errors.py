"""Bad input is refused with a typed OtpError subclass whose reason names the
fault and never contains the secret, the PIN or the code."""

import pytest

import digital_otp as otp
from otp_support import EXAMPLE_BASE32, RFC_KEY_SHA1_HEX, RFC_KEY_SHA256_HEX

E = otp.OtpError
SHA1 = otp.HashAlgorithm.SHA1


def rfc_secret():
    return otp.OtpSecret.from_hex(RFC_KEY_SHA1_HEX)


def rfc_totp(t0=0):
    return otp.Totp(rfc_secret(), SHA1, 6, 30, t0)


def rfc_hotp():
    return otp.Hotp(rfc_secret(), SHA1, 6)


def ocra(suite, key_hex=RFC_KEY_SHA256_HEX):
    return otp.Ocra(suite, otp.OtpSecret.from_hex(key_hex))


def uri(text):
    return lambda: otp.OtpAuthUri.parse(text)


# (test id, call, expected error class, fragment of the reason)
CASES = [
    # Secrets: length under 80 bits, malformed base32 / hex.
    ("secret-hex-72-bits", lambda: otp.OtpSecret.from_hex("313233343536373839"), E.InvalidSecret, "80 bits"),
    ("secret-base32-40-bits", lambda: otp.OtpSecret.from_base32("JBSWY3DP"), E.InvalidSecret, "80 bits"),
    ("secret-bytes-9", lambda: otp.OtpSecret.from_bytes(b"\x01" * 9), E.InvalidSecret, "80 bits"),
    ("secret-empty-bytes", lambda: otp.OtpSecret.from_bytes(b""), E.InvalidSecret, "empty"),
    ("secret-generate-19-bytes", lambda: otp.OtpSecret.generate_with_length(19), E.InvalidSecret, "20 bytes"),
    ("secret-bad-base32-digit-1", lambda: otp.OtpSecret.from_base32("JBSWY3DPEHPK3PX1"), E.InvalidSecret, "base32"),
    ("secret-bad-base32-symbol", lambda: otp.OtpSecret.from_base32("JBSWY3DP!HPK3PXP"), E.InvalidSecret, "base32"),
    ("secret-bad-hex-letters", lambda: otp.OtpSecret.from_hex("zz" * 12), E.InvalidSecret, "hexadecimal"),
    ("secret-bad-hex-odd-length", lambda: otp.OtpSecret.from_hex(RFC_KEY_SHA1_HEX + "0"), E.InvalidSecret, "hexadecimal"),
    # Parameters.
    ("totp-digits-5", lambda: otp.Totp(rfc_secret(), SHA1, 5, 30, 0), E.InvalidParameter, "digits"),
    ("totp-digits-11", lambda: otp.Totp(rfc_secret(), SHA1, 11, 30, 0), E.InvalidParameter, "digits"),
    ("hotp-digits-5", lambda: otp.Hotp(rfc_secret(), SHA1, 5), E.InvalidParameter, "digits"),
    ("hotp-digits-11", lambda: otp.Hotp(rfc_secret(), SHA1, 11), E.InvalidParameter, "digits"),
    ("totp-period-0", lambda: otp.Totp(rfc_secret(), SHA1, 6, 0, 0), E.InvalidParameter, "period"),
    ("totp-period-3601", lambda: otp.Totp(rfc_secret(), SHA1, 6, 3601, 0), E.InvalidParameter, "period"),
    ("totp-window-behind-101", lambda: rfc_totp().verify("123456", 1000, 101, 0), E.InvalidParameter, "window"),
    ("totp-window-ahead-101", lambda: rfc_totp().verify("123456", 1000, 0, 101), E.InvalidParameter, "window"),
    ("hotp-window-ahead-101", lambda: rfc_hotp().verify("123456", 0, 0, 101), E.InvalidParameter, "window"),
    ("ocra-window-101", lambda: ocra("OCRA-1:HOTP-SHA1-6:QN08", RFC_KEY_SHA1_HEX).verify(
        "237653", otp.OcraInput(question="00000000"), 101, 0), E.InvalidParameter, "window"),
    ("totp-code-at-before-t0", lambda: rfc_totp(t0=100).code_at(99), E.InvalidParameter, "T0"),
    ("totp-time-step-before-t0", lambda: rfc_totp(t0=100).time_step(99), E.InvalidParameter, "T0"),
    ("totp-verify-before-t0", lambda: rfc_totp(t0=100).verify("123456", 99, 1, 1), E.InvalidParameter, "T0"),
    ("hash-name-md5", lambda: otp.hash_algorithm_from_name("MD5"), E.InvalidParameter, "algorithm"),
    # Malformed codes.
    ("totp-code-too-short", lambda: rfc_totp().verify("12345", 1000, 1, 1), E.MalformedCode, "6 decimal digits"),
    ("totp-code-too-long", lambda: rfc_totp().verify("1234567", 1000, 1, 1), E.MalformedCode, "6 decimal digits"),
    ("totp-code-letter", lambda: rfc_totp().verify("12a456", 1000, 1, 1), E.MalformedCode, "6 decimal digits"),
    ("totp-code-empty", lambda: rfc_totp().verify("", 1000, 1, 1), E.MalformedCode, "6 decimal digits"),
    ("totp-code-fullwidth-digits", lambda: rfc_totp().verify("１２３４５６", 1000, 1, 1), E.MalformedCode, "6 decimal digits"),
    ("totp-code-arabic-indic-digits", lambda: rfc_totp().verify("٠١٢٣٤٥", 1000, 1, 1), E.MalformedCode, "6 decimal digits"),
    ("totp-code-sign", lambda: rfc_totp().verify("+12345", 1000, 1, 1), E.MalformedCode, "6 decimal digits"),
    ("hotp-code-spaces", lambda: rfc_hotp().verify("755 224", 0, 0, 0), E.MalformedCode, "6 decimal digits"),
    ("ocra-response-short", lambda: ocra("OCRA-1:HOTP-SHA1-6:QN08", RFC_KEY_SHA1_HEX).verify(
        "23765", otp.OcraInput(question="00000000"), 0, 0), E.MalformedCode, "digits"),
    # OCRA suites: each part invalid in turn.
    ("suite-version", lambda: otp.parse_ocra_suite("OCRA-2:HOTP-SHA1-6:QN08"), E.InvalidOcraSuite, "OCRA-2"),
    ("suite-hash", lambda: otp.parse_ocra_suite("OCRA-1:HOTP-MD5-6:QN08"), E.InvalidOcraSuite, "HOTP-MD5-6"),
    ("suite-not-hotp", lambda: otp.parse_ocra_suite("OCRA-1:TOTP-SHA1-6:QN08"), E.InvalidOcraSuite, "TOTP-SHA1-6"),
    ("suite-digits-3", lambda: otp.parse_ocra_suite("OCRA-1:HOTP-SHA1-3:QN08"), E.InvalidOcraSuite, "digits"),
    ("suite-digits-11", lambda: otp.parse_ocra_suite("OCRA-1:HOTP-SHA1-11:QN08"), E.InvalidOcraSuite, "digits"),
    ("suite-question-format", lambda: otp.parse_ocra_suite("OCRA-1:HOTP-SHA1-6:QX08"), E.InvalidOcraSuite, "QX08"),
    ("suite-question-length", lambda: otp.parse_ocra_suite("OCRA-1:HOTP-SHA1-6:QN65"), E.InvalidOcraSuite, "QN65"),
    ("suite-pin-hash", lambda: otp.parse_ocra_suite("OCRA-1:HOTP-SHA1-6:QN08-PMD5"), E.InvalidOcraSuite, "PMD5"),
    ("suite-session", lambda: otp.parse_ocra_suite("OCRA-1:HOTP-SHA1-6:QN08-S999"), E.InvalidOcraSuite, "S999"),
    ("suite-timestamp", lambda: otp.parse_ocra_suite("OCRA-1:HOTP-SHA1-6:QN08-T9Z"), E.InvalidOcraSuite, "T9Z"),
    ("suite-unknown-part", lambda: otp.parse_ocra_suite("OCRA-1:HOTP-SHA1-6:QN08-Z"), E.InvalidOcraSuite, "'Z'"),
    ("suite-two-parts", lambda: otp.parse_ocra_suite("OCRA-1:HOTP-SHA1-6"), E.InvalidOcraSuite, "three parts"),
    ("suite-empty", lambda: otp.parse_ocra_suite(""), E.InvalidOcraSuite, "three parts"),
    ("ocra-new-bad-suite", lambda: ocra("OCRA-1:HOTP-SHA1-6:QX08"), E.InvalidOcraSuite, "QX08"),
    # OCRA inputs that do not match the suite.
    ("ocra-missing-counter", lambda: ocra("OCRA-1:HOTP-SHA256-8:C-QN08-PSHA1").generate(
        otp.OcraInput(question="12345678"), pin=otp.OcraPin.plain("1234")), E.InvalidOcraInput, "counter"),
    ("ocra-missing-pin", lambda: ocra("OCRA-1:HOTP-SHA256-8:C-QN08-PSHA1").generate(
        otp.OcraInput(question="12345678", counter=1)), E.InvalidOcraInput, "PIN"),
    ("ocra-missing-pin-none", lambda: ocra("OCRA-1:HOTP-SHA256-8:C-QN08-PSHA1").generate(
        otp.OcraInput(question="12345678", counter=1), pin=None), E.InvalidOcraInput, "PIN"),
    ("ocra-missing-pin-verify", lambda: ocra("OCRA-1:HOTP-SHA256-8:C-QN08-PSHA1").verify(
        "12345678", otp.OcraInput(question="12345678", counter=1), 0, 0), E.InvalidOcraInput, "PIN"),
    ("ocra-pin-not-allowed", lambda: ocra("OCRA-1:HOTP-SHA1-6:QN08", RFC_KEY_SHA1_HEX).generate(
        otp.OcraInput(question="00000000"), pin=otp.OcraPin.plain("1234")), E.InvalidOcraInput, "PIN"),
    ("ocra-pin-hash-not-allowed", lambda: ocra("OCRA-1:HOTP-SHA1-6:QN08", RFC_KEY_SHA1_HEX).generate(
        otp.OcraInput(question="00000000"), pin=otp.OcraPin.hashed(b"\0" * 20)), E.InvalidOcraInput, "PIN"),
    ("ocra-pin-hash-length", lambda: ocra("OCRA-1:HOTP-SHA256-8:C-QN08-PSHA1").generate(
        otp.OcraInput(question="12345678", counter=1), pin=otp.OcraPin.hashed(b"\0" * 19)),
     E.InvalidOcraInput, "20 bytes"),
    ("ocra-pin-hash-length-sha256", lambda: ocra("OCRA-1:HOTP-SHA256-8:C-QN08-PSHA256").generate(
        otp.OcraInput(question="12345678", counter=1), pin=otp.OcraPin.hashed(b"\0" * 20)),
     E.InvalidOcraInput, "32 bytes"),
    ("ocra-pin-hash-length-verify", lambda: ocra("OCRA-1:HOTP-SHA256-8:C-QN08-PSHA1").verify(
        "12345678", otp.OcraInput(question="12345678", counter=1), 0, 0, pin=otp.OcraPin.hashed(b"\0" * 21)),
     E.InvalidOcraInput, "20 bytes"),
    ("ocra-missing-timestamp", lambda: ocra("OCRA-1:HOTP-SHA512-8:QN08-T1M").generate(
        otp.OcraInput(question="00000000")), E.InvalidOcraInput, "timestamp"),
    ("ocra-extra-timestamp", lambda: ocra("OCRA-1:HOTP-SHA256-8:QN08-PSHA1").generate(
        otp.OcraInput(question="00000000", time_steps=5), pin=otp.OcraPin.plain("1234")),
     E.InvalidOcraInput, "timestamp"),
    ("ocra-missing-session", lambda: ocra("OCRA-1:HOTP-SHA1-6:QN08-S064").generate(
        otp.OcraInput(question="00000000")), E.InvalidOcraInput, "session"),
    ("ocra-session-length", lambda: ocra("OCRA-1:HOTP-SHA1-6:QN08-S064").generate(
        otp.OcraInput(question="00000000", session=b"\0" * 63)), E.InvalidOcraInput, "64 bytes"),
    ("ocra-question-not-numeric", lambda: ocra("OCRA-1:HOTP-SHA1-6:QN08").generate(
        otp.OcraInput(question="1234567a")), E.InvalidOcraInput, "decimal digits"),
    # Malformed otpauth URIs.
    ("uri-wrong-scheme", uri(f"https://totp/Example:alice?secret={EXAMPLE_BASE32}"), E.InvalidUri, "otpauth://"),
    ("uri-wrong-type", uri(f"otpauth://xotp/Example:alice?secret={EXAMPLE_BASE32}"), E.InvalidUri, "totp or hotp"),
    ("uri-no-secret", uri("otpauth://totp/Example:alice?issuer=Example"), E.InvalidUri, "secret"),
    ("uri-hotp-without-counter", uri(f"otpauth://hotp/Example:alice?secret={EXAMPLE_BASE32}"), E.InvalidUri, "counter"),
    ("uri-bad-percent-label", uri(f"otpauth://totp/Ex%ZZample:alice?secret={EXAMPLE_BASE32}"), E.InvalidUri, "percent-encoding"),
    ("uri-bad-percent-query", uri(f"otpauth://totp/Example:alice?secret={EXAMPLE_BASE32}&issuer=%E2%82"), E.InvalidUri, "percent-encoding"),
    ("uri-digits-5", uri(f"otpauth://totp/Example:alice?secret={EXAMPLE_BASE32}&digits=5"), E.InvalidUri, "digits"),
    ("uri-period-0", uri(f"otpauth://totp/Example:alice?secret={EXAMPLE_BASE32}&period=0"), E.InvalidUri, "period"),
    ("uri-algorithm-md5", uri(f"otpauth://totp/Example:alice?secret={EXAMPLE_BASE32}&algorithm=MD5"), E.InvalidUri, "algorithm"),
    ("uri-short-secret", uri("otpauth://totp/Example:alice?secret=JBSWY3DP"), E.InvalidUri, "80 bits"),
    ("uri-bad-base32-secret", uri("otpauth://totp/Example:alice?secret=JBSWY3DPEHPK3PX1"), E.InvalidUri, "base32"),
    # Building a URI from fields: a bad field is a bad parameter, not a malformed URI.
    ("uri-new-totp-issuer-colon", lambda: otp.OtpAuthUri.new_totp(
        "Ex:ample", "alice", rfc_secret(), SHA1, 6, 30), E.InvalidParameter, "issuer"),
    ("uri-new-totp-empty-account", lambda: otp.OtpAuthUri.new_totp(
        None, "", rfc_secret(), SHA1, 6, 30), E.InvalidParameter, "account"),
    ("uri-new-totp-digits-5", lambda: otp.OtpAuthUri.new_totp(
        None, "alice", rfc_secret(), SHA1, 5, 30), E.InvalidParameter, "digits"),
    ("uri-new-totp-period-0", lambda: otp.OtpAuthUri.new_totp(
        None, "alice", rfc_secret(), SHA1, 6, 0), E.InvalidParameter, "period"),
    ("uri-new-hotp-digits-11", lambda: otp.OtpAuthUri.new_hotp(
        None, "alice", rfc_secret(), SHA1, 11, 0), E.InvalidParameter, "digits"),
    ("uri-totp-as-hotp", lambda: otp.OtpAuthUri.parse(
        f"otpauth://totp/Example:alice?secret={EXAMPLE_BASE32}").hotp(), E.InvalidParameter, "totp"),
    ("uri-hotp-as-totp", lambda: otp.OtpAuthUri.parse(
        f"otpauth://hotp/Example:alice?secret={EXAMPLE_BASE32}&counter=1").totp(), E.InvalidParameter, "hotp"),
]


@pytest.mark.parametrize("call,expected,fragment", [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_bad_input_raises_a_typed_error(call, expected, fragment):
    with pytest.raises(expected) as info:
        call()
    error = info.value
    assert type(error) is expected
    assert isinstance(error, otp.OtpError)
    assert isinstance(error, Exception)
    assert fragment in error.reason
    assert error.reason in str(error)


def test_error_classes_are_distinct_subclasses_of_otp_error():
    classes = [E.InvalidSecret, E.InvalidParameter, E.MalformedCode, E.InvalidOcraSuite,
               E.InvalidOcraInput, E.InvalidUri, E.RandomSourceFailed]
    assert len(set(classes)) == 7
    for cls in classes:
        assert issubclass(cls, otp.OtpError)
    with pytest.raises(otp.OtpError):
        otp.OtpSecret.from_hex("00")


# Secrets (and a PIN and a code) that must never show up in an error.
LEAK_CASES = [
    ("base32-invalid", "JBSWY3DPEHPK3PX1", lambda s: otp.OtpSecret.from_base32(s)),
    ("base32-short", "KRSXG5CTMVRXEZLU", lambda s: otp.OtpSecret.from_base32(s[:8])),
    ("hex-invalid", "3132333435363738393031323334353637383930zz", lambda s: otp.OtpSecret.from_hex(s)),
    ("hex-short", "deadbeefcafebabe01", lambda s: otp.OtpSecret.from_hex(s)),
    ("uri-digits", "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ",
     lambda s: otp.OtpAuthUri.parse(f"otpauth://totp/Bank:alice?secret={s}&digits=5")),
    ("uri-period", "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ",
     lambda s: otp.OtpAuthUri.parse(f"otpauth://totp/Bank:alice?secret={s}&period=99999")),
    ("uri-invalid-secret", "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJ1",
     lambda s: otp.OtpAuthUri.parse(f"otpauth://totp/Bank:alice?secret={s}")),
    ("uri-short-secret", "GEZDGNBV",
     lambda s: otp.OtpAuthUri.parse(f"otpauth://totp/Bank:alice?secret={s}")),
    ("uri-hotp-no-counter", "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ",
     lambda s: otp.OtpAuthUri.parse(f"otpauth://hotp/Bank:alice?secret={s}")),
    ("totp-digits", "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ",
     lambda s: otp.Totp(otp.OtpSecret.from_base32(s), SHA1, 5, 30, 0)),
    ("ocra-pin-not-needed", "98765432",
     lambda pin: ocra("OCRA-1:HOTP-SHA1-6:QN08", RFC_KEY_SHA1_HEX).generate(
         otp.OcraInput(question="00000000"), pin=otp.OcraPin.plain(pin))),
    ("ocra-pin-with-bad-counter", "98765432",
     lambda pin: ocra("OCRA-1:HOTP-SHA256-8:QN08-PSHA1").generate(
         otp.OcraInput(question="00000000", counter=1), pin=otp.OcraPin.plain(pin))),
    ("ocra-pin-hash-length", "9876543298765432",
     lambda hex_hash: ocra("OCRA-1:HOTP-SHA256-8:QN08-PSHA1").generate(
         otp.OcraInput(question="00000000"), pin=otp.OcraPin.hashed(bytes.fromhex(hex_hash)))),
    ("malformed-code", "9876543",
     lambda code: rfc_totp().verify(code, 1000, 1, 1)),
]


@pytest.mark.parametrize("secret,call", [c[1:] for c in LEAK_CASES], ids=[c[0] for c in LEAK_CASES])
def test_error_messages_never_contain_the_secret(secret, call):
    with pytest.raises(otp.OtpError) as info:
        call(secret)
    error = info.value
    texts = [str(error), repr(error), getattr(error, "reason", "") or ""]
    for text in texts:
        assert secret not in text
        assert secret.lower() not in text.lower()
        # Nor a long piece of it (a truncated echo would still leak).
        assert secret[:8].lower() not in text.lower()
