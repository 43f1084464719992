"""The bank's side through the Python bindings: a whole branch scenario on an SQLite
database (face-to-face issuance with an SMS gateway written in Python, the app's
registration and activation, verification, the 10-strike lock and its reset, a loss and
its recovery, another institution's OTP device, the audit log's hash chain), then the
issuer's rules one by one (the attestation policy, the audit chain against a rewritten
row among them). Mirrors tests/issuer.rs; the Swift twin is IssuerBranchTests.swift.

The app's password checks cost one PBKDF2 each (~0.2 s): the tests that need a mobile
OTP keep their count of registrations and codes low, and the others use a hardware
token whose codes the ``Totp`` binding computes.
"""

import re
import sqlite3
import threading

import pytest

import digital_otp as otp
from app_support import TestClock, TestStore

IE = otp.IssuerError
ACCEPTED = otp.Verification.ACCEPTED
REJECTED = otp.Verification.REJECTED

T0 = 1_800_000_000
YEAR = 365 * 86_400
STAFF = "branch-001/emp-42"  # the employee at the branch
ADMIN = "admin"  # who sets the issuer up
OPS = "ops"  # who imports hardware tokens
WEB = "web"  # the channel that verifies customers' codes
APP = "mobile-app"  # the channel that registers apps
PHONE = "010-1234-5678"
PHONE_E164 = "+821012345678"
DEVICE_ID = "android-id-1"
PASSWORD = "482915"
MOBILE = "DOTP"  # vendor code of the SDK's mobile OTPs
VENDOR = "VASCO"
SERIAL = "SN0001"
# A hardware token's secret, known to the test (160 bits).
TOKEN_SECRET_HEX = "8f3c2a71d94e0b65c7a1f2e83d590b4a6c7e1d20"
INSTITUTIONS = (("bank-a", "Bank A"), ("bank-b", "Bank B"), ("bank-c", "Bank C"))


class RecordingSms(otp.SmsGateway):
    """An SmsGateway written in Python that keeps every message instead of sending it.
    (UniFFI >= 0.30: a Python implementation of a trait must inherit the generated class.)"""

    def __init__(self):
        self._lock = threading.Lock()
        self._sent = []

    def send(self, phone_number, message):
        with self._lock:
            self._sent.append((phone_number, message))

    @property
    def sent(self):
        """(phone number, message) of every message, oldest first."""
        with self._lock:
            return list(self._sent)

    def last_code(self):
        """The 5-digit verification code of the last message."""
        _, message = self.sent[-1]
        [code] = re.findall(r"(?<!\d)\d{5}(?!\d)", message)
        return code


def new_customer(institution_id, customer_id, kind=otp.CustomerKind.INDIVIDUAL, residency=otp.Residency.DOMESTIC):
    return otp.NewCustomer(
        institution_id=institution_id,
        customer_id=customer_id,
        name="홍길동",
        kind=kind,
        residency=residency,
        phone_number=PHONE,
    )


def set_up(issuer, customers=("kim",)):
    """Adds the three institutions, and ``customers`` (individual, domestic) at each."""
    for institution_id, name in INSTITUTIONS:
        issuer.add_institution(ADMIN, institution_id, name)
        for customer_id in customers:
            issuer.register_customer(STAFF, new_customer(institution_id, customer_id))
    return issuer


def transfer(amount=1_500_000, account="110-123-456789", name="이순신", currency="KRW", memo=None):
    return otp.Transaction(amount_minor=amount, currency=currency, payee_account=account, payee_name=name, memo=memo)


def import_token(issuer, serial=SERIAL, valid_until=T0 + 3 * YEAR):
    """Imports a hardware TOTP token (SHA-1, 6 digits, 30 s) with the known secret;
    returns the ``Totp`` that computes its codes."""
    secret = otp.OtpSecret.from_hex(TOKEN_SECRET_HEX)
    issuer.import_device(
        OPS,
        otp.ImportedDevice(
            vendor_code=VENDOR,
            serial_number=serial,
            secret=secret,
            algorithm=otp.HashAlgorithm.SHA1,
            digits=6,
            period_seconds=30,
            valid_until=valid_until,
        ),
    )
    return otp.Totp(secret, otp.HashAlgorithm.SHA1, 6, 30)


