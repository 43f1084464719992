//! The `otpauth://` Key URI format (as authenticator apps read it from QR codes):
//! `otpauth://TYPE/LABEL?secret=BASE32&issuer=ISSUER&algorithm=SHA1&digits=6&period=30`,
//! with `counter` instead of `period` for `hotp`.
//!
//! Input: scheme and type in any case; the label is `Issuer:account` or `account`
//! (percent-encoded, spaces after the colon tolerated); the secret tolerates case,
//! padding and spaces; `+` in the query means a space; unknown parameters (such as
//! `image`) are ignored; repeated ones are refused. When the label's issuer and the
//! `issuer` parameter disagree, the parameter wins.
//! Output: the secret unpadded upper case; label and issuer percent-encoded; every
//! parameter written out.

use std::fmt;

use percent_encoding::{percent_decode_str, utf8_percent_encode, AsciiSet, NON_ALPHANUMERIC};
use zeroize::Zeroizing;

use super::params::{check_digits, Algorithm, ParamError, MAX_DIGITS, MAX_PERIOD, MIN_DIGITS};
use super::secret::{Secret, SecretError};

/// Longest URI accepted, in bytes.
pub const MAX_URI_LEN: usize = 4096;

/// Characters percent-encoded in labels and parameter values: everything but
/// RFC 3986's unreserved characters.
const ENCODE: &AsciiSet = &NON_ALPHANUMERIC.remove(b'-').remove(b'.').remove(b'_').remove(b'~');

/// Why a Key URI was refused. Messages never contain the secret.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum UriError {
    /// Longer than [`MAX_URI_LEN`].
    #[error("the URI is longer than {MAX_URI_LEN} bytes")]
    TooLong,
    /// Not `otpauth://`.
    #[error("the URI must start with otpauth://")]
    Scheme,
    /// Type other than `totp` or `hotp`.
    #[error("the OTP type must be totp or hotp")]
    Type,
    /// No label, or an empty account name.
    #[error("the URI has no account name in its label")]
    MissingAccount,
    /// A `%` not followed by two hex digits, or bytes that are not UTF-8.
    #[error("bad percent-encoding in the {0}")]
    Encoding(&'static str),
    /// Text after `#`.
    #[error("the URI must not have a fragment (#...)")]
    Fragment,
    /// A parameter given twice.
    #[error("the parameter '{0}' is given more than once")]
    Repeated(String),
    /// No `secret` parameter.
    #[error("the URI has no secret parameter")]
    MissingSecret,
    /// The secret is malformed or of a refused length.
    #[error("invalid secret: {0}")]
    Secret(#[from] SecretError),
    /// Unknown `algorithm`.
    #[error("the algorithm must be SHA1, SHA256 or SHA512")]
    Algorithm,
    /// `digits` not a number from 6 to 10.
    #[error("digits must be a number from {MIN_DIGITS} to {MAX_DIGITS}")]
    Digits,
    /// `period` not a number from 1 to 3600.
    #[error("period must be a number of seconds from 1 to {MAX_PERIOD}")]
    Period,
    /// `counter` missing from an hotp URI, or not a number.
    #[error("an hotp URI needs a counter parameter, a number from 0 to 18446744073709551615")]
    Counter,
    /// A parameter that belongs to the other type.
    #[error("the parameter '{0}' does not apply to this OTP type")]
    WrongTypeParameter(&'static str),
    /// An issuer that is empty or contains `:` or a control character.
    #[error("the issuer must be non-empty, without ':' or control characters")]
    Issuer,
    /// An account name containing `:` (which separates the issuer from the account in
    /// the label, written as is or as `%3A`) or a control character.
    #[error("the account name must not contain ':' or control characters")]
    Account,
}

/// TOTP or HOTP, with the moving factor's parameter.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UriKind {
    /// Time-based, with its period in seconds.
    Totp {
        /// Period in seconds.
        period: u64,
    },
    /// Counter-based, with the next counter value.
    Hotp {
        /// Counter.
        counter: u64,
    },
}

/// A Key URI's content.
#[derive(Clone, PartialEq, Eq)]
pub struct KeyUri {
    /// TOTP or HOTP.
    pub kind: UriKind,
    /// Issuer (from the `issuer` parameter, else the label prefix).
    pub issuer: Option<String>,
    /// Account name.
    pub account: String,
    /// The secret.
    pub secret: Secret,
    /// Hash function.
    pub algorithm: Algorithm,
    /// Code length.
    pub digits: u8,
}

impl fmt::Debug for KeyUri {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("KeyUri")
            .field("kind", &self.kind)
            .field("issuer", &self.issuer)
            .field("account", &self.account)
            .field("secret", &self.secret)
            .field("algorithm", &self.algorithm)
            .field("digits", &self.digits)
            .finish()
    }
}

