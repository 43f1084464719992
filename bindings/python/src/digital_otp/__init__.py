"""Digital OTP SDK: HOTP (RFC 4226), TOTP (RFC 6238), OCRA (RFC 6287) and otpauth:// URIs.

The API lives in the UniFFI-generated module ``digital_otp.digital_otp`` (a build
output copied here by ``scripts/test-python.sh``), which loads the native library
``libdigital_otp.so`` / ``libdigital_otp.dylib`` from this directory. Everything it
exports is re-exported here, so ``import digital_otp`` is all a caller needs.
"""

from .digital_otp import *  # noqa: F401,F403  (generated; defines __all__)
from .digital_otp import __all__  # noqa: F401

# Redacted text forms (issue 15, item 13). The generated records are dataclasses whose
# default str() and repr() list every field: the code, and the transaction summary's
# payee and account. These print only the non-secret facts, as the Rust `Debug` does.


def _redacted(type_name, shown):
    def text(self):
        facts = ", ".join(f"{name}={getattr(self, name)!r}" for name in shown)
        return f"{type_name}({facts}, ..)"

    return text


for _type, _shown in (
    (LoginCode, ("serial_number", "valid_until", "seconds_remaining")),  # noqa: F405
    (TransactionCode, ("serial_number", "valid_until", "seconds_remaining")),  # noqa: F405
    (Transaction, ("amount_minor", "currency")),  # noqa: F405
):
    _type.__str__ = _type.__repr__ = _redacted(_type.__name__, _shown)
del _type, _shown

# Error messages as sentences (issue 15, item 14). UniFFI gives a variant without fields
# an empty str() and one with fields "reason='…'"; these are the Rust `Display` sentences
# of src/ffi/errors.rs and src/host.rs (keep them in step: the Rust text is the source).
_SENTENCES = {
    ('OtpError', 'InvalidSecret'): 'invalid secret: {reason}',
    ('OtpError', 'InvalidParameter'): 'invalid parameter: {reason}',
    ('OtpError', 'MalformedCode'): 'malformed code: {reason}',
    ('OtpError', 'InvalidOcraSuite'): 'invalid OCRA suite: {reason}',
    ('OtpError', 'InvalidOcraInput'): 'invalid OCRA input: {reason}',
    ('OtpError', 'InvalidUri'): 'invalid otpauth URI: {reason}',
    ('OtpError', 'RandomSourceFailed'): "the operating system's random source failed",
    ('DigitalOtpError', 'InvalidRegistrationCode'): 'invalid registration code: {reason}',
    ('DigitalOtpError', 'InvalidDevice'): 'invalid device information: {reason}',
    ('DigitalOtpError', 'WeakPassword'): 'the password does not meet the policy: {reason}',
    ('DigitalOtpError', 'MalformedPassword'): 'the app password is exactly 6 digits; nothing was sent and no attempt was used',
    ('DigitalOtpError', 'WrongPassword'): 'wrong password; {attempts} before the OTP is locked',
    ('DigitalOtpError', 'Locked'): 'the OTP is locked after 5 wrong passwords; register again',
    ('DigitalOtpError', 'DeviceMismatch'): 'this OTP was registered on another phone number or device; register again on this one',
    ('DigitalOtpError', 'NotRegistered'): 'no OTP is registered for this institution',
    ('DigitalOtpError', 'NoRegistrationInProgress'): 'no registration is in progress; begin one first',
    ('DigitalOtpError', 'RegistrationRejected'): 'the bank refused the registration: {reason}',
    ('DigitalOtpError', 'RegistrationIncomplete'): "the registration is not finished; complete it with the bank's outcome",
    ('DigitalOtpError', 'NoCodeInProgress'): 'no code is being made; begin one first',
    ('DigitalOtpError', 'ClockOutOfSync'): "the phone's clock differed from the bank's; try again",
    ('DigitalOtpError', 'ChangePasswordAgain'): 'the bank confirmed the old password; begin the change of password again',
    ('DigitalOtpError', 'NotUsable'): 'the bank says this OTP cannot be used; contact the bank',
    ('DigitalOtpError', 'InvalidResponse'): 'invalid response from the bank: {reason}',
    ('DigitalOtpError', 'Expired'): 'the OTP has expired; register again',
    ('DigitalOtpError', 'InvalidTransaction'): 'invalid transaction: {reason}',
    ('DigitalOtpError', 'KeyStoreFailed'): 'the device key store failed: {reason}',
    ('DigitalOtpError', 'StorageFailed'): 'the secure store failed: {reason}',
    ('DigitalOtpError', 'CorruptedData'): 'stored data is unreadable: {reason}',
    ('DigitalOtpError', 'Internal'): 'internal error: {reason}',
    ('IssuerError', 'NotEligible'): 'not eligible for mobile OTP: {reason}',
    ('IssuerError', 'UnknownInstitution'): 'unknown institution',
    ('IssuerError', 'UnknownCustomer'): 'unknown customer',
    ('IssuerError', 'CustomerExists'): 'the customer already exists',
    ('IssuerError', 'UnknownDevice'): 'no OTP device with this vendor code and serial number',
    ('IssuerError', 'DeviceExists'): 'an OTP device with this vendor code and serial number already exists',
    ('IssuerError', 'NoDevice'): 'the customer has no OTP device at this institution',
    ('IssuerError', 'AlreadyHasDevice'): 'the customer already has an OTP device at this institution; cancel it first',
    ('IssuerError', 'NotRegisteredHere'): 'this OTP device is not registered at this institution',
    ('IssuerError', 'NotPermitted'): 'not permitted: {reason}',
    ('IssuerError', 'InvalidState'): "not possible in the device's current state: {reason}",
    ('IssuerError', 'WrongVerificationCode'): 'the verification code is wrong; {attempts}',
    ('IssuerError', 'NoVerificationPending'): 'no valid verification code is pending; send a new one',
    ('IssuerError', 'PossessionNotProven'): 'the code does not prove possession of the device',
    ('IssuerError', 'InvalidInput'): 'invalid input: {reason}',
    ('IssuerError', 'SmsFailed'): 'the SMS gateway failed: {reason}',
    ('IssuerError', 'MasterKey'): 'master key problem: {reason}',
    ('IssuerError', 'StorageFailed'): 'the issuer database failed: {reason}',
    ('IssuerError', 'Internal'): 'internal error: {reason}',
    ('HostError', 'Failed'): '{reason}',
    ('HostError', 'Unexpected'): 'unexpected error in a callback: {reason}',
}


def _attempts(n):
    return "1 attempt remains" if n == 1 else f"{n} attempts remain"


def _sentence(template):
    def __str__(self):
        return template.format(
            reason=getattr(self, "reason", ""),
            attempts=_attempts(getattr(self, "attempts_remaining", 0)),
        )

    return __str__


for (_error, _variant), _template in _SENTENCES.items():
    _class = getattr(globals().get(_error), _variant, None)  # IssuerError: feature `issuer`
    if _class is not None:
        _class.__str__ = _sentence(_template)
del _error, _variant, _template, _class
