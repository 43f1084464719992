"""The app side end to end from Python, against the bank counterpart (``Bank`` in
app_support.py, over ``Issuer``), with a SecureStore and a Clock implemented in Python
and the software device keys (``software_device_keys``) kept in that same store.
Mirrors bindings/kotlin/.../AppLifecycleTest.kt and tests/app_lifecycle.rs.

Registration is two round trips (begin_registration -> bank -> confirm_registration ->
bank -> complete_registration); every code is one round trip in which the bank counts
the password guess (begin_login_code -> bank -> complete_login_code). Storing a new
credential and every password check cost one PBKDF2 of 1,000,000 iterations (~0.2 s), so
each test keeps its count of registrations and codes low.
"""

import json
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
SOFTWARE_KEY_PREFIX = "digital-otp.v2.software-key."  # where software_device_keys keeps a key

SECRETS = [PASSWORD, OTHER_PASSWORD, WRONG_PASSWORD, "1234-5678", "12345678", DEVICE_ID]

# The Damm quasigroup of the registration code's check digit (src/enrollment/code.rs).
DAMM = [
    [0, 3, 1, 7, 5, 9, 8, 6, 4, 2],
    [7, 0, 9, 2, 1, 5, 4, 8, 6, 3],
    [4, 2, 0, 6, 8, 7, 1, 3, 5, 9],
    [1, 7, 5, 0, 9, 8, 3, 4, 2, 6],
    [6, 1, 2, 3, 0, 4, 5, 9, 7, 8],
    [3, 6, 7, 4, 2, 0, 9, 5, 8, 1],
    [5, 8, 6, 9, 7, 2, 0, 1, 3, 4],
    [8, 9, 4, 5, 3, 6, 2, 0, 1, 7],
    [9, 4, 3, 8, 6, 1, 7, 2, 0, 5],
    [2, 5, 8, 1, 4, 3, 6, 7, 9, 0],
]


def wrong_code(code, n=1):
    """A well-formed registration code (right check digit) other than ``code``: the app
    cannot tell it from the right one, only the bank can. ``n`` picks one of several."""
    digits = code.replace("-", "")[:11]
    changed = digits[:5] + f"{(int(digits[5:7]) + n) % 100:02d}" + digits[7:]
    check = 0
    for d in changed:
        check = DAMM[check][int(d)]
    whole = changed + str(check)
    other = f"{whole[:4]}-{whole[4:8]}-{whole[8:]}"
    assert other != code
    otp.check_registration_code(other)
    return other


def flip_hex(text):
    """``text`` (hex) with its first digit changed."""
    return ("1" if text[0] == "0" else "0") + text[1:]


def altered(message, **fields):
    """The JSON ``message`` with ``fields`` replaced (each must be there already)."""
    parsed = json.loads(message)
    for name in fields:
        assert name in parsed, f"the message has no field {name!r}: {sorted(parsed)}"
    parsed.update(fields)
    return json.dumps(parsed).encode("utf-8")


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


def only_device_keys_written(store):
    """Whether every write to ``store`` so far was a software device key's."""
    return all(k.startswith(SOFTWARE_KEY_PREFIX) for k in store.written_keys)


class World:
    """One phone with the app (over a Python store and clock, its device keys in software
    in the same store) and bank A, sharing the clock."""

    def __init__(self):
        self.clock = TestClock(T0)
        self.store = TestStore()
        self.keys = otp.software_device_keys(self.store)
        self.app = otp.DigitalOtp.with_clock(self.store, self.keys, self.clock)
        self.bank = Bank("bank-a", "Bank A", self.clock)
        self.banks = {self.bank.institution_id: self.bank}
        self.phone = otp.DeviceInfo(PHONE, DEVICE_ID)

    def bank_b(self):
        """Bank B, on the same clock."""
        bank = Bank("bank-b", "Bank B", self.clock)
        self.banks[bank.institution_id] = bank
        return bank

    def register(self, customer="customer-1", bank=None, password=PASSWORD, device=None, code=None):
        """The whole registration: a code from the bank (unless ``code``), the request
        (with the password), the response, the confirmation, the outcome."""
        bank = bank or self.bank
        code = code or bank.issue_code(customer)
        request = self.app.begin_registration(bank.institution_id, code, device or self.phone, password)
        confirmation = self.app.confirm_registration(bank.answer(request))
        return self.app.complete_registration(bank.institution_id, bank.answer(confirmation))

    def login(self, institution_id, password, device=None):
        """A login code: the unlock request, the bank's answer, the code."""
        request = self.app.begin_login_code(institution_id, password, device or self.phone)
        return self.app.complete_login_code(self.banks[institution_id].unlock(request))

    def transaction_code(self, institution_id, password, device, transaction):
        request = self.app.begin_transaction_code(institution_id, password, device, transaction)
        return self.app.complete_transaction_code(self.banks[institution_id].unlock(request))

    def change_password(self, institution_id, old, new, device=None):
        request = self.app.begin_change_password(institution_id, old, new, device or self.phone)
        self.app.complete_change_password(self.banks[institution_id].unlock(request))

    def institutions(self):
        return [c.institution_id for c in self.app.credentials(self.phone)]