fn decode(part: &str, what: &'static str, plus_is_space: bool) -> Result<String, UriError> {
    let bytes = part.as_bytes();
    for (i, b) in bytes.iter().enumerate() {
        if *b == b'%'
            && !(bytes.get(i + 1).is_some_and(u8::is_ascii_hexdigit)
                && bytes.get(i + 2).is_some_and(u8::is_ascii_hexdigit))
        {
            return Err(UriError::Encoding(what));
        }
    }
    let replaced;
    let part = if plus_is_space && part.contains('+') {
        replaced = part.replace('+', " ");
        &replaced
    } else {
        part
    };
    percent_decode_str(part)
        .decode_utf8()
        .map(|s| s.into_owned())
        .map_err(|_| UriError::Encoding(what))
}

/// The Key URI format allows no `:` in the account name: the label's first `:` ends the
/// issuer prefix, so a second one could not be told apart from it. Control characters
/// have no place in a name an authenticator shows.
fn check_account(account: &str) -> Result<(), UriError> {
    if account.trim().is_empty() {
        return Err(UriError::MissingAccount);
    }
    if account.contains(':') || account.contains(char::is_control) {
        return Err(UriError::Account);
    }
    Ok(())
}

fn check_issuer(issuer: &str) -> Result<(), UriError> {
    if issuer.trim().is_empty() || issuer.contains(':') || issuer.contains(char::is_control) {
        return Err(UriError::Issuer);
    }
    Ok(())
}

impl KeyUri {
    /// A TOTP Key URI. Checks the issuer, account, digits and period.
    pub fn totp(
        issuer: Option<String>,
        account: String,
        secret: Secret,
        algorithm: Algorithm,
        digits: u8,
        period: u64,
    ) -> Result<Self, UriError> {
        if period == 0 || period > MAX_PERIOD {
            return Err(UriError::Period);
        }
        Self::checked(UriKind::Totp { period }, issuer, account, secret, algorithm, digits)
    }

    /// An HOTP Key URI. Checks the issuer, account and digits.
    pub fn hotp(
        issuer: Option<String>,
        account: String,
        secret: Secret,
        algorithm: Algorithm,
        digits: u8,
        counter: u64,
    ) -> Result<Self, UriError> {
        Self::checked(UriKind::Hotp { counter }, issuer, account, secret, algorithm, digits)
    }

    fn checked(
        kind: UriKind,
        issuer: Option<String>,
        account: String,
        secret: Secret,
        algorithm: Algorithm,
        digits: u8,
    ) -> Result<Self, UriError> {
        // Trimmed as the parser trims them, so that what is built prints and parses back.
        let issuer = issuer.map(|i| i.trim().to_string());
        let account = account.trim().to_string();
        if let Some(i) = &issuer {
            check_issuer(i)?;
        }
        check_account(&account)?;
        check_digits(digits.into(), MIN_DIGITS).map_err(|_| UriError::Digits)?;
        Ok(Self { kind, issuer, account, secret, algorithm, digits })
    }

