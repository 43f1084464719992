//! The OTP engine's objects in the bindings (feature `engine`): thin objects that hold
//! an engine value and delegate to [`crate::otp`]. Desktop, server and test builds
//! export them; the mobile library (default features) leaves them out, since a bank
//! app only needs [`super::app::DigitalOtp`].
//!
//! Times are Unix seconds (`u64`: Kotlin `ULong`, Swift `UInt64`). Nothing here
//! panics; every refusal is an [`OtpError`].

use std::fmt;
use std::sync::Arc;

use zeroize::Zeroizing;

use super::errors::OtpError;
use crate::host::{Clock, SystemClock};
use crate::otp::{self, ocra, uri};

/// HMAC hash function of an OTP.
#[derive(Debug, Clone, Copy, PartialEq, Eq, uniffi::Enum)]
pub enum HashAlgorithm {
    /// HMAC-SHA-1 (RFC 4226's default; what most authenticator apps use).
    Sha1,
    /// HMAC-SHA-256.
    Sha256,
    /// HMAC-SHA-512.
    Sha512,
}

impl From<HashAlgorithm> for otp::Algorithm {
    fn from(a: HashAlgorithm) -> Self {
        match a {
            HashAlgorithm::Sha1 => Self::Sha1,
            HashAlgorithm::Sha256 => Self::Sha256,
            HashAlgorithm::Sha512 => Self::Sha512,
        }
    }
}

impl From<otp::Algorithm> for HashAlgorithm {
    fn from(a: otp::Algorithm) -> Self {
        match a {
            otp::Algorithm::Sha1 => Self::Sha1,
            otp::Algorithm::Sha256 => Self::Sha256,
            otp::Algorithm::Sha512 => Self::Sha512,
        }
    }
}

/// Parses a hash name: `SHA1`, `SHA256` or `SHA512`, in any case, hyphen optional.
#[uniffi::export]
pub fn hash_algorithm_from_name(name: String) -> Result<HashAlgorithm, OtpError> {
    Ok(name.parse::<otp::Algorithm>()?.into())
}

/// An OTP secret (the seed). Zeroized when released; `toString()`/`description`
/// print `<redacted secret>`; equality is constant-time.
#[derive(uniffi::Object, PartialEq, Eq)]
#[uniffi::export(Display, Eq, Hash)]
pub struct OtpSecret {
    inner: otp::Secret,
}

impl std::hash::Hash for OtpSecret {
    /// Hashes only the length, so a hash reveals nothing about the content (equal
    /// secrets still hash equally, as Java's `hashCode` contract requires).
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        self.inner.len().hash(state);
    }
}

impl fmt::Display for OtpSecret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&self.inner, f)
    }
}

impl fmt::Debug for OtpSecret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&self.inner, f)
    }
}

impl OtpSecret {
    fn wrap(inner: otp::Secret) -> Arc<Self> {
        Arc::new(Self { inner })
    }

    /// The engine's secret (for the issuer's device import).
    pub(crate) fn secret(&self) -> &otp::Secret {
        &self.inner
    }
}

#[uniffi::export]
impl OtpSecret {
    /// A new 160-bit secret from the operating system's random source.
    #[uniffi::constructor]
    pub fn generate() -> Result<Arc<Self>, OtpError> {
        Ok(Self::wrap(otp::Secret::generate()?))
    }

    /// A new secret of `byte_length` bytes (at least 20) from the operating system's random source.
    #[uniffi::constructor]
    pub fn generate_with_length(byte_length: u32) -> Result<Arc<Self>, OtpError> {
        let len = usize::try_from(byte_length).unwrap_or(usize::MAX);
        Ok(Self::wrap(otp::Secret::generate_with_len(len)?))
    }

    /// Decodes base32 (RFC 4648); case, `=` padding, spaces and hyphens are tolerated.
    /// At least 80 bits are required.
    #[uniffi::constructor]
    pub fn from_base32(text: String) -> Result<Arc<Self>, OtpError> {
        let text = Zeroizing::new(text);
        Ok(Self::wrap(otp::Secret::from_base32(&text)?))
    }

    /// Decodes hexadecimal (either case). At least 80 bits are required.
    #[uniffi::constructor]
    pub fn from_hex(text: String) -> Result<Arc<Self>, OtpError> {
        let text = Zeroizing::new(text);
        Ok(Self::wrap(otp::Secret::from_hex(&text)?))
    }