@pytest.fixture
def w():
    return World()


# --- the whole lifecycle -----------------------------------------------------------------


def test_whole_lifecycle(w):
    """Register, activate, log in, confirm a transfer, lock, register again."""
    # The bank issues a registration code; the customer types it into the app, with the
    # app password chosen before the first request.
    code = w.bank.issue_code("customer-1")
    assert re.fullmatch(r"\d{4}-\d{4}-\d{4}", code), "displayed as 1234-5678-9012"
    otp.check_registration_code(code)
    request = w.app.begin_registration("bank-a", code, w.phone, PASSWORD)
    assert isinstance(request, bytes)
    assert only_device_keys_written(w.store), "begin_registration writes nothing but the device key"
    assert len(w.store.keys(SOFTWARE_KEY_PREFIX)) == 1
    confirmation = w.app.confirm_registration(w.bank.answer(request))
    assert isinstance(confirmation, bytes)
    [registering] = w.app.credentials(w.phone)
    assert registering.status == otp.CredentialStatus.REGISTERING
    assert w.bank.serial_of("customer-1") is None, "the bank registers on the confirmation"
    info = w.app.complete_registration("bank-a", w.bank.answer(confirmation))
    assert info.status == otp.CredentialStatus.PENDING
    assert info.institution_id == "bank-a"
    assert info.institution_name == "Bank A"
    assert info.attempts_remaining == 5
    assert info.valid_until > T0
    serial = info.serial_number
    assert serial == registering.serial_number
    assert w.bank.serial_of("customer-1") == serial
    assert w.bank.state(serial) == "pending"
    assert w.app.credentials(w.phone) == [info]

    # Activation: the first login code verifies at the bank.
    login = w.login("bank-a", PASSWORD, w.phone)
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
    nxt = w.login("bank-a", PASSWORD, w.phone)
    assert nxt.valid_from >= login.valid_until, "the next time step"
    assert w.bank.verify_login(nxt.code)

    # A transaction code is bound to the amount and the payee.
    tx = transfer(1_500_000)
    tx_code = w.transaction_code("bank-a", PASSWORD, w.phone, tx)
    assert tx_code.summary == otp.transaction_summary(tx)
    assert tx_code.summary == "Transfer KRW 1,500,000\nPayee: 홍길동\nAccount: 110123456789"
    assert tx_code.serial_number == serial
    assert re.fullmatch(r"\d{8}", tx_code.code), "an 8-digit transaction code"
    assert not w.bank.verify_transaction(tx_code.code, transfer(1_500_001)), "another amount"
    assert not w.bank.verify_transaction(tx_code.code, transfer(1_500_000, "110-123-456788")), "another payee"
    assert w.bank.verify_transaction(tx_code.code, transfer(1_500_000))
    assert not w.bank.verify_transaction(tx_code.code, transfer(1_500_000)), "replay"

    # A login code of this credential that the bank never sees (it is used below).
    w.clock.advance(30)
    stale = w.login("bank-a", PASSWORD, w.phone)

    # Five wrong passwords lock it, the seed and the device key destroyed; then the
    # right one is refused too.
    for remaining in (4, 3, 2, 1):
        e = assert_otp_fails(E.WrongPassword, w.login, "bank-a", WRONG_PASSWORD, w.phone)
        assert e.attempts_remaining == remaining
    assert_otp_fails(E.Locked, w.login, "bank-a", WRONG_PASSWORD, w.phone)
    assert_otp_fails(E.Locked, w.login, "bank-a", PASSWORD, w.phone)
    assert_otp_fails(E.Locked, w.transaction_code, "bank-a", PASSWORD, w.phone, tx)
    [locked] = w.app.credentials(w.phone)
    assert locked.status == otp.CredentialStatus.LOCKED
    assert locked.attempts_remaining == 0
    assert w.store.keys(SOFTWARE_KEY_PREFIX) == [], "the device key is deleted"

    # Registering again with a new code restores service; the old serial is revoked.
    w.clock.advance(30)
    again = w.register("customer-1")
    assert again.status == otp.CredentialStatus.PENDING
    assert again.serial_number != serial
    assert w.bank.state(serial) == "revoked"
    assert w.bank.serial_of("customer-1") == again.serial_number
    fresh = w.login("bank-a", PASSWORD, w.phone)
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
    assert len(w.store.keys(SOFTWARE_KEY_PREFIX)) == 1, "one device key, the new credential's"


# --- registration failures -----------------------------------------------------------------


