"""otpauth:// Key URIs: parsing, the issuer rules, and format/parse round trips."""

import pytest

import digital_otp as otp
from otp_support import EXAMPLE_BASE32

GOOGLE_EXAMPLE = f"otpauth://totp/Example:alice@google.com?secret={EXAMPLE_BASE32}&issuer=Example"


def test_parse_the_key_uri_format_example():
    uri = otp.OtpAuthUri.parse(GOOGLE_EXAMPLE)
    assert uri.parameters() == otp.OtpAuthParameters(
        otp_type=otp.OtpType.TOTP,
        issuer="Example",
        account="alice@google.com",
        algorithm=otp.HashAlgorithm.SHA1,
        digits=6,
        period_seconds=30,
        counter=None,
    )
    assert uri.secret().to_base32() == EXAMPLE_BASE32
    assert uri.secret() == otp.OtpSecret.from_base32(EXAMPLE_BASE32)
    expected = otp.Totp(otp.OtpSecret.from_base32(EXAMPLE_BASE32), otp.HashAlgorithm.SHA1, 6, 30, 0)
    assert uri.totp().code_at(1_700_000_000) == expected.code_at(1_700_000_000)


def test_issuer_parameter_wins_over_label_prefix():
    uri = otp.OtpAuthUri.parse(f"otpauth://totp/Label:alice?secret={EXAMPLE_BASE32}&issuer=Other")
    params = uri.parameters()
    assert params.issuer == "Other"
    assert params.account == "alice"


def test_label_prefix_is_the_issuer_without_parameter():
    params = otp.OtpAuthUri.parse(f"otpauth://totp/Label:alice?secret={EXAMPLE_BASE32}").parameters()
    assert (params.issuer, params.account) == ("Label", "alice")


def test_no_issuer_at_all():
    params = otp.OtpAuthUri.parse(f"otpauth://totp/alice?secret={EXAMPLE_BASE32}").parameters()
    assert (params.issuer, params.account) == (None, "alice")


def test_parse_all_parameters_of_an_hotp_uri():
    uri = otp.OtpAuthUri.parse(
        f"otpauth://hotp/ACME%20Co:john.doe%40email.com?secret={EXAMPLE_BASE32}"
        "&issuer=ACME%20Co&algorithm=SHA256&digits=8&counter=42"
    )
    assert uri.parameters() == otp.OtpAuthParameters(
        otp_type=otp.OtpType.HOTP,
        issuer="ACME Co",
        account="john.doe@email.com",
        algorithm=otp.HashAlgorithm.SHA256,
        digits=8,
        period_seconds=None,
        counter=42,
    )
    hotp = uri.hotp()
    assert (hotp.algorithm(), hotp.digits()) == (otp.HashAlgorithm.SHA256, 8)


def test_round_trip_with_a_non_ascii_issuer():
    secret = otp.OtpSecret.generate()
    uri = otp.OtpAuthUri.new_totp("한국은행", "홍길동@example.com", secret, otp.HashAlgorithm.SHA256, 8, 60)
    text = uri.to_uri_string()
    assert text.startswith("otpauth://totp/")
    assert text.isascii()  # percent-encoded UTF-8
    assert "%ED%95%9C%EA%B5%AD%EC%9D%80%ED%96%89" in text  # 한국은행
    parsed = otp.OtpAuthUri.parse(text)
    assert parsed.parameters() == uri.parameters() == otp.OtpAuthParameters(
        otp_type=otp.OtpType.TOTP,
        issuer="한국은행",
        account="홍길동@example.com",
        algorithm=otp.HashAlgorithm.SHA256,
        digits=8,
        period_seconds=60,
        counter=None,
    )
    assert parsed.secret() == secret
    assert parsed.to_uri_string() == text
    assert parsed.totp().code_at(1_234_567_890) == uri.totp().code_at(1_234_567_890)


@pytest.mark.parametrize("issuer", [None, "Bank", "Société Générale"])
def test_hotp_round_trip(issuer):
    secret = otp.OtpSecret.from_base32(EXAMPLE_BASE32)
    uri = otp.OtpAuthUri.new_hotp(issuer, "bob", secret, otp.HashAlgorithm.SHA512, 7, 2**63)
    parsed = otp.OtpAuthUri.parse(uri.to_uri_string())
    assert parsed.parameters() == uri.parameters()
    assert parsed.parameters().counter == 2**63
    assert parsed.parameters().issuer == issuer
    assert parsed.secret() == secret
    assert parsed.hotp().generate(5) == otp.Hotp(secret, otp.HashAlgorithm.SHA512, 7).generate(5)


def test_uri_objects_do_not_print_the_secret():
    uri = otp.OtpAuthUri.parse(GOOGLE_EXAMPLE)
    assert EXAMPLE_BASE32 not in str(uri.parameters())
    assert EXAMPLE_BASE32 not in repr(uri.parameters())
    assert EXAMPLE_BASE32 not in str(uri.secret())