def wrong_code(token, now):
    """A 6-digit code the token does not show in the steps around ``now``."""
    step = token.time_step(now)
    near = {token.code_for_step(s) for s in (step - 1, step, step + 1)}
    return next(c for c in ("000000", "111111", "222222", "333333") if c not in near)


def other_code(code):
    """Another code of the same length (for mobile OTPs, whose codes the test cannot compute)."""
    return f"{(int(code) + 1) % 10 ** len(code):0{len(code)}d}"


class Phone:
    """The customer's phone: the app on a Python store (its device keys in software, in
    the same store) and the test clock, talking to ``issuer`` over the APP channel."""

    def __init__(self, clock, issuer):
        self.store = TestStore()
        self.app = otp.DigitalOtp.with_clock(self.store, otp.software_device_keys(self.store), clock)
        self.device = otp.DeviceInfo(PHONE, DEVICE_ID)
        self.issuer = issuer

    def confirm(self, registration_code, institution_id="bank-a"):
        """Types in the code and the password, sends the request, checks the bank's
        response: the confirmation to send (raises RegistrationRejected on a wrong,
        expired or used code, or an untrusted device key)."""
        request = self.app.begin_registration(institution_id, registration_code, self.device, PASSWORD)
        return self.app.confirm_registration(self.issuer.handle_registration(APP, request))

    def register(self, registration_code, institution_id="bank-a"):
        """The whole registration: request, response, confirmation, outcome."""
        confirmation = self.confirm(registration_code, institution_id)
        return self.app.complete_registration(institution_id, self.issuer.handle_registration(APP, confirmation))

    def login_code(self, institution_id="bank-a"):
        request = self.app.begin_login_code(institution_id, PASSWORD, self.device)
        return self.app.complete_login_code(self.issuer.handle_unlock(APP, request)).code

    def transaction_code(self, transaction, institution_id="bank-a"):
        request = self.app.begin_transaction_code(institution_id, PASSWORD, self.device, transaction)
        return self.app.complete_transaction_code(self.issuer.handle_unlock(APP, request)).code


def assert_audit_whole(issuer):
    """verify_audit finds the hash chain whole, over every entry the log holds."""
    check = issuer.verify_audit()
    assert check.faults == []
    records = issuer.audit(otp.AuditFilter())
    assert check.entries == len(records) > 0
    assert all(re.fullmatch(r"[0-9a-f]{64}", r.hash) for r in records), "every entry is chained"
    assert len({r.hash for r in records}) == len(records)


@pytest.fixture
def clock():
    return TestClock(T0)


@pytest.fixture
def sms():
    return RecordingSms()


@pytest.fixture
def issuer(clock, sms):
    """An issuer in memory with the three institutions and customer kim at each."""
    return set_up(otp.Issuer.in_memory(otp.generate_master_key(), clock, sms))


# --- the whole branch scenario ------------------------------------------------------------------