def test_mistyped_registration_code_is_refused_before_any_request(w):
    code = w.bank.issue_code("customer-1")
    otp.check_registration_code(code)
    # Change one digit: the Damm check digit catches every single-digit error.
    typo = str((int(code[0]) + 1) % 10) + code[1:]
    assert_otp_fails(E.InvalidRegistrationCode, otp.check_registration_code, typo)
    assert_otp_fails(E.InvalidRegistrationCode, w.app.begin_registration, "bank-a", typo, w.phone, PASSWORD)
    for malformed in ("", "1234", "1234-5678-901", "abcd-efgh-ijkl", "1234-5678-90123"):
        assert_otp_fails(E.InvalidRegistrationCode, otp.check_registration_code, malformed)
        assert_otp_fails(E.InvalidRegistrationCode, w.app.begin_registration, "bank-a", malformed, w.phone, PASSWORD)
    # Nothing is in progress and nothing was written, not even a device key.
    assert_otp_fails(E.NoRegistrationInProgress, w.app.confirm_registration, b"{}")
    assert_otp_fails(E.NotRegistered, w.app.complete_registration, "bank-a", b"{}")
    assert w.store.write_calls == 0


def test_weak_passwords_are_refused_before_any_request_and_keep_the_registration_in_progress(w):
    for weak in ("123456", "111111", "234567", "12345", "987654", "121212", "12345a", "1234567", ""):
        assert_otp_fails(E.WeakPassword, otp.check_password_policy, weak)
    otp.check_password_policy(PASSWORD)
    otp.check_password_policy(OTHER_PASSWORD)

    # The password is chosen before the first request: a weak one is refused there.
    code = w.bank.issue_code("customer-1")
    for weak in ("123456", "111111", "234567", "12345"):
        e = assert_otp_fails(E.WeakPassword, w.app.begin_registration, "bank-a", code, w.phone, weak)
        assert e.reason.strip()
    assert w.store.write_calls == 0, "a refused password writes nothing, not even a device key"
    assert w.bank.unlock_records() == [] and w.bank.serial_of("customer-1") is None

    # A registration in progress survives a refused password: its response still confirms.
    request = w.app.begin_registration("bank-a", code, w.phone, PASSWORD)
    written = w.store.write_calls
    assert_otp_fails(E.WeakPassword, w.app.begin_registration, "bank-a", code, w.phone, "111111")
    assert w.store.write_calls == written
    confirmation = w.app.confirm_registration(w.bank.answer(request))
    info = w.app.complete_registration("bank-a", w.bank.answer(confirmation))
    assert info.status == otp.CredentialStatus.PENDING
    assert w.bank.verify_login(w.login("bank-a", PASSWORD, w.phone).code), "the password of the request"


def test_wrong_registration_code_is_rejected_at_confirm_registration(w):
    code = w.bank.issue_code("customer-1")
    wrong = wrong_code(code)
    # Well-formed: the app sends it, and the bank answers it like any other.
    request = w.app.begin_registration("bank-a", wrong, w.phone, PASSWORD)
    response = w.bank.answer(request)
    e = assert_otp_fails(E.RegistrationRejected, w.app.confirm_registration, response)
    assert e.reason.strip()
    assert w.store.is_empty(), "nothing stored, and the new device key deleted"
    assert only_device_keys_written(w.store)
    assert w.app.credentials(w.phone) == []
    assert w.bank.serial_of("customer-1") is None
    # The attempt is over.
    assert_otp_fails(E.NoRegistrationInProgress, w.app.confirm_registration, response)
    # A wrong guess does not void the code: the right one still registers.
    info = w.register(code=code)
    assert info.status == otp.CredentialStatus.PENDING
    assert w.bank.serial_of("customer-1") == info.serial_number


def test_five_wrong_guesses_void_the_registration_code(w):
    code = w.bank.issue_code("customer-1")
    for n in range(1, 6):
        request = w.app.begin_registration("bank-a", wrong_code(code, n), w.phone, PASSWORD)
        assert_otp_fails(E.RegistrationRejected, w.app.confirm_registration, w.bank.answer(request))
    # Now even the right code gets an answer that fails, alike.
    request = w.app.begin_registration("bank-a", code, w.phone, PASSWORD)
    assert_otp_fails(E.RegistrationRejected, w.app.confirm_registration, w.bank.answer(request))
    assert w.store.is_empty()
    assert w.bank.serial_of("customer-1") is None
    # A new code from the bank works.
    assert w.register().status == otp.CredentialStatus.PENDING


def test_expired_registration_code_is_rejected_at_confirm_registration(w):
    code = w.bank.issue_code("customer-1")
    request = w.app.begin_registration("bank-a", code, w.phone, PASSWORD)
    w.clock.advance(601)  # valid for 10 minutes
    response = w.bank.answer(request)
    assert_otp_fails(E.RegistrationRejected, w.app.confirm_registration, response)
    # The expired attempt voided the code.
    again = w.bank.answer(w.app.begin_registration("bank-a", code, w.phone, PASSWORD))
    assert_otp_fails(E.RegistrationRejected, w.app.confirm_registration, again)
    assert w.store.is_empty(), "failed registrations leave nothing behind"
    assert only_device_keys_written(w.store), "and wrote no credential"
    assert w.bank.serial_of("customer-1") is None


