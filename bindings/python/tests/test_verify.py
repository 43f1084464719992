"""verify() returns the step or counter that matched, or None."""

import pytest

import digital_otp as otp
from otp_support import RFC_KEY_SHA1_HEX, RFC_KEY_SHA512_HEX

TIME = 1111111109  # RFC 6238 vector time
STEP = TIME // 30  # 37037036


@pytest.fixture
def totp(rfc_secret):
    return otp.Totp(rfc_secret, otp.HashAlgorithm.SHA1, 6, 30, 0)


@pytest.fixture
def hotp(rfc_secret):
    return otp.Hotp(rfc_secret, otp.HashAlgorithm.SHA1, 6)


@pytest.mark.parametrize("offset", [-1, 0, 1])
def test_totp_window_of_one_returns_the_matching_step(totp, offset):
    code = totp.code_for_step(STEP + offset)
    assert totp.verify(code, TIME, 1, 1) == STEP + offset


@pytest.mark.parametrize("offset", [-3, -2, 2, 3])
def test_totp_outside_the_window_is_none(totp, offset):
    code = totp.code_for_step(STEP + offset)
    assert totp.verify(code, TIME, 1, 1) is None


def test_totp_window_sides_are_independent(totp):
    earlier, later = totp.code_for_step(STEP - 2), totp.code_for_step(STEP + 2)
    assert totp.verify(earlier, TIME, 2, 0) == STEP - 2
    assert totp.verify(later, TIME, 2, 0) is None
    assert totp.verify(later, TIME, 0, 2) == STEP + 2
    assert totp.verify(earlier, TIME, 0, 2) is None


def test_totp_zero_window_accepts_only_the_current_step(totp):
    assert totp.verify(totp.code_at(TIME).code, TIME, 0, 0) == STEP
    assert totp.verify(totp.code_for_step(STEP - 1), TIME, 0, 0) is None
    assert totp.verify(totp.code_for_step(STEP + 1), TIME, 0, 0) is None


def test_totp_maximum_window_is_accepted(totp):
    code = totp.code_for_step(STEP - 100)
    assert totp.verify(code, TIME, 100, 100) == STEP - 100


def test_totp_step_boundaries_and_t0(rfc_secret):
    totp = otp.Totp(rfc_secret, otp.HashAlgorithm.SHA1, 6, 30, 1000)
    first = totp.code_at(1000)
    assert (first.step, first.valid_from, first.valid_until, first.seconds_remaining) == (0, 1000, 1030, 30)
    last = totp.code_at(1029)
    assert (last.step, last.seconds_remaining) == (0, 1)
    assert totp.code_at(1030).step == 1
    assert totp.verify(first.code, 1029, 0, 0) == 0
    assert totp.algorithm() == otp.HashAlgorithm.SHA1
    assert totp.digits() == 6
    assert totp.period_seconds() == 30


def test_totp_and_hotp_defaults(rfc_secret):
    # Totp: 6 digits, 30-second period, T0 = 0; verify: one step each side.
    totp = otp.Totp(rfc_secret, otp.HashAlgorithm.SHA1)
    assert (totp.digits(), totp.period_seconds()) == (6, 30)
    assert totp.code_at(TIME) == otp.Totp(rfc_secret, otp.HashAlgorithm.SHA1, 6, 30, 0).code_at(TIME)
    assert totp.verify(totp.code_for_step(STEP - 1), TIME) == STEP - 1
    assert totp.verify(totp.code_for_step(STEP + 1), TIME) == STEP + 1
    assert totp.verify(totp.code_for_step(STEP + 2), TIME) is None
    hotp = otp.Hotp(rfc_secret, otp.HashAlgorithm.SHA1)
    assert hotp.digits() == 6
    assert hotp.generate(0) == "755224"


def test_totp_code_now_is_consistent(totp):
    now = totp.code_now()
    assert len(now.code) == 6 and now.code.isdigit()
    assert 0 < now.seconds_remaining <= 30
    assert now.valid_until - now.valid_from == 30
    assert totp.code_for_step(now.step) == now.code


def test_hotp_verify_returns_the_matching_counter(hotp):
    code5 = hotp.generate(5)
    assert hotp.verify(code5, 5, 0, 0) == 5
    assert hotp.verify(code5, 3, 0, 2) == 5
    assert hotp.verify(code5, 3, 0, 1) is None
    assert hotp.verify(code5, 7, 2, 0) == 5
    assert hotp.verify(code5, 7, 1, 0) is None
    assert hotp.verify(code5, 6, 1, 1) == 5
    # RFC 4226 vector 9 found by a look-ahead from counter 0.
    assert hotp.verify("520489", 0, 0, 9) == 9
    assert hotp.verify("520489", 0, 0, 8) is None


def test_hotp_window_does_not_wrap_below_zero(hotp):
    assert hotp.verify("755224", 0, 100, 0) == 0
    assert hotp.verify("287082", 0, 100, 0) is None


def test_hotp_accessors(rfc_secret):
    hotp = otp.Hotp(rfc_secret, otp.HashAlgorithm.SHA256, 8)
    assert hotp.algorithm() == otp.HashAlgorithm.SHA256
    assert hotp.digits() == 8
    assert len(hotp.generate(0)) == 8


def test_ocra_counter_window():
    ocra = otp.Ocra(
        "OCRA-1:HOTP-SHA512-8:C-QN08",
        otp.OtpSecret.from_hex(RFC_KEY_SHA512_HEX),
    )
    # RFC 6287 Appendix C: counter 3, question 33333333 -> 25341727.
    response = "25341727"
    assert ocra.generate(otp.OcraInput(question="33333333", counter=3)) == response
    assert ocra.verify(response, otp.OcraInput(question="33333333", counter=1), 0, 2) == 3
    assert ocra.verify(response, otp.OcraInput(question="33333333", counter=1), 0, 1) is None


def test_ocra_timestamp_window():
    ocra = otp.Ocra("OCRA-1:HOTP-SHA512-8:QN08-T1M", otp.OtpSecret.from_hex(RFC_KEY_SHA512_HEX))
    # RFC 6287 Appendix C: T = 0x132d0b6 minutes (Mar 25 2008, 12:06:30 GMT) -> 95209754.
    t = 0x132D0B6
    assert ocra.time_steps_at(1206446790) == t
    assert ocra.generate(otp.OcraInput(question="00000000", time_steps=t)) == "95209754"
    assert ocra.verify("95209754", otp.OcraInput(question="00000000", time_steps=t + 1), 1, 0) == t
    assert ocra.verify("95209754", otp.OcraInput(question="00000000", time_steps=t + 1), 0, 1) is None
    assert ocra.verify("95209754", otp.OcraInput(question="00000000", time_steps=t - 1), 0, 1) == t


def test_ocra_without_counter_or_timestamp_verifies_to_zero():
    ocra = otp.Ocra("OCRA-1:HOTP-SHA1-6:QN08", otp.OtpSecret.from_hex(RFC_KEY_SHA1_HEX))
    assert ocra.time_steps_at(1206446790) is None
    assert ocra.verify("237653", otp.OcraInput(question="00000000"), 0, 0) == 0
    assert ocra.verify("243178", otp.OcraInput(question="00000000"), 0, 0) is None
