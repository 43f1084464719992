"""Helpers for test_app_lifecycle.py: a SecureStore and a Clock written in Python, and
``Bank``, the only place the tests touch the bank counterpart ``digital_otp.Issuer``.

Importable because pytest puts this directory on sys.path (the tests directory is
not a package). Mirrors the Kotlin TestStores.kt / TestClock.kt.
"""

import threading

import digital_otp as otp


class TestStore(otp.SecureStore):
    """A SecureStore written in Python, the way an app implements it over its keystore:
    a dict in memory, with switches that make ``write`` fail the ways a real keystore can.

    - ``fail_writes``: ``write`` raises ``HostError.Failed`` (the documented way to fail);
    - ``raise_unexpected``: ``write`` raises a plain ``RuntimeError``, which UniFFI hands
      to Rust as an unexpected callback error (``HostError::Unexpected``);
    - ``drop_writes``: ``write`` returns normally but keeps nothing (a store that loses writes).

    UniFFI >= 0.30: a Python implementation of a trait interface must inherit from the
    generated base class (``otp.SecureStore``), or lowering it raises TypeError.
    """

    __test__ = False  # not a pytest test class, despite its name

    def __init__(self):
        self._lock = threading.Lock()
        self._map = {}
        self.fail_writes = False
        self.raise_unexpected = False
        self.drop_writes = False
        self._write_calls = 0

    # --- the SecureStore interface (called from Rust, possibly on several threads) ---

    def read(self, key):
        with self._lock:
            return self._map.get(key)

    def write(self, key, value):
        with self._lock:
            self._write_calls += 1
        if self.fail_writes:
            raise otp.HostError.Failed("keystore unavailable")
        if self.raise_unexpected:
            raise RuntimeError("keystore crashed")
        if self.drop_writes:
            return
        with self._lock:
            self._map[key] = bytes(value)

    def delete(self, key):
        with self._lock:
            self._map.pop(key, None)

    # --- for the tests ---

    @property
    def write_calls(self):
        """Every call to ``write``, whatever its outcome."""
        with self._lock:
            return self._write_calls

    def snapshot(self):
        """The whole content, key to hex of the value: compare two with ``==``."""
        with self._lock:
            return {k: v.hex() for k, v in sorted(self._map.items())}

    def keys(self, prefix=""):
        """The keys starting with ``prefix``, sorted."""
        with self._lock:
            return sorted(k for k in self._map if k.startswith(prefix))

    def values(self):
        with self._lock:
            return list(self._map.values())

    def is_empty(self):
        with self._lock:
            return not self._map


class TestClock(otp.Clock):
    """A Clock written in Python that stays where it is set; tests move it with ``advance``."""

    __test__ = False

    def __init__(self, start):
        self._lock = threading.Lock()
        self._now = start

    def now_unix_seconds(self):
        with self._lock:
            return self._now

    @property
    def seconds(self):
        with self._lock:
            return self._now

    def advance(self, seconds):
        with self._lock:
            self._now += seconds


class Bank:
    """One institution's bank counterpart, on the tests' clock.

    Every creation and use of ``otp.Issuer`` in the app tests goes through this class,
    so a change of the issuer's API is an edit here only. The verification helpers take
    the institution's customer as well as the serial number: today's ``Issuer`` verifies
    by serial, an issuer that verifies by institution and customer needs only these
    bodies changed.
    """

    def __init__(self, institution_id, institution_name, clock):
        self.institution_id = institution_id
        self.institution_name = institution_name
        self._issuer = otp.Issuer.with_clock(institution_id, institution_name, clock)

    def issue_code(self, customer):
        """A registration code for ``customer``, displayed as ``1234-5678-9012``."""
        return self._issuer.issue_registration_code(customer)

    def answer(self, request):
        """The bank's answer (bytes) to an app's registration request."""
        return self._issuer.handle_registration(request)

    def verify_login(self, serial, code, customer="customer-1"):
        return self._issuer.verify_login(serial, code)

    def verify_transaction(self, serial, code, transaction, customer="customer-1"):
        return self._issuer.verify_transaction(serial, code, transaction)

    def state(self, serial):
        """A credential's state at the bank: "pending", "active" or "revoked" (the name of
        ``otp.IssuerCredentialState`` in lower case), or None for an unknown serial."""
        state = self._issuer.credential_state(serial)
        return None if state is None else state.name.lower()

    def serial_of(self, customer):
        """The serial number of the customer's current credential, or None."""
        return self._issuer.serial_of(customer)
