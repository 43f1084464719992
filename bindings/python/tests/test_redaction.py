"""str() and repr() of the records that carry a code or a transaction show neither the
code nor the payee, the account or the memo (issue 15, item 13)."""

import pytest

import digital_otp as otp

CODE = "90817263"
PAYEE = "홍길동"
ACCOUNT = "110123456789"
MEMO = "rent for March"
SUMMARY = f"Transfer KRW 1,500,000\nPayee: {PAYEE}\nAccount: {ACCOUNT}\nMemo: {MEMO}"


def login_code():
    return otp.LoginCode(
        code=CODE, serial_number="SN-1", valid_from=100, valid_until=130, seconds_remaining=23
    )


def transaction_code():
    return otp.TransactionCode(
        code=CODE, summary=SUMMARY, serial_number="SN-1",
        valid_from=100, valid_until=130, seconds_remaining=23,
    )


def transaction():
    return otp.Transaction(
        amount_minor=1_500_000, currency="KRW", payee_account=ACCOUNT, payee_name=PAYEE, memo=MEMO
    )


RECORDS = [("LoginCode", login_code), ("TransactionCode", transaction_code), ("Transaction", transaction)]


@pytest.mark.parametrize("form", [str, repr, lambda r: f"{r}", lambda r: f"{r!r}", lambda r: str([r])])
@pytest.mark.parametrize("name,make", RECORDS, ids=[n for n, _ in RECORDS])
def test_text_forms_leave_out_the_secrets(name, make, form):
    text = form(make())
    assert text.startswith(name) or text.startswith(f"[{name}"), text
    for secret in (CODE, PAYEE, ACCOUNT, MEMO, "1101234"):
        assert secret not in text, f"{name} shows {secret!r}"


def test_non_secret_facts_are_shown():
    assert "valid_until=130" in str(login_code())
    assert "seconds_remaining=23" in repr(transaction_code())
    text = repr(transaction())
    assert "amount_minor=1500000" in text and "'KRW'" in text


def test_fields_stay_readable():
    # Redaction is of the text forms only: the app still reads what it must show.
    assert login_code().code == CODE
    assert transaction().payee_name == PAYEE
    assert login_code() == login_code()
