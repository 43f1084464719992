"""The app side end to end from Python, against the bank counterpart (``Bank`` in
app_support.py, over ``Issuer``), with a SecureStore and a Clock implemented in Python.
Mirrors bindings/kotlin/.../AppLifecycleTest.kt and tests/app_lifecycle.rs.

Every password check costs one PBKDF2 of 600,000 iterations (~0.2 s), so each test
keeps its count of complete_registration / generate* / change_password calls low.
"""

import re
import threading
from concurrent.futures import ThreadPoolExecutor

import pytest

import digital_otp as otp
from app_support import Bank, TestClock, TestStore

E = otp.DigitalOtpError

T0 = 1_800_000_000
PHONE = "010-1234-5678"
PHONE_E164 = "+821012345678"
DEVICE_ID = "android-id-1"
PASSWORD = "482915"
OTHER_PASSWORD = "730264"
WRONG_PASSWORD = "000001"
CREDENTIAL_PREFIX = "digital-otp.v1.credential."

SECRETS = [PASSWORD, OTHER_PASSWORD, WRONG_PASSWORD, "1234-5678", "12345678", DEVICE_ID]


def transfer(amount, account="110-123-456789"):
    """A transfer of ``amount`` won to 홍길동."""
    return otp.Transaction(amount_minor=amount, currency="KRW", payee_account=account, payee_name="홍길동")


def assert_otp_fails(error_class, call, *args):
    """Calls ``call(*args)``, asserts it raises exactly ``error_class`` (a DigitalOtpError
    variant) and that neither str() nor repr() of the error reveals a password, the
    phone number or the device id. Returns the error."""
    with pytest.raises(E) as info:
        call(*args)
    e = info.value
    assert type(e) is error_class, f"expected {error_class.__name__}, got {e!r}"
    for text in (str(e), repr(e)):
        for secret in SECRETS:
            assert secret not in text, f"{type(e).__name__} reveals {secret!r}: {text}"
    return e


class World:
    """One phone with the app (over a Python store and clock) and bank A, sharing the clock."""

    def __init__(self):
        self.clock = TestClock(T0)
        self.store = TestStore()
        self.app = otp.DigitalOtp.with_clock(self.store, self.clock)
        self.bank = Bank("bank-a", "Bank A", self.clock)
        self.phone = otp.DeviceInfo(PHONE, DEVICE_ID)

    def bank_b(self):
        """Bank B, on the same clock."""
        return Bank("bank-b", "Bank B", self.clock)

    def register(self, customer="customer-1", bank=None, password=PASSWORD, device=None):
        """The whole registration round trip: code at the bank, request, response, password."""
        bank = bank or self.bank
        code = bank.issue_code(customer)
        request = self.app.begin_registration(code, device or self.phone)
        return self.app.complete_registration(bank.answer(request), password)

    def institutions(self):
        return [c.institution_id for c in self.app.credentials(self.phone)]


@pytest.fixture
def w():
    return World()


# --- the whole lifecycle -----------------------------------------------------------------


