//! OCRA (RFC 6287): challenge-response codes over a typed suite.
//!
//! A suite such as `OCRA-1:HOTP-SHA256-8:C-QN08-PSHA1-S064-T1M` says which inputs
//! enter the HMAC: an optional counter (`C`), the question (`Q`, then the format
//! `A`/`N`/`H` and the nominal length), an optional PIN hash (`P`), session data (`S`
//! and a byte length) and a timestamp (`T` and a step). The data input is, in order: the suite text, a
//! zero byte, the 8-byte counter, the question padded to 128 bytes, the PIN hash,
//! the session data and the 8-byte time-step count.

use std::fmt;
use std::str::FromStr;

use zeroize::Zeroizing;

use super::hotp::{check_code_shape, find_match, Code, Window};
use super::mac::{hash, KeyedMac};
use super::params::{check_digits, Algorithm, ParamError};
use super::secret::Secret;

/// Length of the question field in the data input, in bytes.
pub const QUESTION_FIELD_BYTES: usize = 128;
/// Longest session data a suite may declare (`S512`).
pub const MAX_SESSION_BYTES: u16 = 512;
/// Fewest digits RFC 6287 allows for a response.
pub const MIN_OCRA_DIGITS: u8 = 4;

/// Why a suite string was refused: one variant per part of the suite.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SuiteError {
    /// Not three parts separated by `:`.
    #[error("an OCRA suite has three parts separated by ':' (OCRA-1:HOTP-SHA1-6:QN08)")]
    Shape,
    /// First part other than `OCRA-1`.
    #[error("unsupported OCRA version '{0}' (only OCRA-1 exists)")]
    Version(String),
    /// Crypto function not `HOTP-SHA<x>-<digits>`.
    #[error("the crypto function must be HOTP-SHA1, HOTP-SHA256 or HOTP-SHA512 followed by -<digits>, got '{0}'")]
    CryptoFunction(String),
    /// Truncation outside 4–10 (0, "no truncation", is not supported).
    #[error("the crypto function's digits must be between 4 and 10, got '{0}'")]
    Digits(String),
    /// No `Q` part, or a malformed one.
    #[error(
        "the question part must be Q followed by A, N or H and a length from 04 to 64, got '{0}'"
    )]
    Question(String),
    /// The data input has no question.
    #[error("the data input must contain a question (Q..)")]
    MissingQuestion,
    /// A malformed `P` part.
    #[error("the PIN part must be PSHA1, PSHA256 or PSHA512, got '{0}'")]
    Pin(String),
    /// A malformed `S` part.
    #[error("the session part must be S followed by three digits from 001 to 512, got '{0}'")]
    Session(String),
    /// A malformed `T` part.
    #[error("the timestamp part must be T followed by 1-59S, 1-59M or 1-48H, got '{0}'")]
    Timestamp(String),
    /// A part that is unknown, repeated or out of order (C, Q, P, S, T).
    #[error("unexpected data input part '{0}' (allowed, in order: C, Q.., P.., S.., T..)")]
    UnexpectedPart(String),
}

/// Why the inputs to a computation were refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum InputError {
    /// The suite has `C` but no counter was given.
    #[error("this suite requires a counter")]
    CounterRequired,
    /// A counter was given but the suite has no `C`.
    #[error("this suite does not use a counter; none may be given")]
    CounterNotAllowed,
    /// The question is empty.
    #[error("the question is empty")]
    EmptyQuestion,
    /// Characters outside the question format.
    #[error("the question must contain only {0}")]
    QuestionCharacters(&'static str),
    /// The question does not fit the 128-byte field.
    #[error("the question does not fit the 128-byte question field")]
    QuestionTooLong,
    /// The suite has `P` but no PIN was given.
    #[error("this suite requires a PIN or PIN hash")]
    PinRequired,
    /// A PIN was given but the suite has no `P`.
    #[error("this suite does not use a PIN; none may be given")]
    PinNotAllowed,
    /// A PIN hash of the wrong length.
    #[error("the PIN hash must be {expected} bytes for this suite")]
    PinHashLength {
        /// Required length.
        expected: usize,
    },
    /// The suite has `S` but no session data was given.
    #[error("this suite requires session data")]
    SessionRequired,
    /// Session data given but the suite has no `S`.
    #[error("this suite does not use session data; none may be given")]
    SessionNotAllowed,
    /// Session data of the wrong length.
    #[error("the session data must be exactly {expected} bytes for this suite")]
    SessionLength {
        /// Required length.
        expected: u16,
    },
    /// The suite has `T` but no time-step count was given.
    #[error("this suite requires a timestamp")]
    TimestampRequired,
    /// A timestamp was given but the suite has no `T`.
    #[error("this suite does not use a timestamp; none may be given")]
    TimestampNotAllowed,
    /// Bad code shape or window.
    #[error(transparent)]
    Param(#[from] ParamError),
}

/// The question format of a suite.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum QuestionFormat {
    /// `A`: alphanumeric (ASCII letters and digits), used as bytes.
    Alphanumeric,
    /// `N`: decimal, converted to its hexadecimal value.
    Numeric,
    /// `H`: hexadecimal.
    Hex,
}