def test_a_branch_scenario_end_to_end_on_sqlite(tmp_path, clock, sms):
    path = str(tmp_path / "issuer.db")
    key = otp.generate_master_key()
    assert re.fullmatch(r"[0-9a-f]{64}", key)
    issuer = set_up(otp.Issuer.open_sqlite(path, key, clock, sms))

    # Face to face: a 5-digit code goes to the customer's phone; the employee types in
    # what the customer shows. A wrong code is counted; the right one gives the
    # registration code to hand over, once.
    issuer.start_face_to_face(STAFF, "bank-a", "kim")
    assert [phone for phone, _ in sms.sent] == [PHONE_E164]
    shown = sms.last_code()
    wrong = "00000" if shown != "00000" else "11111"
    with pytest.raises(IE.WrongVerificationCode) as info:
        issuer.confirm_face_to_face(STAFF, "bank-a", "kim", wrong)
    assert info.value.attempts_remaining == 4
    registration_code = issuer.confirm_face_to_face(STAFF, "bank-a", "kim", shown)
    assert re.fullmatch(r"\d{4}-\d{4}-\d{4}", registration_code)
    otp.check_registration_code(registration_code)
    with pytest.raises(IE.NoVerificationPending):
        issuer.confirm_face_to_face(STAFF, "bank-a", "kim", shown)

    # The app registers with it: pending at the bank until the first code verifies.
    phone = Phone(clock, issuer)
    info = phone.register(registration_code)
    assert info.status == otp.CredentialStatus.PENDING
    assert (info.institution_id, info.institution_name) == ("bank-a", "Bank A")
    serial = info.serial_number

    def device():
        return issuer.device_inquiry(STAFF, "bank-a", MOBILE, serial)

    def verify(code):
        return issuer.verify_login(WEB, "bank-a", "kim", code)

    d = device()
    assert (d.vendor_code, d.serial_number, d.kind) == (MOBILE, serial, otp.DeviceKind.MOBILE)
    assert (d.state, d.error_count, d.expired) == (otp.DeviceState.ACTIVE, 0, False)
    assert d.valid_until == info.valid_until
    [registration] = d.registrations
    assert (registration.institution_id, registration.customer_id) == ("bank-a", "kim")
    assert registration.state == otp.RegistrationState.PENDING

    # Activation: the first login code verifies; then a replay is refused (not counted),
    # and the next time step's code verifies.
    first = phone.login_code()
    assert verify(first) == ACCEPTED
    assert device().registrations[-1].state == otp.RegistrationState.ACTIVE
    phone.app.confirm_activation("bank-a")
    assert verify(first) == REJECTED, "replay"
    assert device().error_count == 0, "a replay is not counted"
    clock.advance(30)
    assert verify(phone.login_code()) == ACCEPTED

    # Ten wrong codes lock the device; then even a right code is refused.
    clock.advance(30)
    right = phone.login_code()
    wrong = other_code(right)
    for _ in range(10):
        assert verify(wrong) == REJECTED
    d = device()
    assert (d.state, d.error_count) == (otp.DeviceState.LOCKED, 10)
    assert verify(right) == REJECTED, "locked"
    latest = [h for h in device().history if h.action == "verify_login"][0]
    assert (latest.actor, latest.outcome, latest.detail) == (WEB, "rejected", "device locked (error count)")

    # The branch resets the count: the same code now verifies.
    issuer.reset_error_count(STAFF, "bank-a", MOBILE, serial)
    d = device()
    assert (d.state, d.error_count) == (otp.DeviceState.ACTIVE, 0)
    assert verify(right) == ACCEPTED

    # A loss is reported: a code made before is refused, and the phone cannot make a new
    # one (the bank no longer answers its unlocks); recovered at the branch: accepted again.
    clock.advance(30)
    before_loss = phone.login_code()
    issuer.report_accident(STAFF, "bank-a", MOBILE, serial, otp.AccidentKind.LOST)
    assert device().state == otp.DeviceState.LOST
    assert verify(before_loss) == REJECTED
    with pytest.raises(otp.DigitalOtpError.NotUsable):
        phone.login_code()
    issuer.recover(STAFF, "bank-a", MOBILE, serial)
    assert device().state == otp.DeviceState.ACTIVE
    with pytest.raises(IE.InvalidState):
        issuer.recover(STAFF, "bank-a", MOBILE, serial)
    assert verify(before_loss) == ACCEPTED
    clock.advance(30)
    assert verify(phone.login_code()) == ACCEPTED

    # Another institution's OTP device: a hardware token issued by bank B (imported
    # with its secret, handed over there), registered at bank C by vendor code and
    # serial number with a current code as proof of possession.
    token = import_token(issuer)
    issuer.register_device(STAFF, "bank-b", "kim", VENDOR, SERIAL)
    now = clock.seconds
    with pytest.raises(IE.PossessionNotProven):
        issuer.register_device(STAFF, "bank-c", "kim", VENDOR, SERIAL, wrong_code(token, now))
    proof = token.code_at(now).code
    issuer.register_device(STAFF, "bank-c", "kim", VENDOR, SERIAL, proof)
    t = issuer.device_inquiry(STAFF, "bank-c", VENDOR, SERIAL)
    assert (t.kind, t.state, t.error_count) == (otp.DeviceKind.HARDWARE, otp.DeviceState.ACTIVE, 0)
    # Bank C's staff see bank B's registration without its customer; the centre's see all.
    assert [(r.institution_id, r.customer_id, r.state) for r in t.registrations] == [
        ("bank-b", "", otp.RegistrationState.ACTIVE),
        ("bank-c", "kim", otp.RegistrationState.ACTIVE),
    ]
    centre = otp.DeskContext(channel=otp.DeskChannel.BRANCH, role=otp.StaffRole.CENTRE_STAFF)
    everything = issuer.device_inquiry("centre-1", "bank-c", VENDOR, SERIAL, centre)
    assert [r.customer_id for r in everything.registrations] == ["kim", "kim"]
    by_phone = otp.DeskContext(channel=otp.DeskChannel.PHONE, role=otp.StaffRole.INSTITUTION_STAFF)
    with pytest.raises(IE.NotPermitted):
        issuer.reset_error_count("call-centre", "bank-c", VENDOR, SERIAL, by_phone)
    assert issuer.verify_login(WEB, "bank-c", "kim", proof) == REJECTED, "the proof used the code"
    clock.advance(30)
    assert issuer.verify_login(WEB, "bank-c", "kim", token.code_at(clock.seconds).code) == ACCEPTED
    # Bank A's customer still has the mobile OTP, bank C the token.
    [mobile] = issuer.customer_inquiry(STAFF, "bank-a", "kim").devices
    assert mobile.serial_number == serial
    [hardware] = issuer.customer_inquiry(STAFF, "bank-c", "kim").devices
    assert (hardware.vendor_code, hardware.serial_number) == (VENDOR, SERIAL)

    # Everything is in the database: reopened with the same key, the states are there.
    actions = {r.action for r in issuer.audit(otp.AuditFilter(subject=f"device:{MOBILE}:{serial}"))}
    expected = {"register_mobile_otp", "unlock", "verify_login", "reset_error_count", "report_accident", "recover_accident"}
    assert expected <= actions, actions
    assert_audit_whole(issuer)
    before = device()
    del issuer
    reopened = otp.Issuer.open_sqlite(path, key, clock, sms)
    phone.issuer = reopened
    after = reopened.device_inquiry(STAFF, "bank-a", MOBILE, serial)
    assert (after.state, after.error_count, after.registrations) == (before.state, before.error_count, before.registrations)
    clock.advance(30)
    assert reopened.verify_login(WEB, "bank-a", "kim", phone.login_code()) == ACCEPTED
    assert_audit_whole(reopened)


