"""Digital OTP SDK: HOTP (RFC 4226), TOTP (RFC 6238), OCRA (RFC 6287) and otpauth:// URIs.

The API lives in the UniFFI-generated module ``digital_otp.digital_otp`` (a build
output copied here by ``scripts/test-python.sh``), which loads the native library
``libdigital_otp.so`` / ``libdigital_otp.dylib`` from this directory. Everything it
exports is re-exported here, so ``import digital_otp`` is all a caller needs.
"""

from .digital_otp import *  # noqa: F401,F403  (generated; defines __all__)
from .digital_otp import __all__  # noqa: F401