/// The unit of a timestamp step.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TimeUnit {
    /// `S`
    Seconds,
    /// `M`
    Minutes,
    /// `H`
    Hours,
}

/// A timestamp step such as `T1M` (one minute).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TimeStep {
    /// The count of units.
    pub count: u8,
    /// The unit.
    pub unit: TimeUnit,
}

impl TimeStep {
    /// The step length in seconds.
    pub fn seconds(self) -> u64 {
        u64::from(self.count)
            * match self.unit {
                TimeUnit::Seconds => 1,
                TimeUnit::Minutes => 60,
                TimeUnit::Hours => 3600,
            }
    }
}

/// A parsed OCRA suite. `Display` gives back the exact text, which enters the HMAC.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OcraSuite {
    text: String,
    algorithm: Algorithm,
    digits: u8,
    counter: bool,
    question: QuestionFormat,
    question_len: u8,
    pin: Option<Algorithm>,
    session_len: Option<u16>,
    timestamp: Option<TimeStep>,
}

fn parse_hash(s: &str) -> Option<Algorithm> {
    match s {
        "SHA1" => Some(Algorithm::Sha1),
        "SHA256" => Some(Algorithm::Sha256),
        "SHA512" => Some(Algorithm::Sha512),
        _ => None,
    }
}

fn all_digits(s: &str) -> bool {
    !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit())
}

impl FromStr for OcraSuite {
    type Err = SuiteError;

    /// Parses a suite. Suites are case-sensitive, as their text enters the HMAC.
    fn from_str(text: &str) -> Result<Self, SuiteError> {
        if text.len() > 64 {
            return Err(SuiteError::Shape);
        }
        let parts: Vec<&str> = text.split(':').collect();
        let [version, function, data] = parts.as_slice() else {
            return Err(SuiteError::Shape);
        };
        if *version != "OCRA-1" {
            return Err(SuiteError::Version((*version).to_string()));
        }

        let f: Vec<&str> = function.split('-').collect();
        let [hotp, sha, digits] = f.as_slice() else {
            return Err(SuiteError::CryptoFunction((*function).to_string()));
        };
        let algorithm = match (*hotp, parse_hash(sha)) {
            ("HOTP", Some(a)) => a,
            _ => return Err(SuiteError::CryptoFunction((*function).to_string())),
        };
        if !all_digits(digits) || digits.len() > 2 {
            return Err(SuiteError::Digits((*digits).to_string()));
        }
        let digits = digits
            .parse::<u64>()
            .ok()
            .and_then(|d| check_digits(d, MIN_OCRA_DIGITS).ok())
            .ok_or_else(|| SuiteError::Digits((*digits).to_string()))?;

        let mut items = data.split('-').peekable();
        let counter = items.next_if(|p| *p == "C").is_some();
        let q = items.next().filter(|p| !p.is_empty()).ok_or(SuiteError::MissingQuestion)?;
        let (question, question_len) = parse_question(q)?;

        let mut pin = None;
        let mut session_len = None;
        let mut timestamp = None;
        // Each optional part at most once, in the order P, S, T.
        let mut stage = 0;
        for part in items {
            let (kind, rest) = part.split_at(part.chars().next().map_or(0, char::len_utf8));
            match kind {
                "P" if stage < 1 => {
                    pin = Some(parse_hash(rest).ok_or_else(|| SuiteError::Pin(part.to_string()))?);
                    stage = 1;
                }
                "S" if stage < 2 => {
                    session_len = Some(parse_session(part)?);
                    stage = 2;
                }
                "T" if stage < 3 => {
                    timestamp = Some(parse_timestamp(part)?);
                    stage = 3;
                }
                _ => return Err(SuiteError::UnexpectedPart(part.to_string())),
            }
        }

        Ok(Self {
            text: text.to_string(),
            algorithm,
            digits,
            counter,
            question,
            question_len,
            pin,
            session_len,
            timestamp,
        })
    }
}