# --- the rules, one by one ---------------------------------------------------------------------


def test_corporations_and_foreign_customers_are_not_eligible(issuer, sms):
    issuer.register_customer(STAFF, new_customer("bank-a", "acme", kind=otp.CustomerKind.CORPORATION))
    issuer.register_customer(STAFF, new_customer("bank-a", "smith", residency=otp.Residency.FOREIGN))
    for who in ("acme", "smith"):
        with pytest.raises(IE.NotEligible) as info:
            issuer.issue_non_face_to_face(WEB, "bank-a", who, "kyc-77")
        assert "physical OTP" in info.value.reason, info.value.reason
        with pytest.raises(IE.NotEligible):
            issuer.start_face_to_face(STAFF, "bank-a", who)
        refused = issuer.audit(otp.AuditFilter(subject=f"customer:{who}", action="issue_registration_code"))
        assert [r.outcome for r in refused] == ["refused"]
    assert sms.sent == [], "no SMS for an ineligible customer"
    report = issuer.customer_inquiry(STAFF, "bank-a", "acme")
    assert (report.kind, report.residency) == (otp.CustomerKind.CORPORATION, otp.Residency.DOMESTIC)
    # A physical OTP is what they get.
    import_token(issuer)
    issuer.register_device(STAFF, "bank-a", "acme", VENDOR, SERIAL)
    assert [d.serial_number for d in issuer.customer_inquiry(STAFF, "bank-a", "acme").devices] == [SERIAL]
    # Unknown customers and institutions are refused as such.
    with pytest.raises(IE.UnknownCustomer):
        issuer.issue_non_face_to_face(WEB, "bank-a", "nobody", "kyc-77")
    with pytest.raises(IE.UnknownInstitution):
        issuer.register_customer(STAFF, new_customer("bank-x", "kim"))