    /// Parses a Key URI.
    pub fn parse(uri: &str) -> Result<Self, UriError> {
        if uri.len() > MAX_URI_LEN {
            return Err(UriError::TooLong);
        }
        let rest = match uri.split_once("://") {
            Some((scheme, rest)) if scheme.eq_ignore_ascii_case("otpauth") => rest,
            _ => return Err(UriError::Scheme),
        };
        if rest.contains('#') {
            return Err(UriError::Fragment);
        }
        let (kind_and_label, query) = rest.split_once('?').unwrap_or((rest, ""));
        let (kind, label) = kind_and_label.split_once('/').unwrap_or((kind_and_label, ""));
        let is_totp = if kind.eq_ignore_ascii_case("totp") {
            true
        } else if kind.eq_ignore_ascii_case("hotp") {
            false
        } else {
            return Err(UriError::Type);
        };

        let label = decode(label, "label", false)?;
        let (label_issuer, account) = match label.split_once(':') {
            Some((i, a)) => (Some(i.trim().to_string()), a.trim().to_string()),
            None => (None, label.trim().to_string()),
        };
        check_account(&account)?;

        let mut secret: Option<Zeroizing<String>> = None;
        let mut issuer: Option<String> = None;
        let mut algorithm: Option<String> = None;
        let mut digits: Option<String> = None;
        let mut period: Option<String> = None;
        let mut counter: Option<String> = None;
        for pair in query.split('&').filter(|p| !p.is_empty()) {
            let (name, value) = pair.split_once('=').unwrap_or((pair, ""));
            let name = decode(name, "query", true)?;
            let value = Zeroizing::new(decode(value, "query", true)?);
            let slot = match name.to_ascii_lowercase().as_str() {
                "secret" => {
                    if secret.replace(value).is_some() {
                        return Err(UriError::Repeated(name));
                    }
                    continue;
                }
                "issuer" => &mut issuer,
                "algorithm" => &mut algorithm,
                "digits" => &mut digits,
                "period" => &mut period,
                "counter" => &mut counter,
                _ => continue,
            };
            if slot.replace(value.to_string()).is_some() {
                return Err(UriError::Repeated(name));
            }
        }

        let secret = Secret::from_base32(&secret.ok_or(UriError::MissingSecret)?)?;
        let issuer = match issuer {
            Some(i) => Some(i.trim().to_string()),
            None => label_issuer.filter(|i| !i.is_empty()),
        };
        if let Some(i) = &issuer {
            check_issuer(i)?;
        }
        let algorithm = match algorithm {
            Some(a) => a.parse().map_err(|_: ParamError| UriError::Algorithm)?,
            None => Algorithm::Sha1,
        };
        let digits = match digits {
            Some(d) => d
                .parse::<u64>()
                .ok()
                .and_then(|d| check_digits(d, MIN_DIGITS).ok())
                .ok_or(UriError::Digits)?,
            None => 6,
        };
        let kind = if is_totp {
            if counter.is_some() {
                return Err(UriError::WrongTypeParameter("counter"));
            }
            let period = match period {
                Some(p) => p
                    .parse::<u64>()
                    .ok()
                    .filter(|p| (1..=MAX_PERIOD).contains(p))
                    .ok_or(UriError::Period)?,
                None => 30,
            };
            UriKind::Totp { period }
        } else {
            if period.is_some() {
                return Err(UriError::WrongTypeParameter("period"));
            }
            let counter = counter.and_then(|c| c.parse::<u64>().ok()).ok_or(UriError::Counter)?;
            UriKind::Hotp { counter }
        };
        Ok(Self { kind, issuer, account, secret, algorithm, digits })
    }