fn parse_question(q: &str) -> Result<(QuestionFormat, u8), SuiteError> {
    let err = || {
        if q.starts_with('Q') {
            SuiteError::Question(q.to_string())
        } else if q == "C" || q.starts_with(['P', 'S', 'T']) {
            SuiteError::MissingQuestion
        } else {
            SuiteError::UnexpectedPart(q.to_string())
        }
    };
    let rest = q.strip_prefix('Q').ok_or_else(err)?;
    let mut chars = rest.chars();
    let format = match chars.next() {
        Some('A') => QuestionFormat::Alphanumeric,
        Some('N') => QuestionFormat::Numeric,
        Some('H') => QuestionFormat::Hex,
        _ => return Err(err()),
    };
    let len = chars.as_str();
    if len.len() != 2 || !all_digits(len) {
        return Err(err());
    }
    let n: u8 = len.parse().map_err(|_| err())?;
    if !(4..=64).contains(&n) {
        return Err(err());
    }
    Ok((format, n))
}

fn parse_session(part: &str) -> Result<u16, SuiteError> {
    let err = || SuiteError::Session(part.to_string());
    let n = &part[1..];
    if n.len() != 3 || !all_digits(n) {
        return Err(err());
    }
    let n: u16 = n.parse().map_err(|_| err())?;
    if n == 0 || n > MAX_SESSION_BYTES {
        return Err(err());
    }
    Ok(n)
}

fn parse_timestamp(part: &str) -> Result<TimeStep, SuiteError> {
    let err = || SuiteError::Timestamp(part.to_string());
    // `part` starts with the one-byte 'T'; the unit is the last character, whatever its width.
    let mut body = part[1..].chars();
    let unit = match body.next_back() {
        Some('S') => TimeUnit::Seconds,
        Some('M') => TimeUnit::Minutes,
        Some('H') => TimeUnit::Hours,
        _ => return Err(err()),
    };
    let count = body.as_str();
    if count.is_empty() || count.len() > 2 || !all_digits(count) || count.starts_with('0') {
        return Err(err());
    }
    let count: u8 = count.parse().map_err(|_| err())?;
    let max = if unit == TimeUnit::Hours { 48 } else { 59 };
    if count == 0 || count > max {
        return Err(err());
    }
    Ok(TimeStep { count, unit })
}

impl fmt::Display for OcraSuite {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

impl OcraSuite {
    /// The suite text exactly as parsed.
    pub fn as_str(&self) -> &str {
        &self.text
    }
    /// The HMAC hash.
    pub fn algorithm(&self) -> Algorithm {
        self.algorithm
    }
    /// Digits of the response (4–10).
    pub fn digits(&self) -> u8 {
        self.digits
    }
    /// Whether a counter (`C`) enters the computation.
    pub fn uses_counter(&self) -> bool {
        self.counter
    }
    /// The question format.
    pub fn question_format(&self) -> QuestionFormat {
        self.question
    }
    /// The nominal question length (`nn` of `Q?nn`).
    pub fn question_length(&self) -> u8 {
        self.question_len
    }
    /// The PIN hash, if a PIN enters the computation.
    pub fn pin_hash(&self) -> Option<Algorithm> {
        self.pin
    }
    /// The session data length in bytes, if session data enters the computation.
    pub fn session_length(&self) -> Option<u16> {
        self.session_len
    }
    /// The timestamp step, if a timestamp enters the computation.
    pub fn timestamp(&self) -> Option<TimeStep> {
        self.timestamp
    }
    /// The timestamp value (`T`, in the suite's own unit) at a Unix time, if the suite has one.
    pub fn time_steps_at(&self, unix_time: u64) -> Option<u64> {
        self.timestamp.map(|t| unix_time / t.seconds())
    }
}

/// A PIN, plain or already hashed with the suite's PIN hash.
#[derive(Clone, Copy)]
pub enum Pin<'a> {
    /// The PIN itself; hashed with the suite's `P` hash.
    Plain(&'a str),
    /// The hash of the PIN (as a server stores it).
    Hashed(&'a [u8]),
}

impl fmt::Debug for Pin<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Pin(<redacted>)")
    }
}