def test_an_expired_registration_code_is_rejected(issuer, clock, sms):
    code = issuer.issue_non_face_to_face(WEB, "bank-a", "kim", "kyc-77")
    phone = Phone(clock, issuer)
    request = phone.app.begin_registration("bank-a", code, phone.device, PASSWORD)
    clock.advance(601)  # a registration code lives 10 minutes
    response = issuer.handle_registration(APP, request)
    # The bank answers an expired code like any other failure: the phone's check fails.
    with pytest.raises(otp.DigitalOtpError.RegistrationRejected):
        phone.app.confirm_registration(response)
    assert phone.app.credentials(phone.device) == []
    assert issuer.customer_inquiry(STAFF, "bank-a", "kim").devices == []
    [entry] = issuer.audit(otp.AuditFilter(action="register_mobile_otp"))
    assert (entry.actor, entry.outcome, entry.detail) == (APP, "rejected", "expired registration code")
    # The face-to-face SMS code lives 5 minutes.
    issuer.start_face_to_face(STAFF, "bank-a", "kim")
    shown = sms.last_code()
    clock.advance(301)
    with pytest.raises(IE.NoVerificationPending):
        issuer.confirm_face_to_face(STAFF, "bank-a", "kim", shown)


def test_customers_hear_only_accepted_or_rejected_while_staff_see_why(issuer, clock):
    token = import_token(issuer, valid_until=T0 + 86_400)
    issuer.register_device(STAFF, "bank-a", "kim", VENDOR, SERIAL)
    issuer.register_customer(STAFF, new_customer("bank-a", "lee"))
    verdicts = []

    def verify(code, customer="kim"):
        verdict = issuer.verify_login(WEB, "bank-a", customer, code)
        assert type(verdict) is otp.Verification
        verdicts.append(verdict)
        return verdict

    def device():
        return issuer.device_inquiry(STAFF, "bank-a", VENDOR, SERIAL)

    def now_code():
        return token.code_at(clock.seconds).code

    verify(now_code(), customer="lee")  # no OTP device
    verify(wrong_code(token, clock.seconds))  # wrong
    code = now_code()
    verify(code)
    verify(code)  # replay
    issuer.report_accident(STAFF, "bank-a", VENDOR, SERIAL, otp.AccidentKind.LOST)
    clock.advance(30)
    verify(now_code())  # lost
    assert device().state == otp.DeviceState.LOST
    issuer.recover(STAFF, "bank-a", VENDOR, SERIAL)
    verify(now_code())
    for _ in range(10):
        verify(wrong_code(token, clock.seconds))
    assert (device().state, device().error_count) == (otp.DeviceState.LOCKED, 10)
    clock.advance(30)
    verify(now_code())  # locked
    issuer.reset_error_count(STAFF, "bank-a", VENDOR, SERIAL)
    clock.advance(86_400)
    verify(now_code())  # expired
    assert device().expired

    assert verdicts == [REJECTED, REJECTED, ACCEPTED, REJECTED, REJECTED, ACCEPTED] + [REJECTED] * 12
    # The staff see why, in the audit log (oldest first here) and in the inquiry.
    log = list(reversed(issuer.audit(otp.AuditFilter(action="verify_login"))))
    assert [r.detail for r in log] == [
        "no OTP device",
        "wrong code; error count 1",
        "accepted",
        "code already used",
        "device reported lost",
        "accepted",
        *[f"wrong code; error count {n}" for n in range(1, 10)],
        "wrong code; error count 10: device locked",
        "device locked (error count)",
        "device expired",
    ]
    assert [r.outcome for r in log] == ["ok" if v == ACCEPTED else "rejected" for v in verdicts]
    assert log[0].subject == "customer:lee"
    assert {r.subject for r in log[1:]} == {f"device:{VENDOR}:{SERIAL}"}
    history = [r.detail for r in device().history if r.action == "verify_login"]
    assert history == [r.detail for r in reversed(log[1:])], "the device's history, newest first"