def test_whole_lifecycle(w):
    """Register, activate, log in, confirm a transfer, lock, register again."""
    # The bank issues a registration code; the customer types it into the app.
    code = w.bank.issue_code("customer-1")
    assert re.fullmatch(r"\d{4}-\d{4}-\d{4}", code), "displayed as 1234-5678-9012"
    otp.check_registration_code(code)
    request = w.app.begin_registration(code, w.phone)
    assert isinstance(request, bytes)
    assert w.store.is_empty(), "begin_registration writes nothing"
    response = w.bank.answer(request)
    info = w.app.complete_registration(response, PASSWORD)
    assert info.status == otp.CredentialStatus.PENDING
    assert info.institution_id == "bank-a"
    assert info.institution_name == "Bank A"
    assert info.attempts_remaining == 5
    assert info.valid_until > T0
    serial = info.serial_number
    assert w.bank.serial_of("customer-1") == serial
    assert w.bank.state(serial) == "pending"
    assert w.app.credentials(w.phone) == [info]

    # Activation: the first login code verifies at the bank.
    login = w.app.generate("bank-a", PASSWORD, w.phone)
    assert login.serial_number == serial
    assert re.fullmatch(r"\d{6}", login.code), "a 6-digit login code"
    assert login.valid_from <= T0 < login.valid_until
    assert login.seconds_remaining == login.valid_until - T0
    assert w.bank.verify_login(login.code)
    assert w.bank.state(serial) == "active"
    w.app.confirm_activation("bank-a")
    [active] = w.app.credentials(w.phone)
    assert active.status == otp.CredentialStatus.ACTIVE

    # The same code again is a replay; 30 s later a new code is accepted.
    assert not w.bank.verify_login(login.code), "replay"
    w.clock.advance(30)
    nxt = w.app.generate("bank-a", PASSWORD, w.phone)
    assert nxt.valid_from >= login.valid_until, "the next time step"
    assert w.bank.verify_login(nxt.code)

    # A transaction code is bound to the amount and the payee.
    tx = transfer(1_500_000)
    tx_code = w.app.generate_for_transaction("bank-a", PASSWORD, w.phone, tx)
    assert tx_code.summary == otp.transaction_summary(tx)
    assert tx_code.summary == "Transfer KRW 1,500,000 to 홍길동 (account 110123456789)"
    assert tx_code.serial_number == serial
    assert re.fullmatch(r"\d{8}", tx_code.code), "an 8-digit transaction code"
    assert not w.bank.verify_transaction(tx_code.code, transfer(1_500_001)), "another amount"
    assert not w.bank.verify_transaction(tx_code.code, transfer(1_500_000, "110-123-456788")), "another payee"
    assert w.bank.verify_transaction(tx_code.code, transfer(1_500_000))
    assert not w.bank.verify_transaction(tx_code.code, transfer(1_500_000)), "replay"

    # A login code of this credential that the bank never sees (it is used below).
    w.clock.advance(30)
    stale = w.app.generate("bank-a", PASSWORD, w.phone)

    # Five wrong passwords lock it; then the right one is refused too.
    for remaining in (4, 3, 2, 1):
        e = assert_otp_fails(E.WrongPassword, w.app.generate, "bank-a", WRONG_PASSWORD, w.phone)
        assert e.attempts_remaining == remaining
    assert_otp_fails(E.Locked, w.app.generate, "bank-a", WRONG_PASSWORD, w.phone)
    assert_otp_fails(E.Locked, w.app.generate, "bank-a", PASSWORD, w.phone)
    assert_otp_fails(E.Locked, w.app.generate_for_transaction, "bank-a", PASSWORD, w.phone, tx)
    [locked] = w.app.credentials(w.phone)
    assert locked.status == otp.CredentialStatus.LOCKED
    assert locked.attempts_remaining == 0

    # Registering again with a new code restores service; the old serial is revoked.
    w.clock.advance(30)
    again = w.register("customer-1")
    assert again.status == otp.CredentialStatus.PENDING
    assert again.serial_number != serial
    assert w.bank.state(serial) == "revoked"
    assert w.bank.serial_of("customer-1") == again.serial_number
    fresh = w.app.generate("bank-a", PASSWORD, w.phone)
    assert fresh.serial_number == again.serial_number
    # The bank verifies the customer's current OTP only: the old credential's unused
    # code, still within the bank's window, is refused; the new one's is accepted.
    assert not w.bank.verify_login(stale.code), "the old serial is revoked"
    assert w.bank.verify_login(fresh.code)
    assert w.bank.state(again.serial_number) == "active"
    w.app.confirm_activation("bank-a")
    [listed] = w.app.credentials(w.phone)
    assert listed.status == otp.CredentialStatus.ACTIVE
    assert listed.attempts_remaining == 5
    assert len(w.store.keys(CREDENTIAL_PREFIX)) == 1, "the locked credential was replaced"


# --- registration failures -----------------------------------------------------------------


def test_mistyped_registration_code_is_refused_before_any_request(w):
    code = w.bank.issue_code("customer-1")
    otp.check_registration_code(code)
    # Change one digit: the Damm check digit catches every single-digit error.
    typo = str((int(code[0]) + 1) % 10) + code[1:]
    assert_otp_fails(E.InvalidRegistrationCode, otp.check_registration_code, typo)
    assert_otp_fails(E.InvalidRegistrationCode, w.app.begin_registration, typo, w.phone)
    for malformed in ("", "1234", "1234-5678-901", "abcd-efgh-ijkl", "1234-5678-90123"):
        assert_otp_fails(E.InvalidRegistrationCode, otp.check_registration_code, malformed)
        assert_otp_fails(E.InvalidRegistrationCode, w.app.begin_registration, malformed, w.phone)
    # Nothing is in progress and nothing was written.
    assert_otp_fails(E.NoRegistrationInProgress, w.app.complete_registration, b"{}", PASSWORD)
    assert w.store.write_calls == 0