/// The inputs of one OCRA computation. Each must be present exactly when the suite uses it.
#[derive(Debug, Clone, Copy, Default)]
pub struct OcraInput<'a> {
    /// The counter (`C`).
    pub counter: Option<u64>,
    /// The question, in the suite's format. May be longer than the suite's nominal
    /// length (mutual challenge-response concatenates two challenges) but must fit
    /// the 128-byte field.
    pub question: &'a str,
    /// The PIN (`P`).
    pub pin: Option<Pin<'a>>,
    /// Session data (`S`), exactly the suite's length.
    pub session: Option<&'a [u8]>,
    /// The timestamp (`T`), counted in the suite's time steps since the Unix epoch.
    pub time_steps: Option<u64>,
}

/// Encodes a question into the 128-byte field: bytes for `A`; hex nibbles, left
/// aligned, for `H` and for the hexadecimal value of an `N` question.
pub fn encode_question(
    format: QuestionFormat,
    question: &str,
) -> Result<[u8; QUESTION_FIELD_BYTES], InputError> {
    let mut field = [0u8; QUESTION_FIELD_BYTES];
    if question.is_empty() {
        return Err(InputError::EmptyQuestion);
    }
    match format {
        QuestionFormat::Alphanumeric => {
            if !question.bytes().all(|b| b.is_ascii_alphanumeric()) {
                return Err(InputError::QuestionCharacters("ASCII letters and digits"));
            }
            if question.len() > QUESTION_FIELD_BYTES {
                return Err(InputError::QuestionTooLong);
            }
            field[..question.len()].copy_from_slice(question.as_bytes());
        }
        QuestionFormat::Hex => {
            let mut nibbles = Vec::with_capacity(question.len());
            for c in question.chars() {
                let v =
                    c.to_digit(16).ok_or(InputError::QuestionCharacters("hexadecimal digits"))?;
                nibbles.push(v as u8);
            }
            put_nibbles(&mut field, &nibbles)?;
        }
        QuestionFormat::Numeric => {
            if !question.bytes().all(|b| b.is_ascii_digit()) {
                return Err(InputError::QuestionCharacters("decimal digits"));
            }
            if question.len() > 2 * QUESTION_FIELD_BYTES * 3 {
                return Err(InputError::QuestionTooLong);
            }
            put_nibbles(&mut field, &decimal_to_hex_nibbles(question))?;
        }
    }
    Ok(field)
}

fn put_nibbles(field: &mut [u8; QUESTION_FIELD_BYTES], nibbles: &[u8]) -> Result<(), InputError> {
    if nibbles.len() > 2 * QUESTION_FIELD_BYTES {
        return Err(InputError::QuestionTooLong);
    }
    for (i, n) in nibbles.iter().enumerate() {
        field[i / 2] |= if i % 2 == 0 { n << 4 } else { *n };
    }
    Ok(())
}

/// The hexadecimal digits (as nibble values, most significant first, no leading
/// zeros; `[0]` for zero) of a decimal string of ASCII digits.
fn decimal_to_hex_nibbles(decimal: &str) -> Vec<u8> {
    // Little-endian base-16 digits, multiplied by 10 and added to per decimal digit.
    let mut digits: Vec<u8> = Vec::with_capacity(decimal.len());
    for b in decimal.bytes() {
        let mut carry = u32::from(b - b'0');
        for d in digits.iter_mut() {
            let v = u32::from(*d) * 10 + carry;
            *d = (v & 0xf) as u8;
            carry = v >> 4;
        }
        while carry > 0 {
            digits.push((carry & 0xf) as u8);
            carry >>= 4;
        }
    }
    if digits.is_empty() {
        digits.push(0);
    }
    digits.reverse();
    digits
}

/// An OCRA computation for one suite and key.
#[derive(Clone)]
pub struct Ocra {
    suite: OcraSuite,
    mac: KeyedMac,
}

impl fmt::Debug for Ocra {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Ocra").field("suite", &self.suite.text).finish_non_exhaustive()
    }
}