    /// Takes raw bytes. At least 80 bits (10 bytes) are required.
    #[uniffi::constructor]
    pub fn from_bytes(bytes: Vec<u8>) -> Result<Arc<Self>, OtpError> {
        Ok(Self::wrap(otp::Secret::from_vec(bytes)?))
    }

    /// The secret as unpadded upper-case base32. This exposes the secret: show it only
    /// to the person enrolling, never log it.
    pub fn to_base32(&self) -> String {
        self.inner.to_base32().to_string()
    }

    /// The length of the secret in bytes.
    pub fn byte_length(&self) -> u32 {
        u32::try_from(self.inner.len()).unwrap_or(u32::MAX)
    }
}

/// A TOTP code with the time step it belongs to and its validity.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct TotpCode {
    /// The code, zero-padded to the configured digits.
    pub code: String,
    /// The time step (RFC 6238's T).
    pub step: u64,
    /// First second (Unix time) at which the code is valid.
    pub valid_from: u64,
    /// First second (Unix time) at which the code is no longer valid.
    pub valid_until: u64,
    /// Seconds from the requested time until `valid_until`.
    pub seconds_remaining: u64,
}

/// TOTP (RFC 6238) generator and verifier for one secret.
#[derive(Debug, uniffi::Object)]
pub struct Totp {
    inner: otp::Totp,
}

#[uniffi::export]
impl Totp {
    /// A TOTP for `secret` with the given hash, 6–10 digits (default 6), period
    /// (1–3600 seconds, default 30) and T0 (Unix seconds, default 0).
    #[uniffi::constructor(default(digits = 6, period_seconds = 30, t0 = 0))]
    pub fn new(
        secret: Arc<OtpSecret>,
        algorithm: HashAlgorithm,
        digits: u8,
        period_seconds: u64,
        t0: u64,
    ) -> Result<Arc<Self>, OtpError> {
        let inner = otp::Totp::new(&secret.inner, algorithm.into(), digits, period_seconds, t0)?;
        Ok(Arc::new(Self { inner }))
    }

    /// The code at a Unix time, with its step and validity window.
    pub fn code_at(&self, unix_time: u64) -> Result<TotpCode, OtpError> {
        let w = self.inner.window_at(unix_time)?;
        Ok(TotpCode {
            code: self.inner.generate_step(w.step).to_string(),
            step: w.step,
            valid_from: w.valid_from,
            valid_until: w.valid_until,
            seconds_remaining: w.seconds_remaining,
        })
    }

    /// The code now, by the system clock.
    pub fn code_now(&self) -> Result<TotpCode, OtpError> {
        let now = SystemClock
            .now_unix_seconds()
            .map_err(|e| OtpError::InvalidParameter { reason: e.to_string() })?;
        self.code_at(now)
    }

    /// The code for a time step.
    pub fn code_for_step(&self, step: u64) -> String {
        self.inner.generate_step(step).to_string()
    }

    /// The time step of a Unix time.
    pub fn time_step(&self, unix_time: u64) -> Result<u64, OtpError> {
        Ok(self.inner.step_at(unix_time)?)
    }

    /// Checks `code` at `unix_time`, also accepting up to `steps_behind` earlier and
    /// `steps_ahead` later steps (each at most 100). Returns the step that matched, or
    /// null. Store the accepted step and refuse any step at or below it to stop replays.
    /// The window defaults to one step each side.
    #[uniffi::method(default(steps_behind = 1, steps_ahead = 1))]
    pub fn verify(
        &self,
        code: String,
        unix_time: u64,
        steps_behind: u32,
        steps_ahead: u32,
    ) -> Result<Option<u64>, OtpError> {
        let window = otp::Window::new(steps_behind, steps_ahead)?;
        Ok(self.inner.verify(&code, unix_time, window)?)
    }

    /// The hash function.
    pub fn algorithm(&self) -> HashAlgorithm {
        self.inner.algorithm().into()
    }

    /// The number of digits.
    pub fn digits(&self) -> u8 {
        self.inner.digits()
    }

    /// The period in seconds.
    pub fn period_seconds(&self) -> u64 {
        self.inner.period()
    }
}

/// HOTP (RFC 4226) generator and verifier for one secret.
#[derive(Debug, uniffi::Object)]
pub struct Hotp {
    inner: otp::Hotp,
}

