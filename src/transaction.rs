//! Transfers bound to a code (OCRA, RFC 6287).
//!
//! The canonical encoding, shared by the app and the issuer, is UTF-8 text with one
//! field per line, each line ending in `\n`, in this order:
//!
//! ```text
//! DOTP-TX/1
//! amount:<amount in minor units, decimal, no leading zeros>
//! currency:<ISO 4217 code, upper case>
//! payee_account:<account with spaces and hyphens removed>
//! payee_name:<name in NFC, trimmed, inner runs of spaces collapsed to one space>
//! memo:<memo, normalized the same way; empty if none>
//! ```
//!
//! The OCRA question is the SHA-256 of those bytes as 64 upper-case hex digits, for a
//! `QH64` suite with a timestamp (by default `OCRA-1:HOTP-SHA256-8:QH64-T30S`). A code
//! therefore verifies only for exactly the same amount, currency, payee account, payee
//! name and memo. Names and memos are put in Unicode NFC on both sides (a name typed in
//! NFD gives the same code), and refused when they hold a control, format or
//! bidirectional-control character, a line break or an uncomposable mark (`crate::text`):
//! such characters can make what the customer confirms look unlike what is bound.
//! Currencies are ISO 4217 codes in use, each with its own minor unit (`KRW` 0, `USD`
//! 2, `KWD` 3). The summary shows the amount, the payee's name, the account and the memo
//! on lines of their own, so no name can pass for an account.

use std::fmt::Write as _;

/// Why a transaction was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TransactionError {
    /// Amount zero.
    #[error("the amount must be greater than zero")]
    Amount,
    /// Not an ISO 4217 currency code in use.
    #[error("the currency must be an ISO 4217 code in use, such as KRW or USD")]
    Currency,
    /// Account empty, too long, or with characters other than letters and digits.
    #[error(
        "the payee account must be 1 to 34 letters or digits (spaces and hyphens are ignored)"
    )]
    Account,
    /// Name empty, too long, or with control, format or bidirectional characters, line
    /// breaks, or marks that do not compose.
    #[error(
        "the payee name must be 1 to 100 characters, without control, format or \
         bidirectional characters, line breaks or stray combining marks"
    )]
    Name,
    /// Memo too long or with the characters refused in names.
    #[error(
        "the memo must be at most 100 characters, without control, format or \
         bidirectional characters, line breaks or stray combining marks"
    )]
    Memo,
}

/// A transfer to confirm with a code. See `transaction_summary` for what the app must show.
#[derive(Clone, PartialEq, Eq, uniffi::Record)]
pub struct Transaction {
    /// Amount in minor units (won for KRW, cents for USD); greater than zero.
    pub amount_minor: u64,
    /// ISO 4217 currency code, e.g. `KRW`.
    pub currency: String,
    /// The payee's account number (spaces and hyphens ignored).
    pub payee_account: String,
    /// The payee's name.
    pub payee_name: String,
    /// An optional memo.
    #[uniffi(default)]
    pub memo: Option<String>,
}

impl std::fmt::Debug for Transaction {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Account numbers and names are personal data: keep them out of logs.
        f.debug_struct("Transaction")
            .field("amount_minor", &self.amount_minor)
            .field("currency", &self.currency)
            .finish_non_exhaustive()
    }
}

/// NFC, refused characters out, trimmed, inner runs of spaces collapsed to one.
fn normalize(text: &str) -> Option<String> {
    let nfc = crate::text::nfc(text).ok()?;
    Some(nfc.split_whitespace().collect::<Vec<_>>().join(" "))
}

/// A checked, normalized transaction.
#[derive(Clone, PartialEq, Eq)]
pub struct Canonical {
    amount_minor: u64,
    currency: String,
    account: String,
    name: String,
    memo: String,
}

impl Transaction {
    /// Checks and normalizes the fields.
    pub fn canonical(&self) -> Result<Canonical, TransactionError> {
        if self.amount_minor == 0 {
            return Err(TransactionError::Amount);
        }
        let currency = self.currency.trim().to_ascii_uppercase();
        if minor_digits(&currency).is_none() {
            return Err(TransactionError::Currency);
        }
        let account: String =
            self.payee_account.chars().filter(|c| !matches!(c, ' ' | '-')).collect();
        if account.is_empty()
            || account.len() > 34
            || !account.bytes().all(|b| b.is_ascii_alphanumeric())
        {
            return Err(TransactionError::Account);
        }
        let name = normalize(&self.payee_name).ok_or(TransactionError::Name)?;
        if name.is_empty() || name.chars().count() > 100 {
            return Err(TransactionError::Name);
        }
        let memo = match self.memo.as_deref() {
            None => String::new(),
            Some(m) => normalize(m).ok_or(TransactionError::Memo)?,
        };
        if memo.chars().count() > 100 {
            return Err(TransactionError::Memo);
        }
        Ok(Canonical { amount_minor: self.amount_minor, currency, account, name, memo })
    }
}