def test_used_registration_code_is_rejected_and_leaves_the_credential_alone(w):
    code = w.bank.issue_code("customer-1")
    info = w.register(code=code)
    before = w.store.snapshot()
    request = w.app.begin_registration("bank-a", code, w.phone, OTHER_PASSWORD)
    assert_otp_fails(E.RegistrationRejected, w.app.confirm_registration, w.bank.answer(request))
    assert w.store.snapshot() == before, "the registered credential is untouched"
    assert w.app.credentials(w.phone) == [info]
    assert w.bank.serial_of("customer-1") == info.serial_number
    assert w.bank.verify_login(w.login("bank-a", PASSWORD, w.phone).code)


def test_tampered_bank_response_is_rejected_writes_nothing_and_ends_the_attempt(w):
    # The response's key confirmation covers all of it: an altered field fails like a
    # wrong code (the app cannot tell the two apart).
    code = w.bank.issue_code("customer-1")
    for field in ("grant", "evaluation"):
        response = w.bank.answer(w.app.begin_registration("bank-a", code, w.phone, PASSWORD))
        tampered = altered(response, **{field: flip_hex(json.loads(response)[field])})
        assert_otp_fails(E.RegistrationRejected, w.app.confirm_registration, tampered)
        assert w.store.is_empty()
        # The attempt is over: even the genuine response needs a new begin_registration.
        assert_otp_fails(E.NoRegistrationInProgress, w.app.confirm_registration, response)
    # Garbage is InvalidResponse.
    for garbage in (b"", b"null", b"\xff" * 10):
        w.app.begin_registration("bank-a", code, w.phone, PASSWORD)
        assert_otp_fails(E.InvalidResponse, w.app.confirm_registration, garbage)
    assert w.store.is_empty()
    assert only_device_keys_written(w.store), "not a single credential write"
    assert w.bank.serial_of("customer-1") is None
    # Only the alterations failed: the same code registers with untouched answers.
    assert w.register(code=code).status == otp.CredentialStatus.PENDING


def test_registering_between_confirm_and_complete_and_a_tampered_outcome(w):
    code = w.bank.issue_code("customer-1")
    confirmation = w.app.confirm_registration(
        w.bank.answer(w.app.begin_registration("bank-a", code, w.phone, PASSWORD))
    )
    [registering] = w.app.credentials(w.phone)
    assert registering.status == otp.CredentialStatus.REGISTERING
    assert (registering.institution_id, registering.institution_name) == ("bank-a", "Bank A")
    assert registering.attempts_remaining == 5
    # Not usable until the bank's outcome is in.
    assert_otp_fails(E.RegistrationIncomplete, w.app.begin_login_code, "bank-a", PASSWORD, w.phone)
    assert_otp_fails(E.RegistrationIncomplete, w.app.begin_transaction_code, "bank-a", PASSWORD, w.phone, transfer(1_000))
    assert_otp_fails(E.RegistrationIncomplete, w.app.begin_change_password, "bank-a", PASSWORD, OTHER_PASSWORD, w.phone)
    assert_otp_fails(E.RegistrationIncomplete, w.app.confirm_activation, "bank-a")
    assert w.bank.unlock_records() == [], "no request reached the bank"

    outcome = w.bank.answer(confirmation)
    assert w.bank.serial_of("customer-1") == registering.serial_number
    # An altered outcome is not the bank's answer (InvalidResponse) and the credential keeps
    # waiting for the genuine one.
    serial = json.loads(outcome)["serial_number"]
    for tampered in (
        altered(outcome, mac=flip_hex(json.loads(outcome)["mac"])),
        altered(outcome, serial_number=serial[:-1] + str((int(serial[-1]) + 1) % 10)),
    ):
        assert_otp_fails(E.InvalidResponse, w.app.complete_registration, "bank-a", tampered)
    assert_otp_fails(E.InvalidResponse, w.app.complete_registration, "bank-a", b"\xff")
    assert_otp_fails(E.NotRegistered, w.app.complete_registration, "bank-b", outcome)
    assert [c.status for c in w.app.credentials(w.phone)] == [otp.CredentialStatus.REGISTERING]

    info = w.app.complete_registration("bank-a", outcome)
    assert info.status == otp.CredentialStatus.PENDING
    assert info.serial_number == registering.serial_number
    assert_otp_fails(E.NoRegistrationInProgress, w.app.complete_registration, "bank-a", outcome)
    assert w.bank.verify_login(w.login("bank-a", PASSWORD, w.phone).code)


