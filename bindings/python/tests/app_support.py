"""Helpers for test_app_lifecycle.py: a SecureStore and a Clock written in Python, and
``Bank``, the only place the tests touch the bank counterpart ``digital_otp.Issuer``.
(test_issuer_branch.py uses the store and the clock too.)

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

    ``snapshot`` and ``restore`` copy the store's bytes out and back in, the way a backup
    (or someone who copied the phone's storage) would bring an earlier state back.

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
        self._written_keys = []

    # --- the SecureStore interface (called from Rust, possibly on several threads) ---

    def read(self, key):
        with self._lock:
            return self._map.get(key)

    def write(self, key, value):
        with self._lock:
            self._write_calls += 1
            self._written_keys.append(key)
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

    @property
    def written_keys(self):
        """The key of every call to ``write``, oldest first, whatever its outcome."""
        with self._lock:
            return list(self._written_keys)

    def snapshot(self):
        """The whole content, key to hex of the value: compare two with ``==``."""
        with self._lock:
            return {k: v.hex() for k, v in sorted(self._map.items())}

    def restore(self, snapshot):
        """Puts back exactly the content of an earlier ``snapshot`` (not counted as writes)."""
        with self._lock:
            self._map = {k: bytes.fromhex(v) for k, v in snapshot.items()}

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
    """One institution's bank counterpart, on the tests' clock: an ``otp.Issuer`` in
    memory (a fresh master key) serving this one institution.

    Every creation and use of ``otp.Issuer`` in the app tests goes through this class,
    so a change of the issuer's API is an edit here only. Customers are registered on
    demand (individual, domestic, with the app's phone number: the bank refuses a
    registration from another number), codes are issued non-face-to-face, and codes are
    verified for the institution's customer, the way the issuer works. Mirrors
    tests/common/bank.rs.
    """

    ACTOR = "test"  # the employee recorded in the audit log
    CHANNEL = "web"  # the channel that verifies codes
    APP_CHANNEL = "mobile-app"  # the channel the app's registration and unlock messages come in on
    PHONE = "010-1234-5678"  # every customer's number on record: the one the app's DeviceInfo gives
    MOBILE_VENDOR = "DOTP"  # the vendor code of the SDK's mobile OTPs

    def __init__(self, institution_id, institution_name, clock):
        self.institution_id = institution_id
        self.institution_name = institution_name
        self.issuer = otp.Issuer.in_memory(otp.generate_master_key(), clock)
        self.issuer.add_institution(self.ACTOR, institution_id, institution_name)

    def ensure_customer(self, customer):
        """Registers ``customer`` (individual, domestic, phone PHONE) unless known."""
        try:
            self.issuer.register_customer(
                self.ACTOR,
                otp.NewCustomer(
                    institution_id=self.institution_id,
                    customer_id=customer,
                    name="홍길동",
                    kind=otp.CustomerKind.INDIVIDUAL,
                    residency=otp.Residency.DOMESTIC,
                    phone_number=self.PHONE,
                ),
            )
        except otp.IssuerError.CustomerExists:
            pass

    def issue_code(self, customer):
        """A registration code for ``customer``, displayed as ``1234-5678-9012``
        (non-face-to-face, after the bank's own identity check)."""
        self.ensure_customer(customer)
        return self.issuer.issue_non_face_to_face(self.ACTOR, self.institution_id, customer, "kyc-test")

    def answer(self, message):
        """The bank's answer (bytes) to an app's registration message: to the request, the
        response (for confirm_registration); to the confirmation, the outcome (for
        complete_registration)."""
        return self.issuer.handle_registration(self.APP_CHANNEL, message)

    def unlock(self, request):
        """The bank's answer (bytes) to an app's unlock request (begin_login_code,
        begin_transaction_code, begin_change_password): the bank counts the guess."""
        return self.issuer.handle_unlock(self.APP_CHANNEL, request)

    def unlock_records(self):
        """The audit records of the unlock requests the bank has seen, newest first."""
        return self.issuer.audit(otp.AuditFilter(action="unlock"))

    def verify_login(self, code, customer="customer-1"):
        """Whether the bank accepts ``code`` as a login code of ``customer``'s OTP."""
        verdict = self.issuer.verify_login(self.CHANNEL, self.institution_id, customer, code)
        return verdict == otp.Verification.ACCEPTED

    def verify_transaction(self, code, transaction, customer="customer-1"):
        """Whether the bank accepts ``code`` for exactly ``transaction`` of ``customer``."""
        verdict = self.issuer.verify_transaction(self.CHANNEL, self.institution_id, customer, code, transaction)
        return verdict == otp.Verification.ACCEPTED

    def state(self, serial):
        """The state of the mobile OTP ``serial``'s latest registration at the bank:
        "pending", "active", "cancelled" or "revoked" (the name of
        ``otp.RegistrationState`` in lower case), or None for an unknown serial."""
        try:
            report = self.issuer.device_inquiry(self.ACTOR, self.institution_id, self.MOBILE_VENDOR, serial)
        except otp.IssuerError.UnknownDevice:
            return None
        return report.registrations[-1].state.name.lower()

    def serial_of(self, customer):
        """The serial number of ``customer``'s current (pending or active) mobile OTP at
        the bank, or None (no customer yet, or no current OTP)."""
        try:
            report = self.issuer.customer_inquiry(self.ACTOR, self.institution_id, customer)
        except otp.IssuerError.UnknownCustomer:
            return None
        current = (otp.RegistrationState.PENDING, otp.RegistrationState.ACTIVE)
        for device in report.devices:  # current first
            for registration in device.registrations:
                if (
                    registration.institution_id == self.institution_id
                    and registration.customer_id == customer
                    and registration.state in current
                ):
                    return device.serial_number
        return None