impl Ocra {
    /// Keys the suite's HMAC with `key`.
    pub fn new(suite: OcraSuite, key: &Secret) -> Self {
        let mac = KeyedMac::new(suite.algorithm, key.expose());
        Self { suite, mac }
    }

    /// The suite.
    pub fn suite(&self) -> &OcraSuite {
        &self.suite
    }

    /// Computes the response for `input`.
    pub fn generate(&self, input: &OcraInput<'_>) -> Result<Code, InputError> {
        let s = &self.suite;
        let counter = match (s.counter, input.counter) {
            (true, Some(c)) => Some(c.to_be_bytes()),
            (true, None) => return Err(InputError::CounterRequired),
            (false, Some(_)) => return Err(InputError::CounterNotAllowed),
            (false, None) => None,
        };
        let question = encode_question(s.question, input.question)?;
        let pin: Option<Zeroizing<Vec<u8>>> = match (s.pin, input.pin) {
            (Some(alg), Some(Pin::Plain(p))) => Some(hash(alg, p.as_bytes())),
            (Some(alg), Some(Pin::Hashed(h))) => {
                if h.len() != alg.output_len() {
                    return Err(InputError::PinHashLength { expected: alg.output_len() });
                }
                Some(Zeroizing::new(h.to_vec()))
            }
            (Some(_), None) => return Err(InputError::PinRequired),
            (None, Some(_)) => return Err(InputError::PinNotAllowed),
            (None, None) => None,
        };
        let session = match (s.session_len, input.session) {
            (Some(n), Some(d)) if d.len() == usize::from(n) => Some(d),
            (Some(n), Some(_)) => return Err(InputError::SessionLength { expected: n }),
            (Some(_), None) => return Err(InputError::SessionRequired),
            (None, Some(_)) => return Err(InputError::SessionNotAllowed),
            (None, None) => None,
        };
        let time = match (s.timestamp, input.time_steps) {
            (Some(_), Some(t)) => Some(t.to_be_bytes()),
            (Some(_), None) => return Err(InputError::TimestampRequired),
            (None, Some(_)) => return Err(InputError::TimestampNotAllowed),
            (None, None) => None,
        };
        let empty: &[u8] = &[];
        let parts: [&[u8]; 7] = [
            s.text.as_bytes(),
            &[0u8],
            counter.as_ref().map_or(empty, |c| c.as_slice()),
            &question,
            pin.as_ref().map_or(empty, |p| p.as_slice()),
            session.unwrap_or(empty),
            time.as_ref().map_or(empty, |t| t.as_slice()),
        ];
        Ok(Code::from_truncated(self.mac.truncated(&parts), s.digits))
    }

    /// Checks a response. The window moves the timestamp if the suite has one,
    /// otherwise the counter; a suite with neither is checked exactly. Returns the
    /// timestamp or counter value that matched (0 for a suite with neither), or `None`.
    pub fn verify(
        &self,
        response: &str,
        input: &OcraInput<'_>,
        window: Window,
    ) -> Result<Option<u64>, InputError> {
        check_code_shape(response, self.suite.digits)?;
        if self.suite.timestamp.is_some() {
            let center = input.time_steps.ok_or(InputError::TimestampRequired)?;
            find_match(response, center, window, |t| {
                self.generate(&OcraInput { time_steps: Some(t), ..*input })
            })
        } else if self.suite.counter {
            let center = input.counter.ok_or(InputError::CounterRequired)?;
            find_match(response, center, window, |c| {
                self.generate(&OcraInput { counter: Some(c), ..*input })
            })
        } else {
            find_match(response, 0, Window::EXACT, |_| self.generate(input))
        }
    }
}