def test_a_lost_outcome_is_answered_again_for_the_same_confirmation(w):
    code = w.bank.issue_code("customer-1")
    confirmation = w.app.confirm_registration(
        w.bank.answer(w.app.begin_registration("bank-a", code, w.phone, PASSWORD))
    )
    lost = w.bank.answer(confirmation)  # registered at the bank, lost on the way back
    again = w.bank.answer(confirmation)
    assert again == lost, "the same confirmation gets the same outcome"
    # Only exactly that confirmation: an altered one is refused.
    tampered = altered(confirmation, confirmation=flip_hex(json.loads(confirmation)["confirmation"]))
    assert json.loads(w.bank.answer(tampered))["type"] == "error"
    info = w.app.complete_registration("bank-a", again)
    assert info.status == otp.CredentialStatus.PENDING
    assert w.bank.verify_login(w.login("bank-a", PASSWORD, w.phone).code)
    # Once the attempt's validity is over, the confirmation gets nothing.
    w.clock.advance(3600)
    assert json.loads(w.bank.answer(confirmation))["type"] == "error"


def test_an_outcome_refused_by_the_bank_deletes_the_registering_credential(w):
    # The same code typed on two phones: both get a response, the first confirmation
    # registers, and the bank refuses the second (the code is used by then).
    other_store = TestStore()
    other_app = otp.DigitalOtp.with_clock(other_store, otp.software_device_keys(other_store), w.clock)
    code = w.bank.issue_code("customer-1")
    first = w.app.begin_registration("bank-a", code, w.phone, PASSWORD)
    second = other_app.begin_registration("bank-a", code, w.phone, OTHER_PASSWORD)
    first_confirmation = w.app.confirm_registration(w.bank.answer(first))
    second_confirmation = other_app.confirm_registration(w.bank.answer(second))
    info = w.app.complete_registration("bank-a", w.bank.answer(first_confirmation))
    refused = w.bank.answer(second_confirmation)
    assert_otp_fails(E.RegistrationRejected, other_app.complete_registration, "bank-a", refused)
    assert other_app.credentials(w.phone) == []
    assert other_store.keys(CREDENTIAL_PREFIX) == [] and other_store.keys(SOFTWARE_KEY_PREFIX) == []
    assert w.bank.serial_of("customer-1") == info.serial_number
    assert w.bank.verify_login(w.login("bank-a", PASSWORD, w.phone).code)


# --- device binding --------------------------------------------------------------------------


def test_another_phone_number_or_device_id_is_a_device_mismatch(w):
    w.register()
    for other in (otp.DeviceInfo("010-1234-5679", DEVICE_ID), otp.DeviceInfo(PHONE, "android-id-2")):
        assert_otp_fails(E.DeviceMismatch, w.app.begin_login_code, "bank-a", PASSWORD, other)
        assert_otp_fails(E.DeviceMismatch, w.app.begin_transaction_code, "bank-a", PASSWORD, other, transfer(1_000))
        [seen] = w.app.credentials(other)
        assert seen.status == otp.CredentialStatus.DEVICE_MISMATCH
    # A mismatch is not a password failure: nothing was sent to the bank to count.
    assert w.bank.unlock_records() == []
    [mine] = w.app.credentials(w.phone)
    assert mine.status == otp.CredentialStatus.PENDING
    assert mine.attempts_remaining == 5
    # Another way of writing the same number is the same device.
    login = w.login("bank-a", PASSWORD, otp.DeviceInfo("+82 10 1234 5678", DEVICE_ID))
    assert w.bank.verify_login(login.code)


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


# --- the app password, counted by the bank ------------------------------------------------------


def test_the_bank_counts_wrong_passwords_and_restoring_the_store_does_not_reset_the_count(w):
    serial = w.register().serial_number
    # A copy of the store's bytes (credential, sealed seed, device key) before any guess,
    # put back before every guess: the count still goes down, because it is the bank's.
    saved = w.store.snapshot()
    e = assert_otp_fails(E.WrongPassword, w.login, "bank-a", WRONG_PASSWORD, w.phone)
    assert e.attempts_remaining == 4
    w.store.restore(saved)
    [c] = w.app.credentials(w.phone)
    assert c.attempts_remaining == 5, "the restored copy remembers no failure"
    # Its request is not later than the last one the bank saw: refused as stale, not
    # counted; the app learned from it, and the retry is counted.
    assert_otp_fails(E.ClockOutOfSync, w.login, "bank-a", WRONG_PASSWORD, w.phone)
    e = assert_otp_fails(E.WrongPassword, w.login, "bank-a", WRONG_PASSWORD, w.phone)
    assert e.attempts_remaining == 3
    for remaining in (2, 1):
        w.store.restore(saved)
        w.clock.advance(1)
        e = assert_otp_fails(E.WrongPassword, w.login, "bank-a", WRONG_PASSWORD, w.phone)
        assert e.attempts_remaining == remaining
    w.store.restore(saved)
    w.clock.advance(1)
    assert_otp_fails(E.Locked, w.login, "bank-a", WRONG_PASSWORD, w.phone)
    [c] = w.app.credentials(w.phone)
    assert c.status == otp.CredentialStatus.LOCKED
    assert w.store.keys(SOFTWARE_KEY_PREFIX) == [], "the device key is destroyed"

    # The copy from before any guess, with its seed and device key, and the right
    # password: the bank refuses, and the app destroys the seed again.
    w.store.restore(saved)
    w.clock.advance(1)
    assert_otp_fails(E.Locked, w.login, "bank-a", PASSWORD, w.phone)
    [c] = w.app.credentials(w.phone)
    assert (c.status, c.attempts_remaining) == (otp.CredentialStatus.LOCKED, 0)
    assert w.bank.state(serial) == "cancelled", "locked at the bank: only registering again helps"