/// The ISO 4217 currencies in use (list one, 2024), with 0 or 3 digits after the decimal
/// point; every other one has 2. Funds, precious metals and testing codes are refused.
// Packed three letters per code, so the list costs its letters only in the mobile library.
const CURRENCIES_0: &str = "BIFCLPDJFGNFISKJPYKMFKRWPYGRWFUGXUYIVNDVUVXAFXOFXPF";
const CURRENCIES_2: &str = concat!(
    "AEDAFNALLAMDANGAOAARSAUDAWGAZNBAMBBDBDTBGNBMDBNDBOBBRLBSDBTNBWPBYNBZDCADCDFCHFCNYCOP",
    "CRCCUPCVECZKDKKDOPDZDEGPERNETBEURFJDFKPGBPGELGHSGIPGMDGTQGYDHKDHNLHTGHUFIDRILSINRIRR",
    "JMDKESKGSKHRKPWKYDKZTLAKLBPLKRLRDLSLMADMDLMGAMKDMMKMNTMOPMRUMURMVRMWKMXNMYRMZNNADNGN",
    "NIONOKNPRNZDPABPENPGKPHPPKRPLNQARRONRSDRUBSARSBDSCRSDGSEKSGDSHPSLESOSSRDSSPSTNSVCSYP",
    "SZLTHBTJSTMTTOPTRYTTDTWDTZSUAHUSDUYUUZSVESWSTXCDYERZARZMWZWG",
);
const CURRENCIES_3: &str = "BHDIQDJODKWDLYDOMRTND";
const CURRENCIES_4: &str = "CLFUYW";

/// Digits after the decimal point for an ISO 4217 currency in use; `None` for any other.
fn minor_digits(currency: &str) -> Option<u32> {
    let code = currency.as_bytes();
    [(CURRENCIES_0, 0), (CURRENCIES_2, 2), (CURRENCIES_3, 3), (CURRENCIES_4, 4)]
        .into_iter()
        .find(|(list, _)| code.len() == 3 && list.as_bytes().chunks(3).any(|c| c == code))
        .map(|(_, d)| d)
}

fn group_thousands(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    out
}

impl std::fmt::Debug for Canonical {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Canonical")
            .field("amount_minor", &self.amount_minor)
            .finish_non_exhaustive()
    }
}

impl Canonical {
    /// The canonical bytes (see the module documentation).
    pub fn encode(&self) -> String {
        format!(
            "DOTP-TX/1\namount:{}\ncurrency:{}\npayee_account:{}\npayee_name:{}\nmemo:{}\n",
            self.amount_minor, self.currency, self.account, self.name, self.memo
        )
    }

    /// The OCRA question: SHA-256 of the canonical bytes, 64 upper-case hex digits.
    pub fn question(&self) -> String {
        let digest = crate::crypto::sha256(self.encode().as_bytes());
        let mut q = String::with_capacity(64);
        for b in digest {
            let _ = write!(q, "{b:02X}");
        }
        q
    }

    /// The amount for display: `KRW 1,500,000`, `USD 12.50`.
    pub fn amount_display(&self) -> String {
        let d = minor_digits(&self.currency).unwrap_or(2);
        let unit = 10u64.pow(d);
        let whole = group_thousands(self.amount_minor / unit);
        if d == 0 {
            format!("{} {whole}", self.currency)
        } else {
            format!(
                "{} {whole}.{:0width$}",
                self.currency,
                self.amount_minor % unit,
                width = d as usize
            )
        }
    }