/// Parses a suite (convenience for `str::parse`).
pub fn parse_suite(text: &str) -> Result<OcraSuite, SuiteError> {
    text.parse()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_every_part() {
        let s = parse_suite("OCRA-1:HOTP-SHA512-8:C-QN08-PSHA256-S128-T30S").unwrap();
        assert_eq!(s.algorithm(), Algorithm::Sha512);
        assert_eq!(s.digits(), 8);
        assert!(s.uses_counter());
        assert_eq!(s.question_format(), QuestionFormat::Numeric);
        assert_eq!(s.question_length(), 8);
        assert_eq!(s.pin_hash(), Some(Algorithm::Sha256));
        assert_eq!(s.session_length(), Some(128));
        assert_eq!(s.timestamp(), Some(TimeStep { count: 30, unit: TimeUnit::Seconds }));
        assert_eq!(s.to_string(), "OCRA-1:HOTP-SHA512-8:C-QN08-PSHA256-S128-T30S");
        let s = parse_suite("OCRA-1:HOTP-SHA256-6:QH64-T2H").unwrap();
        assert_eq!(s.timestamp().unwrap().seconds(), 7200);
        assert_eq!(s.time_steps_at(7199), Some(0));
        assert_eq!(s.time_steps_at(7200), Some(1));
        assert!(parse_suite("OCRA-1:HOTP-SHA1-4:QA04").is_ok());
    }

    #[test]
    fn each_invalid_part_has_its_error() {
        use SuiteError::*;
        type Case = (&'static str, fn(&SuiteError) -> bool);
        let cases: &[Case] = &[
            ("", |e| matches!(e, Shape)),
            ("OCRA-1:HOTP-SHA1-6", |e| matches!(e, Shape)),
            ("OCRA-1:HOTP-SHA1-6:QN08:X", |e| matches!(e, Shape)),
            ("OCRA-2:HOTP-SHA1-6:QN08", |e| matches!(e, Version(_))),
            ("ocra-1:HOTP-SHA1-6:QN08", |e| matches!(e, Version(_))),
            ("OCRA-1:TOTP-SHA1-6:QN08", |e| matches!(e, CryptoFunction(_))),
            ("OCRA-1:HOTP-MD5-6:QN08", |e| matches!(e, CryptoFunction(_))),
            ("OCRA-1:HOTP-SHA1:QN08", |e| matches!(e, CryptoFunction(_))),
            ("OCRA-1:HOTP-SHA1-3:QN08", |e| matches!(e, Digits(_))),
            ("OCRA-1:HOTP-SHA1-0:QN08", |e| matches!(e, Digits(_))),
            ("OCRA-1:HOTP-SHA1-11:QN08", |e| matches!(e, Digits(_))),
            ("OCRA-1:HOTP-SHA1-x:QN08", |e| matches!(e, Digits(_))),
            ("OCRA-1:HOTP-SHA1-6:", |e| matches!(e, MissingQuestion)),
            ("OCRA-1:HOTP-SHA1-6:C", |e| matches!(e, MissingQuestion)),
            ("OCRA-1:HOTP-SHA1-6:C-PSHA1", |e| matches!(e, MissingQuestion)),
            ("OCRA-1:HOTP-SHA1-6:QX08", |e| matches!(e, Question(_))),
            ("OCRA-1:HOTP-SHA1-6:QN03", |e| matches!(e, Question(_))),
            ("OCRA-1:HOTP-SHA1-6:QN65", |e| matches!(e, Question(_))),
            ("OCRA-1:HOTP-SHA1-6:QN8", |e| matches!(e, Question(_))),
            ("OCRA-1:HOTP-SHA1-6:QN08-PMD5", |e| matches!(e, Pin(_))),
            ("OCRA-1:HOTP-SHA1-6:QN08-S64", |e| matches!(e, Session(_))),
            ("OCRA-1:HOTP-SHA1-6:QN08-S000", |e| matches!(e, Session(_))),
            ("OCRA-1:HOTP-SHA1-6:QN08-S513", |e| matches!(e, Session(_))),
            ("OCRA-1:HOTP-SHA1-6:QN08-T", |e| matches!(e, Timestamp(_))),
            ("OCRA-1:HOTP-SHA1-6:QN08-T60S", |e| matches!(e, Timestamp(_))),
            ("OCRA-1:HOTP-SHA1-6:QN08-T49H", |e| matches!(e, Timestamp(_))),
            ("OCRA-1:HOTP-SHA1-6:QN08-T0M", |e| matches!(e, Timestamp(_))),
            ("OCRA-1:HOTP-SHA1-6:QN08-T1D", |e| matches!(e, Timestamp(_))),
            ("OCRA-1:HOTP-SHA1-6:QN08-T1M-PSHA1", |e| matches!(e, UnexpectedPart(_))),
            ("OCRA-1:HOTP-SHA1-6:QN08-PSHA1-PSHA1", |e| matches!(e, UnexpectedPart(_))),
            ("OCRA-1:HOTP-SHA1-6:QN08-C", |e| matches!(e, UnexpectedPart(_))),
            ("OCRA-1:HOTP-SHA1-6:X-QN08", |e| matches!(e, UnexpectedPart(_))),
            ("OCRA-1:HOTP-SHA1-6:QN08-é", |e| matches!(e, UnexpectedPart(_))),
            // Multi-byte characters where one-byte ones are expected (found by fuzzing:
            // the timestamp's unit used to be cut off at a byte, not a character).
            ("OCRA-1:HOTP-SHA256-8:QA64-T1\u{9f}", |e| matches!(e, Timestamp(_))),
            ("OCRA-1:HOTP-SHA256-8:QA64-T\u{3e8}", |e| matches!(e, Timestamp(_))),
            ("OCRA-1:HOTP-SHA256-8:QA64-T\u{1f600}M", |e| matches!(e, Timestamp(_))),
            ("OCRA-1:HOTP-SHA1-6:QN08-S\u{3e8}", |e| matches!(e, Session(_))),
            ("OCRA-1:HOTP-SHA1-6:QN0\u{3e8}", |e| matches!(e, Question(_))),
            ("OCRA-1:HOTP-SHA1-6:Q\u{3e8}08", |e| matches!(e, Question(_))),
            ("OCRA-1:HOTP-SHA1-6:QN08-P\u{3e8}", |e| matches!(e, Pin(_))),
            ("OCRA-1:HOTP-SHA1-\u{3e8}:QN08", |e| matches!(e, Digits(_))),
        ];
        for (suite, check) in cases {
            let err = parse_suite(suite).unwrap_err();
            assert!(check(&err), "{suite}: {err:?}");
        }
        assert_eq!(parse_suite(&"OCRA-1:".repeat(20)).unwrap_err(), Shape);
    }

    #[test]
    fn numeric_questions_become_left_aligned_hex() {
        assert_eq!(decimal_to_hex_nibbles("0"), vec![0]);
        assert_eq!(decimal_to_hex_nibbles("00000000"), vec![0]);
        assert_eq!(decimal_to_hex_nibbles("255"), vec![0xf, 0xf]);
        // 22222222 = 0x153158E: seven nibbles, left aligned.
        let f = encode_question(QuestionFormat::Numeric, "22222222").unwrap();
        assert_eq!(&f[..5], &[0x15, 0x31, 0x58, 0xE0, 0x00]);
        let f = encode_question(QuestionFormat::Hex, "abc").unwrap();
        assert_eq!(&f[..3], &[0xAB, 0xC0, 0x00]);
    }

    #[test]
    fn question_errors() {
        use QuestionFormat::*;
        assert_eq!(encode_question(Numeric, "").unwrap_err(), InputError::EmptyQuestion);
        assert!(matches!(
            encode_question(Numeric, "12a").unwrap_err(),
            InputError::QuestionCharacters(_)
        ));
        assert!(matches!(
            encode_question(Numeric, "-12").unwrap_err(),
            InputError::QuestionCharacters(_)
        ));
        assert!(matches!(
            encode_question(Hex, "0xff").unwrap_err(),
            InputError::QuestionCharacters(_)
        ));
        assert!(matches!(
            encode_question(Alphanumeric, "SIG 1").unwrap_err(),
            InputError::QuestionCharacters(_)
        ));
        assert_eq!(
            encode_question(Alphanumeric, &"A".repeat(129)).unwrap_err(),
            InputError::QuestionTooLong
        );
        assert!(encode_question(Alphanumeric, &"A".repeat(128)).is_ok());
        assert_eq!(
            encode_question(Hex, &"F".repeat(257)).unwrap_err(),
            InputError::QuestionTooLong
        );
        assert_eq!(
            encode_question(Numeric, &"9".repeat(400)).unwrap_err(),
            InputError::QuestionTooLong
        );
        assert_eq!(
            encode_question(Numeric, &"9".repeat(100_000)).unwrap_err(),
            InputError::QuestionTooLong
        );
    }

    #[test]
    fn inputs_must_match_the_suite() {
        let key = Secret::from_bytes(b"12345678901234567890").unwrap();
        let o = Ocra::new(parse_suite("OCRA-1:HOTP-SHA1-6:C-QN08-PSHA1-S004-T1M").unwrap(), &key);
        let full = OcraInput {
            counter: Some(1),
            question: "1234",
            pin: Some(Pin::Plain("1234")),
            session: Some(&[1, 2, 3, 4]),
            time_steps: Some(5),
        };
        assert!(o.generate(&full).is_ok());
        assert_eq!(
            o.generate(&OcraInput { counter: None, ..full }).unwrap_err(),
            InputError::CounterRequired
        );
        assert_eq!(
            o.generate(&OcraInput { pin: None, ..full }).unwrap_err(),
            InputError::PinRequired
        );
        assert_eq!(
            o.generate(&OcraInput { pin: Some(Pin::Hashed(&[0; 19])), ..full }).unwrap_err(),
            InputError::PinHashLength { expected: 20 }
        );
        assert_eq!(
            o.generate(&OcraInput { session: None, ..full }).unwrap_err(),
            InputError::SessionRequired
        );
        assert_eq!(
            o.generate(&OcraInput { session: Some(&[1, 2, 3]), ..full }).unwrap_err(),
            InputError::SessionLength { expected: 4 }
        );
        assert_eq!(
            o.generate(&OcraInput { time_steps: None, ..full }).unwrap_err(),
            InputError::TimestampRequired
        );
        let plain = Ocra::new(parse_suite("OCRA-1:HOTP-SHA1-6:QN08").unwrap(), &key);
        let q = OcraInput { question: "1234", ..Default::default() };
        assert_eq!(
            plain.generate(&OcraInput { counter: Some(1), ..q }).unwrap_err(),
            InputError::CounterNotAllowed
        );
        assert_eq!(
            plain.generate(&OcraInput { pin: Some(Pin::Plain("1")), ..q }).unwrap_err(),
            InputError::PinNotAllowed
        );
        assert_eq!(
            plain.generate(&OcraInput { session: Some(&[1]), ..q }).unwrap_err(),
            InputError::SessionNotAllowed
        );
        assert_eq!(
            plain.generate(&OcraInput { time_steps: Some(1), ..q }).unwrap_err(),
            InputError::TimestampNotAllowed
        );
    }

    #[test]
    fn pin_hash_equals_plain_pin() {
        let key = Secret::from_bytes(b"12345678901234567890").unwrap();
        let o = Ocra::new(parse_suite("OCRA-1:HOTP-SHA1-6:QN08-PSHA1").unwrap(), &key);
        let h = hash(Algorithm::Sha1, b"1234");
        let a = o
            .generate(&OcraInput {
                question: "12",
                pin: Some(Pin::Plain("1234")),
                ..Default::default()
            })
            .unwrap();
        let b = o
            .generate(&OcraInput {
                question: "12",
                pin: Some(Pin::Hashed(&h)),
                ..Default::default()
            })
            .unwrap();
        assert_eq!(a, b);
    }

    #[test]
    fn verify_moves_the_timestamp_then_the_counter() {
        let key = Secret::from_bytes(b"12345678901234567890").unwrap();
        let t = Ocra::new(parse_suite("OCRA-1:HOTP-SHA1-6:QN08-T1M").unwrap(), &key);
        let at = |ts| OcraInput { question: "1", time_steps: Some(ts), ..Default::default() };
        let code = t.generate(&at(100)).unwrap().to_string();
        assert_eq!(t.verify(&code, &at(101), Window::new(1, 0).unwrap()).unwrap(), Some(100));
        assert_eq!(t.verify(&code, &at(102), Window::new(1, 0).unwrap()).unwrap(), None);
        let c = Ocra::new(parse_suite("OCRA-1:HOTP-SHA1-6:C-QN08").unwrap(), &key);
        let at = |n| OcraInput { question: "1", counter: Some(n), ..Default::default() };
        let code = c.generate(&at(7)).unwrap().to_string();
        assert_eq!(c.verify(&code, &at(5), Window::new(0, 2).unwrap()).unwrap(), Some(7));
        assert!(matches!(c.verify("12", &at(5), Window::EXACT).unwrap_err(), InputError::Param(_)));
        let n = Ocra::new(parse_suite("OCRA-1:HOTP-SHA1-6:QN08").unwrap(), &key);
        let q = OcraInput { question: "42", ..Default::default() };
        let code = n.generate(&q).unwrap().to_string();
        assert_eq!(n.verify(&code, &q, Window::new(5, 5).unwrap()).unwrap(), Some(0));
        assert_eq!(
            n.verify(&code, &OcraInput { question: "43", ..q }, Window::EXACT).unwrap(),
            None
        );
    }
}