def test_audit_entries_have_actors_and_never_contain_a_code(issuer, clock, sms):
    issuer.start_face_to_face(STAFF, "bank-a", "kim")
    shown = sms.last_code()
    wrong_sms = "00000" if shown != "00000" else "11111"
    with pytest.raises(IE.WrongVerificationCode):
        issuer.confirm_face_to_face(STAFF, "bank-a", "kim", wrong_sms)
    registration_code = issuer.confirm_face_to_face(STAFF, "bank-a", "kim", shown)
    phone = Phone(clock, issuer)
    serial = phone.register(registration_code).serial_number
    # The used registration code again: rejected, and recorded without the code.
    with pytest.raises(otp.DigitalOtpError.RegistrationRejected):
        phone.confirm(registration_code)
    login = phone.login_code()
    wrong_login = other_code(login)
    assert issuer.verify_login(WEB, "bank-a", "kim", wrong_login) == REJECTED
    assert issuer.verify_login(WEB, "bank-a", "kim", login) == ACCEPTED
    tx = transfer()
    tx_code = phone.transaction_code(tx)
    assert issuer.verify_transaction(WEB, "bank-a", "kim", tx_code, tx) == ACCEPTED
    issuer.customer_inquiry(STAFF, "bank-a", "kim")

    records = issuer.audit(otp.AuditFilter())
    assert [r.id for r in records] == sorted((r.id for r in records), reverse=True), "newest first"
    for r in records:
        assert r.actor.strip() and r.action.strip(), r
        assert r.outcome in ("ok", "rejected", "refused"), r
        assert r.at == T0
    actor_of = {}
    for r in records:
        actor_of.setdefault(r.action, set()).add(r.actor)
    assert actor_of["add_institution"] == {ADMIN}
    assert actor_of["start_face_to_face"] == actor_of["confirm_face_to_face"] == {STAFF}
    assert actor_of["issue_registration_code"] == {STAFF}
    assert actor_of["register_mobile_otp"] == actor_of["unlock"] == {APP}
    assert actor_of["verify_login"] == actor_of["verify_transaction"] == {WEB}
    assert actor_of["customer_inquiry"] == {STAFF}
    details = {(r.action, r.outcome, r.detail) for r in records}
    assert ("confirm_face_to_face", "rejected", "wrong verification code") in details
    assert ("register_mobile_otp", "rejected", "no outstanding code for this phone") in details

    # No code, password or key: not as a whole number in any field of any entry.
    texts = [
        " ".join((r.institution_id, r.actor, r.action, r.subject, r.outcome, r.detail))
        for r in records + issuer.device_inquiry(STAFF, "bank-a", MOBILE, serial).history
    ]
    for secret in (
        shown, wrong_sms, registration_code, registration_code.replace("-", ""),
        login, wrong_login, tx_code, PASSWORD, DEVICE_ID, PHONE, PHONE_E164,
    ):
        pattern = re.compile(rf"(?<![0-9]){re.escape(secret)}(?![0-9])")
        for text in texts:
            assert not pattern.search(text), f"{secret!r} in the audit log: {text}"
    # Filters: the limit, and the time range (`from` is `_from` in Python).
    assert len(issuer.audit(otp.AuditFilter(limit=2))) == 2
    assert issuer.audit(otp.AuditFilter(_from=T0 + 1)) == []
    everything = issuer.audit(otp.AuditFilter())
    assert issuer.audit(otp.AuditFilter(_from=T0, until=T0 + 1)) == everything
    assert issuer.purge_expired_audit() == 0, "kept ten years"
    assert_audit_whole(issuer)