#[uniffi::export]
impl Hotp {
    /// An HOTP for `secret` with the given hash and 6–10 digits (default 6).
    #[uniffi::constructor(default(digits = 6))]
    pub fn new(
        secret: Arc<OtpSecret>,
        algorithm: HashAlgorithm,
        digits: u8,
    ) -> Result<Arc<Self>, OtpError> {
        let inner = otp::Hotp::new(&secret.inner, algorithm.into(), digits)?;
        Ok(Arc::new(Self { inner }))
    }

    /// The code for `counter`.
    pub fn generate(&self, counter: u64) -> String {
        self.inner.generate(counter).to_string()
    }

    /// Checks `code` against `counter` and up to `behind`/`ahead` (each at most 100)
    /// counters around it. Returns the counter that matched, or null; the next
    /// expected counter is the matched one plus one.
    pub fn verify(
        &self,
        code: String,
        counter: u64,
        behind: u32,
        ahead: u32,
    ) -> Result<Option<u64>, OtpError> {
        let window = otp::Window::new(behind, ahead)?;
        Ok(self.inner.verify(&code, counter, window)?)
    }

    /// The hash function.
    pub fn algorithm(&self) -> HashAlgorithm {
        self.inner.algorithm().into()
    }

    /// The number of digits.
    pub fn digits(&self) -> u8 {
        self.inner.digits()
    }
}

/// The question format of an OCRA suite.
#[derive(Debug, Clone, Copy, PartialEq, Eq, uniffi::Enum)]
pub enum OcraQuestionFormat {
    /// `A`: ASCII letters and digits.
    Alphanumeric,
    /// `N`: decimal digits.
    Numeric,
    /// `H`: hexadecimal digits.
    Hex,
}

impl From<ocra::QuestionFormat> for OcraQuestionFormat {
    fn from(f: ocra::QuestionFormat) -> Self {
        match f {
            ocra::QuestionFormat::Alphanumeric => Self::Alphanumeric,
            ocra::QuestionFormat::Numeric => Self::Numeric,
            ocra::QuestionFormat::Hex => Self::Hex,
        }
    }
}

/// What a parsed OCRA suite asks for.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct OcraSuiteInfo {
    /// The suite text.
    pub suite: String,
    /// HMAC hash.
    pub algorithm: HashAlgorithm,
    /// Digits of the response (4–10).
    pub digits: u8,
    /// Whether a counter is required.
    pub uses_counter: bool,
    /// Question format.
    pub question_format: OcraQuestionFormat,
    /// Nominal question length (4–64).
    pub question_length: u8,
    /// The PIN hash, if a PIN is required.
    pub pin_hash: Option<HashAlgorithm>,
    /// Session data length in bytes, if session data is required.
    pub session_length: Option<u16>,
    /// Timestamp step in seconds, if a timestamp is required.
    pub time_step_seconds: Option<u64>,
}

impl From<&ocra::OcraSuite> for OcraSuiteInfo {
    fn from(s: &ocra::OcraSuite) -> Self {
        Self {
            suite: s.to_string(),
            algorithm: s.algorithm().into(),
            digits: s.digits(),
            uses_counter: s.uses_counter(),
            question_format: s.question_format().into(),
            question_length: s.question_length(),
            pin_hash: s.pin_hash().map(Into::into),
            session_length: s.session_length(),
            time_step_seconds: s.timestamp().map(ocra::TimeStep::seconds),
        }
    }
}

/// Parses an OCRA suite string such as `OCRA-1:HOTP-SHA256-8:QH64-T1M`. The error
/// names the invalid part.
#[uniffi::export]
pub fn parse_ocra_suite(suite: String) -> Result<OcraSuiteInfo, OtpError> {
    Ok((&suite.parse::<ocra::OcraSuite>()?).into())
}

/// The inputs of one OCRA computation other than the PIN. Give exactly the ones the
/// suite uses. (The PIN is an `OcraPin` argument, so it never shows in this record's
/// `toString()`.)
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct OcraInput {
    /// The question (challenge), in the suite's format.
    pub question: String,
    /// The counter, if the suite has `C`.
    #[uniffi(default)]
    pub counter: Option<u64>,
    /// Session data of exactly the suite's length, if the suite has `S`.
    #[uniffi(default)]
    pub session: Option<Vec<u8>>,
    /// The timestamp in the suite's time steps since the Unix epoch, if the suite has `T`
    /// (see `Ocra.timeStepsAt`).
    #[uniffi(default)]
    pub time_steps: Option<u64>,
}

