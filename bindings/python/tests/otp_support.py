"""Helpers shared by the test modules (importable because pytest puts this
directory on sys.path: the tests directory is not a package)."""

import hashlib
import json
import pathlib

REPO_ROOT = pathlib.Path(__file__).resolve().parents[3]
VECTOR_DIR = REPO_ROOT / "tests" / "vectors"

# RFC 4226 / RFC 6238 / RFC 6287 test keys: "1234567890" repeated to the hash size.
RFC_KEY_SHA1_HEX = "3132333435363738393031323334353637383930"
RFC_KEY_SHA256_HEX = RFC_KEY_SHA1_HEX + "313233343536373839303132"
RFC_KEY_SHA512_HEX = RFC_KEY_SHA1_HEX * 3 + "31323334"

# Google Authenticator's example secret ("Hello!\xde\xad\xbe\xef").
EXAMPLE_BASE32 = "JBSWY3DPEHPK3PXP"

PIN_HASHES = {"SHA1": hashlib.sha1, "SHA256": hashlib.sha256, "SHA512": hashlib.sha512}


def load_vectors(kind):
    """The vector list of tests/vectors/<kind>.json."""
    with open(VECTOR_DIR / f"{kind}.json", encoding="utf-8") as f:
        return json.load(f)["vectors"]