def test_an_accepted_code_clears_the_count_at_the_bank(w):
    w.register()
    for remaining in (4, 3):
        e = assert_otp_fails(E.WrongPassword, w.login, "bank-a", WRONG_PASSWORD, w.phone)
        assert e.attempts_remaining == remaining
    # Taken before the right password: this copy cannot tell the bank that a password was
    # right, so only the bank's acceptance of the code can clear the count.
    before_success = w.store.snapshot()
    login = w.login("bank-a", PASSWORD, w.phone)
    [c] = w.app.credentials(w.phone)
    assert c.attempts_remaining == 5
    assert w.bank.verify_login(login.code)
    w.store.restore(before_success)
    w.clock.advance(1)
    e = assert_otp_fails(E.WrongPassword, w.login, "bank-a", WRONG_PASSWORD, w.phone)
    assert e.attempts_remaining == 4, "the accepted code cleared the two wrong passwords (and the right one)"


def test_a_right_password_clears_the_count_with_the_next_request(w):
    w.register()
    for remaining in (4, 3):
        e = assert_otp_fails(E.WrongPassword, w.login, "bank-a", WRONG_PASSWORD, w.phone)
        assert e.attempts_remaining == remaining
    w.login("bank-a", PASSWORD, w.phone)  # a code the bank never sees
    # The next request carries the proof that the last evaluation opened the seed.
    e = assert_otp_fails(E.WrongPassword, w.login, "bank-a", WRONG_PASSWORD, w.phone)
    assert e.attempts_remaining == 4


def test_an_altered_bank_answer_is_invalid_response_and_the_genuine_one_still_completes(w):
    w.register()
    assert_otp_fails(E.NoCodeInProgress, w.app.complete_login_code, b"{}")
    request = w.app.begin_login_code("bank-a", PASSWORD, w.phone)
    answer = w.bank.unlock(request)
    fields = json.loads(answer)
    for tampered in (
        altered(answer, remaining=fields["remaining"] + 1),  # more attempts than the bank allows
        altered(answer, evaluation=flip_hex(fields["evaluation"])),  # another password's evaluation
        altered(answer, mac=flip_hex(fields["mac"])),
        altered(answer, issuer_time=fields["issuer_time"] + 3600),
        answer[:-1],
        b"",
    ):
        e = assert_otp_fails(E.InvalidResponse, w.app.complete_login_code, tampered)
        assert e.reason.strip()
    [c] = w.app.credentials(w.phone)
    assert c.attempts_remaining == 5
    # The unlock is still under way: the genuine answer completes it, once.
    login = w.app.complete_login_code(answer)
    assert w.bank.verify_login(login.code)
    assert_otp_fails(E.NoCodeInProgress, w.app.complete_login_code, answer)


def test_a_login_and_a_transaction_under_way_at_once_each_find_their_request(w):
    w.register()
    tx = transfer(250_000)
    login_request = w.app.begin_login_code("bank-a", PASSWORD, w.phone)
    tx_request = w.app.begin_transaction_code("bank-a", PASSWORD, w.phone, tx)
    login_answer = w.bank.unlock(login_request)
    tx_answer = w.bank.unlock(tx_request)
    # Completed in the other order: each answer finds its own request.
    tx_code = w.app.complete_transaction_code(tx_answer)
    assert tx_code.summary == otp.transaction_summary(tx)
    login = w.app.complete_login_code(login_answer)
    assert w.bank.verify_login(login.code)
    assert w.bank.verify_transaction(tx_code.code, tx)
    # An answer given to the other kind of step is not taken for it.
    w.clock.advance(30)
    answer = w.bank.unlock(w.app.begin_login_code("bank-a", PASSWORD, w.phone))
    assert_otp_fails(E.NoCodeInProgress, w.app.complete_transaction_code, answer)
    assert_otp_fails(E.NoCodeInProgress, w.app.complete_change_password, answer)


# --- storage faults -----------------------------------------------------------------------------