enum PinValue {
    Plain(Zeroizing<String>),
    Hashed(Zeroizing<Vec<u8>>),
}

/// The PIN of an OCRA suite with `P`: the PIN itself, or its hash (as a server stores
/// it). Zeroized when released; `toString()`/`description` print `<redacted PIN>`.
#[derive(uniffi::Object)]
#[uniffi::export(Display)]
pub struct OcraPin {
    value: PinValue,
}

impl fmt::Display for OcraPin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("<redacted PIN>")
    }
}

impl fmt::Debug for OcraPin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

#[uniffi::export]
impl OcraPin {
    /// The PIN itself; it is hashed with the suite's PIN hash.
    #[uniffi::constructor]
    pub fn plain(pin: String) -> Arc<Self> {
        Arc::new(Self { value: PinValue::Plain(Zeroizing::new(pin)) })
    }

    /// The PIN's hash, with the suite's PIN hash function.
    #[uniffi::constructor]
    pub fn hashed(hash: Vec<u8>) -> Arc<Self> {
        Arc::new(Self { value: PinValue::Hashed(Zeroizing::new(hash)) })
    }
}

impl OcraInput {
    fn engine<'a>(&'a self, pin: &'a Option<Arc<OcraPin>>) -> ocra::OcraInput<'a> {
        ocra::OcraInput {
            counter: self.counter,
            question: &self.question,
            pin: pin.as_deref().map(|p| match &p.value {
                PinValue::Plain(s) => ocra::Pin::Plain(s),
                PinValue::Hashed(h) => ocra::Pin::Hashed(h),
            }),
            session: self.session.as_deref(),
            time_steps: self.time_steps,
        }
    }
}

/// OCRA (RFC 6287) challenge-response for one suite and key.
#[derive(Debug, uniffi::Object)]
pub struct Ocra {
    inner: ocra::Ocra,
}

#[uniffi::export]
impl Ocra {
    /// Parses `suite` and keys its HMAC with `key`.
    #[uniffi::constructor]
    pub fn new(suite: String, key: Arc<OtpSecret>) -> Result<Arc<Self>, OtpError> {
        let suite: ocra::OcraSuite = suite.parse()?;
        Ok(Arc::new(Self { inner: ocra::Ocra::new(suite, &key.inner) }))
    }

    /// The parsed suite.
    pub fn suite(&self) -> OcraSuiteInfo {
        self.inner.suite().into()
    }

    /// The timestamp value for a Unix time in the suite's own step, or null if the
    /// suite has no timestamp.
    pub fn time_steps_at(&self, unix_time: u64) -> Option<u64> {
        self.inner.suite().time_steps_at(unix_time)
    }

    /// Computes the response. `pin` is required exactly when the suite has `P`.
    #[uniffi::method(default(pin = None))]
    pub fn generate(
        &self,
        input: OcraInput,
        pin: Option<Arc<OcraPin>>,
    ) -> Result<String, OtpError> {
        Ok(self.inner.generate(&input.engine(&pin))?.to_string())
    }

    /// Checks a response. The window (each side at most 100) moves the timestamp if the
    /// suite has one, else the counter. Returns the timestamp or counter that matched
    /// (0 for a suite with neither), or null. `pin` as for `generate`.
    #[uniffi::method(default(pin = None))]
    pub fn verify(
        &self,
        response: String,
        input: OcraInput,
        behind: u32,
        ahead: u32,
        pin: Option<Arc<OcraPin>>,
    ) -> Result<Option<u64>, OtpError> {
        let window = otp::Window::new(behind, ahead)?;
        Ok(self.inner.verify(&response, &input.engine(&pin), window)?)
    }
}

/// Building a URI from fields: a bad field is a bad parameter, not a malformed URI.
fn parameter_error(e: uri::UriError) -> OtpError {
    OtpError::InvalidParameter { reason: e.to_string() }
}

/// TOTP or HOTP.
#[derive(Debug, Clone, Copy, PartialEq, Eq, uniffi::Enum)]
pub enum OtpType {
    /// Time-based (RFC 6238).
    Totp,
    /// Counter-based (RFC 4226).
    Hotp,
}