def test_reopening_the_database_with_another_master_key_is_refused(tmp_path, clock):
    path = str(tmp_path / "issuer.db")
    key = otp.generate_master_key()
    other = otp.generate_master_key()
    assert key != other
    issuer = set_up(otp.Issuer.open_sqlite(path, key, clock))
    token = import_token(issuer)
    issuer.register_device(STAFF, "bank-a", "kim", VENDOR, SERIAL)
    del issuer

    with pytest.raises(IE.MasterKey) as info:
        otp.Issuer.open_sqlite(path, other, clock)
    assert "not the master key" in info.value.reason, info.value.reason
    assert other not in str(info.value) and key not in str(info.value)
    for malformed in ("", "00" * 31, "zz" * 32):
        with pytest.raises(IE.MasterKey):
            otp.Issuer.open_sqlite(path, malformed, clock)

    # The right key opens it, and unseals the token's secret.
    reopened = otp.Issuer.open_sqlite(path, key, clock)
    assert [d.serial_number for d in reopened.customer_inquiry(STAFF, "bank-a", "kim").devices] == [SERIAL]
    assert reopened.verify_login(WEB, "bank-a", "kim", token.code_at(T0).code) == ACCEPTED
    # Neither the key nor the secret is in the database files.
    needles = [key.encode(), bytes.fromhex(key), TOKEN_SECRET_HEX.encode(), bytes.fromhex(TOKEN_SECRET_HEX)]
    files = [f for f in tmp_path.iterdir() if f.name.startswith("issuer.db")]
    assert files
    for f in files:
        data = f.read_bytes()
        for needle in needles:
            assert needle not in data, f"{f.name} holds a key or secret"


def test_transaction_codes_verify_only_for_the_same_transaction(issuer, clock):
    phone = Phone(clock, issuer)
    serial = phone.register(issuer.issue_non_face_to_face(WEB, "bank-a", "kim", "kyc-77")).serial_number
    tx = transfer()
    code = phone.transaction_code(tx)
    assert re.fullmatch(r"\d{8}", code)

    def verify(transaction):
        return issuer.verify_transaction(WEB, "bank-a", "kim", code, transaction)

    for changed in (
        transfer(amount=1_500_001),
        transfer(account="110-123-456788"),
        transfer(name="홍길동"),
        transfer(currency="USD"),
        transfer(memo="rent"),
    ):
        assert verify(changed) == REJECTED, changed
    # The same transfer, with the account written another way.
    assert verify(transfer(account="110 123 456789")) == ACCEPTED
    assert verify(tx) == REJECTED, "replay"
    # An 8-digit transaction code is not of a login code's form: refused, not counted.
    with pytest.raises(IE.InvalidInput):
        issuer.verify_login(WEB, "bank-a", "kim", code)
    d = issuer.device_inquiry(STAFF, "bank-a", MOBILE, serial)
    assert d.registrations[-1].state == otp.RegistrationState.ACTIVE, "a transaction code activates too"
    assert d.error_count == 0
    with pytest.raises(IE.InvalidInput):
        verify(transfer(amount=0))
    # Another institution's customer: no device there.
    assert issuer.verify_transaction(WEB, "bank-b", "kim", code, tx) == REJECTED


def test_unknown_device_for_a_wrong_vendor_or_serial(issuer):
    token = import_token(issuer)
    issuer.register_device(STAFF, "bank-a", "kim", VENDOR, SERIAL)
    proof = token.code_at(T0).code
    for vendor, serial in (("WRONG", SERIAL), (VENDOR, "SN9999"), (MOBILE, SERIAL)):
        calls = [
            lambda: issuer.register_device(STAFF, "bank-b", "kim", vendor, serial),
            lambda: issuer.register_device(STAFF, "bank-b", "kim", vendor, serial, proof),
            lambda: issuer.device_inquiry(STAFF, "bank-a", vendor, serial),
            lambda: issuer.report_accident(STAFF, "bank-a", vendor, serial, otp.AccidentKind.STOLEN),
            lambda: issuer.recover(STAFF, "bank-a", vendor, serial),
            lambda: issuer.reset_error_count(STAFF, "bank-a", vendor, serial),
        ]
        for call in calls:
            with pytest.raises(IE.UnknownDevice):
                call()
    with pytest.raises(IE.DeviceExists):
        import_token(issuer)
    # The real one is untouched: registered at bank A only, usable.
    d = issuer.device_inquiry(STAFF, "bank-a", VENDOR, SERIAL)
    assert ([r.institution_id for r in d.registrations], d.state) == (["bank-a"], otp.DeviceState.ACTIVE)
    assert issuer.verify_login(WEB, "bank-a", "kim", proof) == ACCEPTED
    refused = issuer.audit(otp.AuditFilter(subject=f"device:WRONG:{SERIAL}"))
    assert refused and {r.outcome for r in refused} == {"refused"}


