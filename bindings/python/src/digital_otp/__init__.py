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
# an empty str() and one with fields "reason='…'". The Rust errors export their `Display`
# (#[uniffi::export(Display)] in src/ffi/errors.rs and src/host.rs), which the generated
# module declares but does not call for exceptions: str() calls it, so the sentence has
# one source, the Rust text, with its fields ("wrong password; 4 attempts remain …").
from . import digital_otp as _generated  # noqa: E402


def _rust_display(name):
    converter = getattr(_generated, f"_UniffiFfiConverterType{name}")
    function = getattr(_generated._UniffiLib, f"uniffi_digital_otp_fn_method_{name.lower()}_uniffi_trait_display")

    def __str__(self):
        try:
            converter.check_lower(self)
            lowered = converter.lower(self)
        except Exception:  # fields of the wrong type, set by the caller: UniFFI's own text
            return Exception.__str__(self)
        return _generated._UniffiFfiConverterString.lift(_generated._uniffi_rust_call(function, lowered))

    return __str__


for _name in ("OtpError", "DigitalOtpError", "HostError", "IssuerError"):
    if _name in globals():  # IssuerError: feature `issuer`
        globals()[_name].__str__ = _rust_display(_name)
del _name