/// The fields of an otpauth URI, without its secret.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct OtpAuthParameters {
    /// TOTP or HOTP.
    pub otp_type: OtpType,
    /// The issuer, if any.
    pub issuer: Option<String>,
    /// The account name.
    pub account: String,
    /// Hash function.
    pub algorithm: HashAlgorithm,
    /// Code length.
    pub digits: u8,
    /// TOTP period in seconds (null for HOTP).
    pub period_seconds: Option<u64>,
    /// HOTP counter (null for TOTP).
    pub counter: Option<u64>,
}

/// An `otpauth://` Key URI, as carried by enrollment QR codes.
#[derive(Debug, uniffi::Object)]
pub struct OtpAuthUri {
    inner: uri::KeyUri,
}

#[uniffi::export]
impl OtpAuthUri {
    /// Parses a URI. Every malformed part is an `InvalidUri` error naming it.
    #[uniffi::constructor]
    pub fn parse(uri: String) -> Result<Arc<Self>, OtpError> {
        let uri = Zeroizing::new(uri);
        Ok(Arc::new(Self { inner: uri::KeyUri::parse(&uri)? }))
    }

    /// A TOTP URI (digits default 6, period 30 seconds). Bad fields are `InvalidParameter`.
    #[uniffi::constructor(default(digits = 6, period_seconds = 30))]
    pub fn new_totp(
        issuer: Option<String>,
        account: String,
        secret: Arc<OtpSecret>,
        algorithm: HashAlgorithm,
        digits: u8,
        period_seconds: u64,
    ) -> Result<Arc<Self>, OtpError> {
        let inner = uri::KeyUri::totp(
            issuer,
            account,
            secret.inner.clone(),
            algorithm.into(),
            digits,
            period_seconds,
        )
        .map_err(parameter_error)?;
        Ok(Arc::new(Self { inner }))
    }

    /// An HOTP URI (digits default 6, counter 0). Bad fields are `InvalidParameter`.
    #[uniffi::constructor(default(digits = 6, counter = 0))]
    pub fn new_hotp(
        issuer: Option<String>,
        account: String,
        secret: Arc<OtpSecret>,
        algorithm: HashAlgorithm,
        digits: u8,
        counter: u64,
    ) -> Result<Arc<Self>, OtpError> {
        let inner = uri::KeyUri::hotp(
            issuer,
            account,
            secret.inner.clone(),
            algorithm.into(),
            digits,
            counter,
        )
        .map_err(parameter_error)?;
        Ok(Arc::new(Self { inner }))
    }

    /// The URI text. It contains the secret: put it in a QR code, never in a log.
    pub fn to_uri_string(&self) -> String {
        self.inner.to_uri().to_string()
    }

    /// The fields other than the secret.
    pub fn parameters(&self) -> OtpAuthParameters {
        let u = &self.inner;
        let (otp_type, period_seconds, counter) = match u.kind {
            uri::UriKind::Totp { period } => (OtpType::Totp, Some(period), None),
            uri::UriKind::Hotp { counter } => (OtpType::Hotp, None, Some(counter)),
        };
        OtpAuthParameters {
            otp_type,
            issuer: u.issuer.clone(),
            account: u.account.clone(),
            algorithm: u.algorithm.into(),
            digits: u.digits,
            period_seconds,
            counter,
        }
    }

    /// The secret.
    pub fn secret(&self) -> Arc<OtpSecret> {
        OtpSecret::wrap(self.inner.secret.clone())
    }

    /// A TOTP generator for this URI (T0 = 0). Fails for an HOTP URI.
    pub fn totp(&self) -> Result<Arc<Totp>, OtpError> {
        let u = &self.inner;
        match u.kind {
            uri::UriKind::Totp { period } => Ok(Arc::new(Totp {
                inner: otp::Totp::new(&u.secret, u.algorithm, u.digits, period, 0)?,
            })),
            uri::UriKind::Hotp { .. } => {
                Err(OtpError::InvalidParameter { reason: "this is an hotp URI; use hotp()".into() })
            }
        }
    }

    /// An HOTP generator for this URI. Fails for a TOTP URI.
    pub fn hotp(&self) -> Result<Arc<Hotp>, OtpError> {
        let u = &self.inner;
        match u.kind {
            uri::UriKind::Hotp { .. } => {
                Ok(Arc::new(Hotp { inner: otp::Hotp::new(&u.secret, u.algorithm, u.digits)? }))
            }
            uri::UriKind::Totp { .. } => {
                Err(OtpError::InvalidParameter { reason: "this is a totp URI; use totp()".into() })
            }
        }
    }
}