def test_required_attestation_refuses_a_software_device_key(issuer, clock):
    issuer.set_attestation_policy(ADMIN, "bank-a", otp.AttestationPolicy(requirement=otp.Requirement.REQUIRE), False)
    [entry] = issuer.audit(otp.AuditFilter(action="set_attestation_policy"))
    assert (entry.actor, entry.institution_id, entry.outcome) == (ADMIN, "bank-a", "ok")
    code = issuer.issue_non_face_to_face(WEB, "bank-a", "kim", "kyc-77")
    phone = Phone(clock, issuer)
    # software_device_keys bring no attestation evidence: bank A refuses the key.
    with pytest.raises(otp.DigitalOtpError.RegistrationRejected) as info:
        phone.confirm(code)
    assert "attest" in info.value.reason, info.value.reason
    assert phone.app.credentials(phone.device) == []
    assert phone.store.is_empty(), "no credential, and the refused device key deleted"
    assert issuer.customer_inquiry(STAFF, "bank-a", "kim").devices == []
    [refused] = issuer.audit(otp.AuditFilter(action="register_mobile_otp"))
    assert (refused.actor, refused.outcome) == (APP, "rejected")
    assert refused.detail.startswith("device key not trusted"), refused.detail

    # The policy is bank A's: bank B (attestation off by default) takes the same phone's key.
    info_b = phone.register(issuer.issue_non_face_to_face(WEB, "bank-b", "kim", "kyc-78"), "bank-b")
    assert info_b.status == otp.CredentialStatus.PENDING
    # Under WARN an unattested key is accepted and recorded as such; the refused device
    # did not spend a guess of bank A's code, which still registers.
    issuer.set_attestation_policy(ADMIN, "bank-a", otp.AttestationPolicy(requirement=otp.Requirement.WARN), False)
    info_a = phone.register(code)
    assert info_a.status == otp.CredentialStatus.PENDING
    registered = [r for r in issuer.audit(otp.AuditFilter(action="register_mobile_otp", subject=f"device:{MOBILE}:{info_a.serial_number}"))]
    assert [r.outcome for r in registered] == ["ok"]
    assert "not attested" in registered[0].detail, registered[0].detail
    assert issuer.verify_login(WEB, "bank-a", "kim", phone.login_code()) == ACCEPTED


def test_verify_audit_reports_an_audit_row_rewritten_in_the_database(tmp_path, clock):
    path = str(tmp_path / "issuer.db")
    key = otp.generate_master_key()
    issuer = set_up(otp.Issuer.open_sqlite(path, key, clock))
    phone = Phone(clock, issuer)
    phone.register(issuer.issue_non_face_to_face(WEB, "bank-a", "kim", "kyc-77"))
    assert issuer.verify_login(WEB, "bank-a", "kim", phone.login_code()) == ACCEPTED
    assert_audit_whole(issuer)
    [unlock] = issuer.audit(otp.AuditFilter(action="unlock"))

    db = sqlite3.connect(path)
    try:
        # The database itself refuses to rewrite the log...
        with pytest.raises(sqlite3.IntegrityError, match="append-only"):
            with db:
                db.execute("UPDATE audit SET detail = 'rewritten' WHERE id = ?", (unlock.id,))
        # ...but whoever can write the file can drop the trigger first.
        with db:
            db.execute("DROP TRIGGER audit_append_only")
            changed = db.execute(
                "UPDATE audit SET detail = ? WHERE id = ?",
                (unlock.detail.replace("4 wrong", "5 wrong"), unlock.id),
            ).rowcount
        assert changed == 1
    finally:
        db.close()

    check = issuer.verify_audit()
    assert len(check.faults) == 1, check.faults
    assert re.search(rf"\bentry {unlock.id}\b", check.faults[0]), check.faults[0]
    # The log itself still reads; only the chain tells.
    [rewritten] = issuer.audit(otp.AuditFilter(action="unlock"))
    assert rewritten.detail != unlock.detail
    # Reopened, the database reports the same fault.
    del issuer
    assert otp.Issuer.open_sqlite(path, key, clock).verify_audit().faults == check.faults