def second_bank_registration_fails_cleanly(w, switch):
    """Registers bank A, then fails bank B's registration with the store's switch
    ``switch`` on during confirm_registration (where the credential is stored):
    StorageFailed, the store exactly as before (the new device key deleted too), bank A
    usable, and bank B registrable once the store is healthy again."""
    serial_a = w.register().serial_number
    before = w.store.snapshot()
    bank_b = w.bank_b()
    request = w.app.begin_registration("bank-b", bank_b.issue_code("customer-1"), w.phone, PASSWORD)
    response = bank_b.answer(request)
    setattr(w.store, switch, True)
    try:
        e = assert_otp_fails(E.StorageFailed, w.app.confirm_registration, response)
    finally:
        setattr(w.store, switch, False)
    assert w.store.snapshot() == before, "nothing half-written"
    assert w.institutions() == ["bank-a"]
    login = w.login("bank-a", PASSWORD, w.phone)
    assert w.bank.verify_login(login.code), "bank A's credential is intact"
    assert w.bank.serial_of("customer-1") == serial_a
    assert bank_b.serial_of("customer-1") is None, "no confirmation reached bank B"
    # The failed attempt is over; a new one succeeds on a healthy store.
    assert_otp_fails(E.NoRegistrationInProgress, w.app.confirm_registration, response)
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
    # A lost write of the request's time means the password is not sent at all.
    unlocks = len(w.bank.unlock_records())
    w.store.drop_writes = True
    try:
        assert_otp_fails(E.StorageFailed, w.app.begin_login_code, "bank-a", WRONG_PASSWORD, w.phone)
    finally:
        w.store.drop_writes = False
    assert len(w.bank.unlock_records()) == unlocks, "no request for the bank to count"
    [a] = [c for c in w.app.credentials(w.phone) if c.institution_id == "bank-a"]
    assert a.attempts_remaining == 5


def test_store_failing_at_complete_registration_keeps_the_outcome_usable(w):
    confirmation = w.app.confirm_registration(
        w.bank.answer(w.app.begin_registration("bank-a", w.bank.issue_code("customer-1"), w.phone, PASSWORD))
    )
    outcome = w.bank.answer(confirmation)
    before = w.store.snapshot()
    w.store.fail_writes = True
    try:
        assert_otp_fails(E.StorageFailed, w.app.complete_registration, "bank-a", outcome)
    finally:
        w.store.fail_writes = False
    assert w.store.snapshot() == before
    assert [c.status for c in w.app.credentials(w.phone)] == [otp.CredentialStatus.REGISTERING]
    # The same outcome completes once the store works.
    assert w.app.complete_registration("bank-a", outcome).status == otp.CredentialStatus.PENDING


# --- several institutions, cancel, reset, password change -------------------------------------


def test_two_institutions_cancelling_bank_a_leaves_bank_b_usable(w):
    bank_b = w.bank_b()
    serial_a = w.register().serial_number
    serial_b = w.register(bank=bank_b, password=OTHER_PASSWORD).serial_number
    listed = w.app.credentials(w.phone)
    assert [c.institution_id for c in listed] == ["bank-a", "bank-b"]
    assert [c.institution_name for c in listed] == ["Bank A", "Bank B"]
    assert [c.serial_number for c in listed] == [serial_a, serial_b]
    assert len(w.store.keys(SOFTWARE_KEY_PREFIX)) == 2, "a device key per credential"
    # Each credential has its own password, counted by its own bank.
    e = assert_otp_fails(E.WrongPassword, w.login, "bank-b", PASSWORD, w.phone)
    assert e.attempts_remaining == 4
    assert w.bank.unlock_records() == [], "bank A saw nothing"
    b = w.login("bank-b", OTHER_PASSWORD, w.phone)
    assert bank_b.verify_login(b.code)

    w.app.cancel("bank-a")
    assert_otp_fails(E.NotRegistered, w.app.begin_login_code, "bank-a", PASSWORD, w.phone)
    assert_otp_fails(E.NotRegistered, w.app.cancel, "bank-a")
    assert w.institutions() == ["bank-b"]
    assert len(w.store.keys(CREDENTIAL_PREFIX)) == 1
    assert len(w.store.keys(SOFTWARE_KEY_PREFIX)) == 1, "bank A's device key went with it"

    w.clock.advance(30)
    b2 = w.login("bank-b", OTHER_PASSWORD, w.phone)
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
    assert_otp_fails(E.NotRegistered, w.app.begin_login_code, "bank-a", PASSWORD, w.phone)
    assert_otp_fails(E.NotRegistered, w.app.begin_login_code, "bank-b", PASSWORD, w.phone)
    w.app.reset_all()  # idempotent


def test_change_password_needs_the_old_password_and_follows_the_policy(w):
    serial = w.register().serial_number
    assert_otp_fails(E.WeakPassword, w.app.begin_change_password, "bank-a", PASSWORD, "111111", w.phone)
    assert w.bank.unlock_records() == [], "a weak new password is refused before any request"
    # The bank evaluates the old and the new password: a wrong old one costs two attempts.
    e = assert_otp_fails(E.WrongPassword, w.change_password, "bank-a", WRONG_PASSWORD, OTHER_PASSWORD, w.phone)
    assert e.attempts_remaining == 3
    w.change_password("bank-a", PASSWORD, OTHER_PASSWORD, w.phone)
    [c] = w.app.credentials(w.phone)
    assert c.attempts_remaining == 5, "a success resets the count"
    assert_otp_fails(E.WrongPassword, w.login, "bank-a", PASSWORD, w.phone)
    login = w.login("bank-a", OTHER_PASSWORD, w.phone)
    assert w.bank.verify_login(login.code), "same seed, new password"
    assert w.bank.state(serial) == "active"