def test_weak_passwords_are_refused_and_keep_the_registration_in_progress(w):
    for weak in ("123456", "111111", "234567", "12345", "987654", "121212", "12345a", "1234567", ""):
        assert_otp_fails(E.WeakPassword, otp.check_password_policy, weak)
    otp.check_password_policy(PASSWORD)
    otp.check_password_policy(OTHER_PASSWORD)

    code = w.bank.issue_code("customer-1")
    response = w.bank.answer(w.app.begin_registration(code, w.phone))
    for weak in ("123456", "111111", "234567", "12345"):
        e = assert_otp_fails(E.WeakPassword, w.app.complete_registration, response, weak)
        assert e.reason.strip()
    assert w.store.write_calls == 0, "a refused password writes nothing"
    # The app may ask again: the same response completes with a good password.
    assert w.app.complete_registration(response, PASSWORD).status == otp.CredentialStatus.PENDING


def test_expired_or_used_registration_code_is_rejected_by_the_bank(w):
    code = w.bank.issue_code("customer-1")
    request = w.app.begin_registration(code, w.phone)
    w.clock.advance(601)  # valid for 10 minutes
    response = w.bank.answer(request)
    assert_otp_fails(E.RegistrationRejected, w.app.complete_registration, response, PASSWORD)
    # The expired attempt consumed the code.
    again = w.bank.answer(w.app.begin_registration(code, w.phone))
    assert_otp_fails(E.RegistrationRejected, w.app.complete_registration, again, PASSWORD)
    assert w.store.is_empty(), "failed registrations write nothing"
    assert w.store.write_calls == 0
    assert w.bank.serial_of("customer-1") is None


def test_tampered_bank_response_is_refused_writes_nothing_and_ends_the_attempt(w):
    code = w.bank.issue_code("customer-1")
    response = w.bank.answer(w.app.begin_registration(code, w.phone))
    tampered = response.decode("utf-8").replace("Bank A", "Bank B").encode("utf-8")
    assert tampered != response, "the response names the bank"
    assert_otp_fails(E.InvalidResponse, w.app.complete_registration, tampered, PASSWORD)
    assert w.store.is_empty()
    assert w.store.write_calls == 0, "not a single write"
    # The attempt is over: even the genuine response needs a new begin_registration.
    assert_otp_fails(E.NoRegistrationInProgress, w.app.complete_registration, response, PASSWORD)
    # Garbage is InvalidResponse too.
    for garbage in (b"", b"null", b"\xff" * 10):
        w.app.begin_registration(w.bank.issue_code("customer-1"), w.phone)
        assert_otp_fails(E.InvalidResponse, w.app.complete_registration, garbage, PASSWORD)
    assert w.store.is_empty()


# --- device binding --------------------------------------------------------------------------


def test_another_phone_number_or_device_id_is_a_device_mismatch(w):
    w.register()
    for other in (otp.DeviceInfo("010-1234-5679", DEVICE_ID), otp.DeviceInfo(PHONE, "android-id-2")):
        assert_otp_fails(E.DeviceMismatch, w.app.generate, "bank-a", PASSWORD, other)
        assert_otp_fails(E.DeviceMismatch, w.app.generate_for_transaction, "bank-a", PASSWORD, other, transfer(1_000))
        [seen] = w.app.credentials(other)
        assert seen.status == otp.CredentialStatus.DEVICE_MISMATCH
    # A mismatch is not a password failure.
    [mine] = w.app.credentials(w.phone)
    assert mine.status == otp.CredentialStatus.PENDING
    assert mine.attempts_remaining == 5
    # Another way of writing the same number is the same device.
    w.app.generate("bank-a", PASSWORD, otp.DeviceInfo("+82 10 1234 5678", DEVICE_ID))


