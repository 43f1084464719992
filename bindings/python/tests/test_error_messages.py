"""Every variant of every public error reads as a sentence in str(), with or without
fields (issue 15, item 14): not empty, not UniFFI's "reason='…'" listing."""

import inspect

import pytest

import digital_otp as otp

ERRORS = [otp.OtpError, otp.DigitalOtpError, otp.HostError]
if hasattr(otp, "IssuerError"):
    ERRORS.append(otp.IssuerError)


def variants(error):
    return [
        (f"{error.__name__}.{name}", value)
        for name, value in vars(error).items()
        if inspect.isclass(value) and issubclass(value, error)
    ]


VARIANTS = [v for error in ERRORS for v in variants(error)]


def example(cls):
    args = {}
    for name in inspect.signature(cls.__init__).parameters:
        if name == "self":
            continue
        args[name] = 3 if name == "attempts_remaining" else "the input is too short"
    return cls(**args)


def test_every_error_has_variants():
    assert len(VARIANTS) >= 30, [n for n, _ in VARIANTS]


@pytest.mark.parametrize("name,cls", VARIANTS, ids=[n for n, _ in VARIANTS])
def test_message_is_a_sentence(name, cls):
    text = str(example(cls))
    assert text.strip(), f"{name} has an empty message"
    assert "=" not in text, f"{name} reads as a field listing: {text!r}"
    assert len(text.split()) >= 2 or name.endswith("Failed"), f"{name}: {text!r}"


def test_fields_are_in_the_sentence():
    e = otp.DigitalOtpError.WrongPassword(attempts_remaining=1)
    assert str(e) == "wrong password; 1 attempt remains before the OTP is locked"
    assert e.attempts_remaining == 1
    e = otp.OtpError.InvalidSecret(reason="base32 of 40 bits")
    assert str(e) == "invalid secret: base32 of 40 bits"
    assert e.reason == "base32 of 40 bits"
    assert str(otp.DigitalOtpError.Locked()) == "the OTP is locked after 5 wrong passwords; register again"


def test_raised_errors_read_as_sentences():
    with pytest.raises(otp.OtpError.InvalidSecret) as caught:
        otp.OtpSecret.from_hex("313233343536373839")
    assert str(caught.value).startswith("invalid secret: ")