    /// What the app must show before the customer confirms, one field per line (a name
    /// holds no line break, so it cannot pass for the account):
    ///
    /// ```text
    /// Transfer KRW 1,500,000
    /// Payee: 홍길동
    /// Account: 110123456789
    /// Memo: rent            (only when there is a memo)
    /// ```
    pub fn summary(&self) -> String {
        let mut s = format!(
            "Transfer {}\nPayee: {}\nAccount: {}",
            self.amount_display(),
            self.name,
            self.account
        );
        if !self.memo.is_empty() {
            let _ = write!(s, "\nMemo: {}", self.memo);
        }
        s
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tx() -> Transaction {
        Transaction {
            amount_minor: 1_500_000,
            currency: "krw".into(),
            payee_account: "110-123-456789".into(),
            payee_name: "  홍길동  ".into(),
            memo: None,
        }
    }

    #[test]
    fn canonical_encoding_is_documented_text() {
        let c = tx().canonical().unwrap();
        assert_eq!(
            c.encode(),
            "DOTP-TX/1\namount:1500000\ncurrency:KRW\npayee_account:110123456789\npayee_name:홍길동\nmemo:\n"
        );
        assert_eq!(c.question().len(), 64);
        assert_eq!(c.summary(), "Transfer KRW 1,500,000\nPayee: 홍길동\nAccount: 110123456789");
        let usd = Transaction {
            amount_minor: 1250,
            currency: "USD".into(),
            memo: Some(" rent  june ".into()),
            ..tx()
        };
        assert_eq!(
            usd.canonical().unwrap().summary(),
            "Transfer USD 12.50\nPayee: 홍길동\nAccount: 110123456789\nMemo: rent june"
        );
    }

    #[test]
    fn equivalent_spellings_share_a_question_and_changes_do_not() {
        let base = tx().canonical().unwrap().question();
        let same = Transaction {
            payee_account: "110 123 456789".into(),
            currency: "KRW".into(),
            payee_name: "홍길동".into(),
            ..tx()
        };
        assert_eq!(same.canonical().unwrap().question(), base);
        for changed in [
            Transaction { amount_minor: 1_500_001, ..tx() },
            Transaction { currency: "USD".into(), ..tx() },
            Transaction { payee_account: "110123456788".into(), ..tx() },
            Transaction { payee_name: "홍길순".into(), ..tx() },
            Transaction { memo: Some("x".into()), ..tx() },
        ] {
            assert_ne!(changed.canonical().unwrap().question(), base);
        }
    }

    #[test]
    fn bad_fields() {
        assert_eq!(
            Transaction { amount_minor: 0, ..tx() }.canonical().unwrap_err(),
            TransactionError::Amount
        );
        for c in ["", "KR", "KRWW", "K1W", "원화", "WON", "XAU", "XTS", "ABC"] {
            assert_eq!(
                Transaction { currency: c.into(), ..tx() }.canonical().unwrap_err(),
                TransactionError::Currency
            );
        }
        for a in ["", "--", "12/34", &"1".repeat(35)] {
            assert_eq!(
                Transaction { payee_account: a.into(), ..tx() }.canonical().unwrap_err(),
                TransactionError::Account
            );
        }
        for n in [
            "",
            "   ",
            "a\u{0}b",
            &"가".repeat(101),
            "홍길동\n(account 999)",
            "홍길동\t",
            "홍\u{200B}길동",
            "홍길동\u{202E}999",
            "\u{2067}홍길동",
            "q\u{0301}",
        ] {
            assert_eq!(
                Transaction { payee_name: n.into(), ..tx() }.canonical().unwrap_err(),
                TransactionError::Name
            );
        }
        assert_eq!(
            Transaction { memo: Some("m".repeat(101)), ..tx() }.canonical().unwrap_err(),
            TransactionError::Memo
        );
        assert_eq!(
            Transaction { memo: Some("rent\n(account 1)".into()), ..tx() }.canonical().unwrap_err(),
            TransactionError::Memo
        );
        assert!(!format!("{:?}", tx()).contains("홍길동"));
    }

    // Issue 15, item 12.
    #[test]
    fn names_in_nfd_bind_like_nfc_and_currencies_have_their_own_minor_units() {
        let nfd = "\u{1112}\u{1169}\u{11BC}\u{1100}\u{1175}\u{11AF}\u{1103}\u{1169}\u{11BC}";
        let a = Transaction { payee_name: nfd.into(), ..tx() }.canonical().unwrap();
        assert_eq!(a.question(), tx().canonical().unwrap().question());
        let latin = |name: &str| Transaction { payee_name: name.into(), ..tx() }.canonical();
        assert_eq!(latin("Jose\u{0301}").unwrap().question(), latin("José").unwrap().question());
        // A company name keeps its parentheses; the account stays on its own line.
        let company = Transaction { payee_name: "(주)한국".into(), ..tx() }.canonical().unwrap();
        assert_eq!(company.summary().lines().nth(1), Some("Payee: (주)한국"));
        assert_eq!(company.summary().lines().nth(2), Some("Account: 110123456789"));
        let amount = |currency: &str, minor: u64| {
            Transaction { currency: currency.into(), amount_minor: minor, ..tx() }
                .canonical()
                .unwrap()
                .amount_display()
        };
        assert_eq!(amount("KRW", 1), "KRW 1");
        assert_eq!(amount("JPY", 1500), "JPY 1,500");
        assert_eq!(amount("USD", 1), "USD 0.01");
        assert_eq!(amount("KWD", 1500), "KWD 1.500");
        assert_eq!(amount("CLF", 1), "CLF 0.0001");
    }
}