def test_device_info_normalizes_the_number_and_never_shows_it():
    d = otp.DeviceInfo(PHONE, DEVICE_ID)
    assert d.phone_number_e164() == PHONE_E164
    for text in (str(d), repr(d), f"{d}"):
        for part in (PHONE, PHONE_E164, "01012345678", "1234", "5678", DEVICE_ID):
            assert part not in text, f"str() reveals {part!r}: {text}"
    assert otp.DeviceInfo("+82 10 1234 5678", DEVICE_ID).phone_number_e164() == PHONE_E164
    assert_otp_fails(E.InvalidDevice, otp.DeviceInfo, "12", DEVICE_ID)
    assert_otp_fails(E.InvalidDevice, otp.DeviceInfo, PHONE, "")
    assert_otp_fails(E.InvalidDevice, otp.DeviceInfo, PHONE, "id\x00with-nul")


# --- storage faults -----------------------------------------------------------------------------


def second_bank_registration_fails_cleanly(w, switch):
    """Registers bank A, then fails bank B's registration with the store's switch
    ``switch`` on during complete_registration: StorageFailed, the store exactly as
    before, bank A usable, and bank B registrable once the store is healthy again."""
    serial_a = w.register().serial_number
    before = w.store.snapshot()
    bank_b = w.bank_b()
    response = bank_b.answer(w.app.begin_registration(bank_b.issue_code("customer-1"), w.phone))
    setattr(w.store, switch, True)
    try:
        e = assert_otp_fails(E.StorageFailed, w.app.complete_registration, response, PASSWORD)
    finally:
        setattr(w.store, switch, False)
    assert w.store.snapshot() == before, "nothing half-written"
    assert w.institutions() == ["bank-a"]
    login = w.app.generate("bank-a", PASSWORD, w.phone)
    assert w.bank.verify_login(login.code), "bank A's credential is intact"
    assert w.bank.serial_of("customer-1") == serial_a
    # The failed attempt is over; a new one succeeds on a healthy store.
    assert_otp_fails(E.NoRegistrationInProgress, w.app.complete_registration, response, PASSWORD)
    w.register(bank=bank_b)
    assert w.institutions() == ["bank-a", "bank-b"]
    return e


def test_store_raising_host_error_failed_on_write(w):
    e = second_bank_registration_fails_cleanly(w, "fail_writes")
    assert "keystore unavailable" in e.reason, e.reason


def test_store_raising_an_unexpected_exception_on_write(w):
    e = second_bank_registration_fails_cleanly(w, "raise_unexpected")
    assert "unexpected error in a callback" in e.reason, e.reason
    assert "keystore crashed" in e.reason, e.reason


def test_store_silently_dropping_writes(w):
    e = second_bank_registration_fails_cleanly(w, "drop_writes")
    assert "did not keep a write" in e.reason, e.reason
    # A lost failure-count write means the password is not tried at all.
    w.store.drop_writes = True
    try:
        assert_otp_fails(E.StorageFailed, w.app.generate, "bank-a", WRONG_PASSWORD, w.phone)
    finally:
        w.store.drop_writes = False
    [a] = [c for c in w.app.credentials(w.phone) if c.institution_id == "bank-a"]
    assert a.attempts_remaining == 5


# --- several institutions, cancel, reset, password change -------------------------------------


def test_two_institutions_cancelling_bank_a_leaves_bank_b_usable(w):
    bank_b = w.bank_b()
    serial_a = w.register().serial_number
    serial_b = w.register(bank=bank_b, password=OTHER_PASSWORD).serial_number
    listed = w.app.credentials(w.phone)
    assert [c.institution_id for c in listed] == ["bank-a", "bank-b"]
    assert [c.institution_name for c in listed] == ["Bank A", "Bank B"]
    assert [c.serial_number for c in listed] == [serial_a, serial_b]
    # Each credential has its own password.
    assert_otp_fails(E.WrongPassword, w.app.generate, "bank-b", PASSWORD, w.phone)
    b = w.app.generate("bank-b", OTHER_PASSWORD, w.phone)
    assert bank_b.verify_login(b.code)

    w.app.cancel("bank-a")
    assert_otp_fails(E.NotRegistered, w.app.generate, "bank-a", PASSWORD, w.phone)
    assert_otp_fails(E.NotRegistered, w.app.cancel, "bank-a")
    assert w.institutions() == ["bank-b"]
    assert len(w.store.keys(CREDENTIAL_PREFIX)) == 1

    w.clock.advance(30)
    b2 = w.app.generate("bank-b", OTHER_PASSWORD, w.phone)
    assert bank_b.verify_login(b2.code), "bank B still works"
    # The wrong password given for bank B was followed by a success: the count is reset.
    [only] = w.app.credentials(w.phone)
    assert only.attempts_remaining == 5