def test_change_password_with_one_attempt_left_confirms_the_old_one_first(w):
    w.register()
    for remaining in (4, 3, 2, 1):
        e = assert_otp_fails(E.WrongPassword, w.login, "bank-a", WRONG_PASSWORD, w.phone)
        assert e.attempts_remaining == remaining
    # Two guesses would pass the count: the bank evaluates the old password alone.
    assert_otp_fails(E.ChangePasswordAgain, w.change_password, "bank-a", PASSWORD, OTHER_PASSWORD, w.phone)
    [c] = w.app.credentials(w.phone)
    assert c.status == otp.CredentialStatus.PENDING
    w.change_password("bank-a", PASSWORD, OTHER_PASSWORD, w.phone)
    assert w.bank.verify_login(w.login("bank-a", OTHER_PASSWORD, w.phone).code)


def test_after_the_lock_every_request_is_answered_locked(w):
    w.register()
    for _ in range(4):
        assert_otp_fails(E.WrongPassword, w.login, "bank-a", WRONG_PASSWORD, w.phone)
    store = w.store.snapshot()
    assert_otp_fails(E.Locked, w.login, "bank-a", WRONG_PASSWORD, w.phone)
    # Put back the copy from before the fifth guess: the bank answers Locked, every time.
    for _ in range(3):
        w.store.restore(store)
        w.clock.advance(1)
        assert_otp_fails(E.Locked, w.login, "bank-a", PASSWORD, w.phone)


def test_an_answer_given_to_the_wrong_step_leaves_its_request_under_way(w):
    w.register()
    request = w.app.begin_login_code("bank-a", PASSWORD, w.phone)
    answer = w.bank.unlock(request)
    assert_otp_fails(E.NoCodeInProgress, w.app.complete_change_password, answer)
    assert_otp_fails(E.NoCodeInProgress, w.app.complete_transaction_code, answer)
    assert w.bank.verify_login(w.app.complete_login_code(answer).code)


# --- concurrency and what is stored -------------------------------------------------------------


def test_unlocks_under_way_in_two_threads_each_find_their_answer(w):
    w.register()
    send = threading.Lock()

    def attempt(password, barrier):
        # The requests reach the bank in the order they were made (a request older than
        # the last one the bank saw is refused as stale); both unlocks are then under
        # way at once, and both threads complete at the same time.
        with send:
            answer = w.bank.unlock(w.app.begin_login_code("bank-a", password, w.phone))
        barrier.wait()
        try:
            return w.app.complete_login_code(answer)
        except E as e:
            return e

    with ThreadPoolExecutor(max_workers=2) as pool:
        barrier = threading.Barrier(2, timeout=10)
        errors = [f.result(timeout=30) for f in [pool.submit(attempt, WRONG_PASSWORD, barrier) for _ in range(2)]]
        for e in errors:
            assert type(e) is E.WrongPassword, f"not WrongPassword: {e!r}"
        assert sorted(e.attempts_remaining for e in errors) == [3, 4]

        # And two threads with the right password both get the (same) code.
        barrier = threading.Barrier(2, timeout=10)
        codes = [f.result(timeout=30) for f in [pool.submit(attempt, PASSWORD, barrier) for _ in range(2)]]
    for code in codes:
        assert isinstance(code, otp.LoginCode), f"not a code: {code!r}"
    assert len({c.code for c in codes}) == 1
    [c] = w.app.credentials(w.phone)
    assert c.attempts_remaining == 5
    assert w.bank.verify_login(codes[0].code)


def test_stored_bytes_never_contain_the_phone_number_device_id_or_password(w):
    code = w.bank.issue_code("customer-1")
    info = w.register(code=code)
    w.login("bank-a", PASSWORD, w.phone)
    w.transaction_code("bank-a", PASSWORD, w.phone, transfer(1_500_000))
    assert_otp_fails(E.WrongPassword, w.login, "bank-a", WRONG_PASSWORD, w.phone)
    w.change_password("bank-a", PASSWORD, OTHER_PASSWORD, w.phone)

    # The documented layout: a device key, an index, one credential under a random name,
    # and (software keys only) the credential's signing key.
    keys = w.store.keys()
    assert len(keys) == 4, keys
    assert "digital-otp.v1.device-key" in keys and "digital-otp.v1.index" in keys, keys
    assert len(w.store.keys(CREDENTIAL_PREFIX)) == 1, keys
    assert len(w.store.keys(SOFTWARE_KEY_PREFIX)) == 1, keys

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