    /// Formats the URI. The result contains the secret: it is zeroized on drop.
    pub fn to_uri(&self) -> Zeroizing<String> {
        let mut out = Zeroizing::new(String::with_capacity(128));
        let (kind, param, value) = match self.kind {
            UriKind::Totp { period } => ("totp", "period", period),
            UriKind::Hotp { counter } => ("hotp", "counter", counter),
        };
        out.push_str("otpauth://");
        out.push_str(kind);
        out.push('/');
        if let Some(issuer) = &self.issuer {
            out.extend(utf8_percent_encode(issuer, ENCODE));
            out.push(':');
        }
        out.extend(utf8_percent_encode(&self.account, ENCODE));
        out.push_str("?secret=");
        out.push_str(&self.secret.to_base32());
        if let Some(issuer) = &self.issuer {
            out.push_str("&issuer=");
            out.extend(utf8_percent_encode(issuer, ENCODE));
        }
        out.push_str("&algorithm=");
        out.push_str(self.algorithm.name());
        out.push_str("&digits=");
        out.push_str(&self.digits.to_string());
        out.push('&');
        out.push_str(param);
        out.push('=');
        out.push_str(&value.to_string());
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SECRET: &str = "JBSWY3DPEHPK3PXP";

    #[test]
    fn parses_google_example() {
        let u = KeyUri::parse(
            "otpauth://totp/Example:alice@google.com?secret=JBSWY3DPEHPK3PXP&issuer=Example",
        )
        .unwrap();
        assert_eq!(u.kind, UriKind::Totp { period: 30 });
        assert_eq!(u.issuer.as_deref(), Some("Example"));
        assert_eq!(u.account, "alice@google.com");
        assert_eq!(u.algorithm, Algorithm::Sha1);
        assert_eq!(u.digits, 6);
        assert_eq!(&*u.secret.to_base32(), SECRET);
    }

    #[test]
    fn percent_encoding_both_ways_and_roundtrip() {
        let u = KeyUri::parse(
            "OTPAUTH://TOTP/ACME%20Co:%20john.doe%40email.com?secret=jbsw y3dp ehpk 3pxp&issuer=ACME+Co&algorithm=sha256&digits=8&period=60",
        )
        .unwrap();
        assert_eq!(u.issuer.as_deref(), Some("ACME Co"));
        assert_eq!(u.account, "john.doe@email.com");
        assert_eq!(u.algorithm, Algorithm::Sha256);
        assert_eq!((u.digits, u.kind), (8, UriKind::Totp { period: 60 }));
        let s = u.to_uri();
        assert_eq!(
            &*s,
            "otpauth://totp/ACME%20Co:john.doe%40email.com?secret=JBSWY3DPEHPK3PXP&issuer=ACME%20Co&algorithm=SHA256&digits=8&period=60"
        );
        assert_eq!(KeyUri::parse(&s).unwrap(), u);
        let k = KeyUri::hotp(
            Some("한국은행".into()),
            "홍길동".into(),
            u.secret.clone(),
            Algorithm::Sha1,
            6,
            42,
        )
        .unwrap();
        assert_eq!(KeyUri::parse(&k.to_uri()).unwrap(), k);
    }

    #[test]
    fn padded_secrets_parse_and_print_back_unpadded() {
        let canonical =
            "otpauth://totp/Example:alice?secret=JBSWY3DPEHPK3PXP&issuer=Example&algorithm=SHA1&digits=6&period=30";
        for secret in ["JBSWY3DPEHPK3PXP=", "JBSWY3DPEHPK3PXP%3D%3D", "jbswy3dpehpk3pxp========"] {
            let uri = format!("otpauth://totp/Example:alice?secret={secret}&issuer=Example");
            let u = KeyUri::parse(&uri).unwrap();
            assert_eq!(&*u.to_uri(), canonical, "{secret}");
            assert_eq!(KeyUri::parse(&u.to_uri()).unwrap(), u);
        }
        // 11 bytes: complete, partial and extra padding.
        for secret in
            ["GEZDGNBVGY3TQOJQGE======", "GEZDGNBVGY3TQOJQGE=", "GEZDGNBVGY3TQOJQGE========"]
        {
            let u = KeyUri::parse(&format!("otpauth://hotp/a?secret={secret}&counter=1")).unwrap();
            assert_eq!(u.secret.expose(), b"12345678901");
            assert!(u.to_uri().contains("secret=GEZDGNBVGY3TQOJQGE&"));
        }
    }

    #[test]
    fn issuer_parameter_wins() {
        let u =
            KeyUri::parse("otpauth://totp/Label:bob?secret=JBSWY3DPEHPK3PXP&issuer=Param").unwrap();
        assert_eq!(u.issuer.as_deref(), Some("Param"));
        let u = KeyUri::parse("otpauth://totp/bob?secret=JBSWY3DPEHPK3PXP").unwrap();
        assert_eq!(u.issuer, None);
        let u = KeyUri::parse("otpauth://totp/Only%3Abob?secret=JBSWY3DPEHPK3PXP").unwrap();
        assert_eq!((u.issuer.as_deref(), u.account.as_str()), (Some("Only"), "bob"));
    }

    #[test]
    fn hotp_needs_counter() {
        let u = KeyUri::parse("otpauth://hotp/a?secret=JBSWY3DPEHPK3PXP&counter=7").unwrap();
        assert_eq!(u.kind, UriKind::Hotp { counter: 7 });
        assert_eq!(
            KeyUri::parse("otpauth://hotp/a?secret=JBSWY3DPEHPK3PXP").unwrap_err(),
            UriError::Counter
        );
    }

    #[test]
    fn malformed_inputs() {
        let s = SECRET;
        let cases: Vec<(String, UriError)> = vec![
            ("x".repeat(5000), UriError::TooLong),
            (String::new(), UriError::Scheme),
            (format!("http://totp/a?secret={s}"), UriError::Scheme),
            (format!("otpauth:totp/a?secret={s}"), UriError::Scheme),
            (format!("otpauth://motp/a?secret={s}"), UriError::Type),
            (format!("otpauth://totp?secret={s}"), UriError::MissingAccount),
            (format!("otpauth://totp/?secret={s}"), UriError::MissingAccount),
            (format!("otpauth://totp/Issuer:?secret={s}"), UriError::MissingAccount),
            (format!("otpauth://totp/a%zz?secret={s}"), UriError::Encoding("label")),
            (format!("otpauth://totp/a%ff?secret={s}"), UriError::Encoding("label")),
            (format!("otpauth://totp/a?secret={s}%"), UriError::Encoding("query")),
            (format!("otpauth://totp/a?secret={s}#x"), UriError::Fragment),
            (
                format!("otpauth://totp/a?secret={s}&secret={s}"),
                UriError::Repeated("secret".into()),
            ),
            (
                format!("otpauth://totp/a?secret={s}&digits=6&digits=6"),
                UriError::Repeated("digits".into()),
            ),
            ("otpauth://totp/a?issuer=x".to_string(), UriError::MissingSecret),
            ("otpauth://totp/a?secret=".to_string(), UriError::Secret(SecretError::Empty)),
            (
                "otpauth://totp/a?secret=GEZDGNBV".to_string(),
                UriError::Secret(SecretError::TooShort { bits: 40 }),
            ),
            (format!("otpauth://totp/a?secret={s}&algorithm=MD5"), UriError::Algorithm),
            (format!("otpauth://totp/a?secret={s}&digits=5"), UriError::Digits),
            (format!("otpauth://totp/a?secret={s}&digits=-6"), UriError::Digits),
            (
                format!("otpauth://totp/a?secret={s}&digits=99999999999999999999999"),
                UriError::Digits,
            ),
            (format!("otpauth://totp/a?secret={s}&period=0"), UriError::Period),
            (format!("otpauth://totp/a?secret={s}&period=-30"), UriError::Period),
            (format!("otpauth://totp/a?secret={s}&period=abc"), UriError::Period),
            (format!("otpauth://hotp/a?secret={s}&counter=-1"), UriError::Counter),
            (
                format!("otpauth://hotp/a?secret={s}&counter=18446744073709551616"),
                UriError::Counter,
            ),
            (
                format!("otpauth://totp/a?secret={s}&counter=1"),
                UriError::WrongTypeParameter("counter"),
            ),
            (
                format!("otpauth://hotp/a?secret={s}&counter=1&period=30"),
                UriError::WrongTypeParameter("period"),
            ),
            (format!("otpauth://totp/a?secret={s}&issuer=a:b"), UriError::Issuer),
            // Found by fuzzing: an account with a ':' printed a label that parsed back
            // with a different issuer and account.
            (format!("otpauth://totp/:a:b?secret={s}"), UriError::Account),
            (format!("otpauth://totp/Bank:a:b?secret={s}"), UriError::Account),
            (format!("otpauth://totp/Bank:a%3Ab?secret={s}"), UriError::Account),
            (format!("otpauth://totp/a%00b?secret={s}"), UriError::Account),
            (format!("otpauth://totp/a?secret={s}&issuer=Ban%01k"), UriError::Issuer),
        ];
        for (uri, want) in cases {
            let got = KeyUri::parse(&uri).unwrap_err();
            assert_eq!(got, want, "{uri}");
            assert!(!got.to_string().contains(SECRET));
        }
        assert!(matches!(
            KeyUri::parse("otpauth://totp/a?secret=JBSWY3DPEHPK3PX1").unwrap_err(),
            UriError::Secret(SecretError::InvalidBase32(_))
        ));
    }

    #[test]
    fn names_are_trimmed_so_that_they_print_and_parse_back() {
        // Found by fuzzing: an account with a leading space printed after the issuer's
        // ':' and came back without it.
        let s = Secret::from_base32(SECRET).unwrap();
        let built =
            KeyUri::totp(Some(" Bank ".into()), " bob ".into(), s, Algorithm::Sha1, 6, 30).unwrap();
        assert_eq!((built.issuer.as_deref(), built.account.as_str()), (Some("Bank"), "bob"));
        assert_eq!(KeyUri::parse(&built.to_uri()).unwrap(), built);
        for uri in [
            format!("otpauth://totp/%20bob%20?secret={SECRET}&issuer=%20Bank%20"),
            format!("otpauth://totp/Bank:%20bob%20?secret={SECRET}"),
        ] {
            let parsed = KeyUri::parse(&uri).unwrap();
            assert_eq!((parsed.issuer.as_deref(), parsed.account.as_str()), (Some("Bank"), "bob"));
            assert_eq!(KeyUri::parse(&parsed.to_uri()).unwrap(), parsed, "{uri}");
        }
    }

    #[test]
    fn constructors_check_fields() {
        let s = Secret::from_base32(SECRET).unwrap();
        assert_eq!(
            KeyUri::totp(None, " ".into(), s.clone(), Algorithm::Sha1, 6, 30).unwrap_err(),
            UriError::MissingAccount
        );
        assert_eq!(
            KeyUri::totp(Some("a:b".into()), "x".into(), s.clone(), Algorithm::Sha1, 6, 30)
                .unwrap_err(),
            UriError::Issuer
        );
        assert_eq!(
            KeyUri::totp(None, "x".into(), s.clone(), Algorithm::Sha1, 4, 30).unwrap_err(),
            UriError::Digits
        );
        assert_eq!(
            KeyUri::totp(None, "x".into(), s.clone(), Algorithm::Sha1, 6, 0).unwrap_err(),
            UriError::Period
        );
        assert_eq!(
            KeyUri::hotp(None, "a:b".into(), s.clone(), Algorithm::Sha1, 6, 0).unwrap_err(),
            UriError::Account
        );
        assert!(!format!(
            "{:?}",
            KeyUri::totp(None, "x".into(), s, Algorithm::Sha1, 6, 30).unwrap()
        )
        .contains(SECRET));
    }
}