def test_reset_all_deletes_every_credential_and_empties_the_store(w):
    bank_b = w.bank_b()
    w.register()
    w.register(bank=bank_b)
    assert not w.store.is_empty()
    w.app.reset_all()
    assert w.store.is_empty(), f"left behind: {w.store.keys()}"
    assert w.app.credentials(w.phone) == []
    assert_otp_fails(E.NotRegistered, w.app.generate, "bank-a", PASSWORD, w.phone)
    assert_otp_fails(E.NotRegistered, w.app.generate, "bank-b", PASSWORD, w.phone)
    w.app.reset_all()  # idempotent


def test_change_password_needs_the_old_password_and_follows_the_policy(w):
    serial = w.register().serial_number
    assert_otp_fails(E.WeakPassword, w.app.change_password, "bank-a", PASSWORD, "111111", w.phone)
    e = assert_otp_fails(E.WrongPassword, w.app.change_password, "bank-a", WRONG_PASSWORD, OTHER_PASSWORD, w.phone)
    assert e.attempts_remaining == 4
    w.app.change_password("bank-a", PASSWORD, OTHER_PASSWORD, w.phone)
    [c] = w.app.credentials(w.phone)
    assert c.attempts_remaining == 5, "a success resets the count"
    assert_otp_fails(E.WrongPassword, w.app.generate, "bank-a", PASSWORD, w.phone)
    login = w.app.generate("bank-a", OTHER_PASSWORD, w.phone)
    assert w.bank.verify_login(login.code), "same seed, new password"
    assert w.bank.state(serial) == "active"


# --- concurrency and what is stored -------------------------------------------------------------


def test_concurrent_wrong_passwords_from_two_threads_each_count(w):
    w.register()
    barrier = threading.Barrier(2, timeout=10)

    def wrong():
        barrier.wait()
        try:
            w.app.generate("bank-a", WRONG_PASSWORD, w.phone)
        except E as e:
            return e
        return None

    def right():
        barrier.wait()
        return w.app.generate("bank-a", PASSWORD, w.phone).code

    with ThreadPoolExecutor(max_workers=2) as pool:
        errors = [f.result(timeout=30) for f in [pool.submit(wrong) for _ in range(2)]]
        for e in errors:
            assert type(e) is E.WrongPassword, f"not WrongPassword: {e!r}"
        assert sorted(e.attempts_remaining for e in errors) == [3, 4]
        [c] = w.app.credentials(w.phone)
        assert c.attempts_remaining == 3

        # And two threads with the right password both get the (same) code.
        codes = [f.result(timeout=30) for f in [pool.submit(right) for _ in range(2)]]
    assert len(set(codes)) == 1
    [c] = w.app.credentials(w.phone)
    assert c.attempts_remaining == 5


def test_stored_bytes_never_contain_the_phone_number_device_id_or_password(w):
    code = w.bank.issue_code("customer-1")
    info = w.app.complete_registration(w.bank.answer(w.app.begin_registration(code, w.phone)), PASSWORD)
    w.app.generate("bank-a", PASSWORD, w.phone)
    w.app.generate_for_transaction("bank-a", PASSWORD, w.phone, transfer(1_500_000))
    assert_otp_fails(E.WrongPassword, w.app.generate, "bank-a", WRONG_PASSWORD, w.phone)
    w.app.change_password("bank-a", PASSWORD, OTHER_PASSWORD, w.phone)

    # The documented layout: a device key, an index, one credential under a random name.
    keys = w.store.keys()
    assert len(keys) == 3, keys
    assert "digital-otp.v1.device-key" in keys and "digital-otp.v1.index" in keys, keys
    assert len(w.store.keys(CREDENTIAL_PREFIX)) == 1, keys

    needles = [
        PHONE, PHONE_E164, "01012345678", "821012345678", "1012345678", DEVICE_ID,
        PASSWORD, OTHER_PASSWORD, WRONG_PASSWORD,
        code, code.replace("-", ""),
        # The blobs are encrypted: not even the serial number or a field name shows.
        info.serial_number, "sealed_seed", "홍길동",
    ]
    values = w.store.values()
    for needle in needles:
        raw = needle.encode("utf-8")
        for key in keys:
            assert needle not in key, f"key {key} contains {needle!r}"
        for value in values:
            assert raw not in value, f"a stored value contains {needle!r}"
