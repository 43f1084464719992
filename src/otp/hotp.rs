//! HOTP (RFC 4226) and TOTP (RFC 6238): codes, verification windows, and the checks of
//! their parameters shared with OCRA and Key URIs.

use std::fmt;

use subtle::ConstantTimeEq;

use super::mac::KeyedMac;
use super::params::{
    check_digits, Algorithm, ParamError, MAX_DIGITS, MAX_PERIOD, MAX_WINDOW, MIN_DIGITS,
};
use super::secret::Secret;

const POW10: [u64; 11] = [
    1,
    10,
    100,
    1_000,
    10_000,
    100_000,
    1_000_000,
    10_000_000,
    100_000_000,
    1_000_000_000,
    10_000_000_000,
];

/// A one-time code: a value and its digit count. Formats zero-padded; `Debug`
/// is redacted so a code never reaches a log by accident.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct Code {
    value: u32,
    digits: u8,
}

impl Code {
    pub(crate) fn from_truncated(truncated: u32, digits: u8) -> Self {
        let value = (u64::from(truncated) % POW10[usize::from(digits)]) as u32;
        Self { value, digits }
    }

    /// The numeric value.
    pub fn value(&self) -> u32 {
        self.value
    }

    /// The number of digits.
    pub fn digits(&self) -> u8 {
        self.digits
    }

    /// ASCII digits in a stack buffer; the first `digits` bytes are used.
    fn ascii(&self) -> [u8; MAX_DIGITS as usize] {
        let mut buf = [b'0'; MAX_DIGITS as usize];
        let mut v = self.value;
        for i in (0..usize::from(self.digits)).rev() {
            buf[i] = b'0' + (v % 10) as u8;
            v /= 10;
        }
        buf
    }

    /// Compares with user input in constant time (in the content of the code).
    pub fn matches(&self, input: &str) -> bool {
        let n = usize::from(self.digits);
        input.len() == n && bool::from(self.ascii()[..n].ct_eq(input.as_bytes()))
    }
}

impl fmt::Display for Code {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let buf = self.ascii();
        // The buffer only ever holds ASCII digits.
        f.write_str(std::str::from_utf8(&buf[..usize::from(self.digits)]).map_err(|_| fmt::Error)?)
    }
}

impl fmt::Debug for Code {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Code(<{} digits, redacted>)", self.digits)
    }
}

/// Checks that `code` is exactly `digits` ASCII digits.
pub(crate) fn check_code_shape(code: &str, digits: u8) -> Result<(), ParamError> {
    if code.len() != usize::from(digits) || !code.bytes().all(|b| b.is_ascii_digit()) {
        return Err(ParamError::MalformedCode { digits });
    }
    Ok(())
}

/// How many steps before and after the expected one a verification also accepts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Window {
    /// Steps (or counter values) before the expected one.
    pub behind: u32,
    /// Steps (or counter values) after the expected one.
    pub ahead: u32,
}

impl Window {
    /// A window of `behind` steps before and `ahead` after; at most [`MAX_WINDOW`] each.
    pub fn new(behind: u32, ahead: u32) -> Result<Self, ParamError> {
        if behind > MAX_WINDOW || ahead > MAX_WINDOW {
            return Err(ParamError::Window);
        }
        Ok(Self { behind, ahead })
    }

    /// Exactly the expected step.
    pub const EXACT: Window = Window { behind: 0, ahead: 0 };

    /// The candidates around `center`, nearest first (0, -1, +1, -2, +2, …),
    /// skipping values outside `u64`.
    pub(crate) fn candidates(self, center: u64) -> impl Iterator<Item = u64> {
        let span = self.behind.max(self.ahead);
        std::iter::once(Some(center))
            .chain((1..=u64::from(span)).flat_map(move |d| {
                let back = (d <= u64::from(self.behind)).then(|| center.checked_sub(d)).flatten();
                let fwd = (d <= u64::from(self.ahead)).then(|| center.checked_add(d)).flatten();
                [back, fwd]
            }))
            .flatten()
    }
}

/// Runs `generate` for each candidate step, comparing every one in constant time
/// and never stopping early; returns the nearest matching step.
pub(crate) fn find_match<E>(
    code: &str,
    center: u64,
    window: Window,
    mut generate: impl FnMut(u64) -> Result<Code, E>,
) -> Result<Option<u64>, E> {
    // The input is read once; each candidate is then compared by value, in constant
    // time. For an input of `digits` ASCII digits this is exactly `Code::matches` (a
    // value below 10^digits has one zero-padded text of that length), at a fraction of
    // its cost (it formats the candidate and compares byte by byte).
    let input = parse_code(code);
    let mut found = None;
    for step in window.candidates(center) {
        let candidate = generate(step)?;
        let matched = match input {
            Some(value) => {
                code.len() == usize::from(candidate.digits)
                    && bool::from(u64::from(candidate.value).ct_eq(&value))
            }
            None => false,
        };
        if matched && found.is_none() {
            found = Some(step);
        }
    }
    Ok(found)
}

/// The value of a code of 1 to [`MAX_DIGITS`] ASCII digits, or `None`.
fn parse_code(code: &str) -> Option<u64> {
    if code.is_empty() || code.len() > usize::from(MAX_DIGITS) {
        return None;
    }
    code.bytes().try_fold(0u64, |acc, b| b.is_ascii_digit().then(|| acc * 10 + u64::from(b - b'0')))
}

/// HOTP (RFC 4226): an HMAC of a counter, truncated to 6–10 digits.
#[derive(Clone)]
pub struct Hotp {
    mac: KeyedMac,
    algorithm: Algorithm,
    digits: u8,
}

impl fmt::Debug for Hotp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Hotp")
            .field("algorithm", &self.algorithm)
            .field("digits", &self.digits)
            .finish_non_exhaustive()
    }
}

impl Hotp {
    /// A generator for `secret` with the given hash and 6–10 digits.
    pub fn new(secret: &Secret, algorithm: Algorithm, digits: u8) -> Result<Self, ParamError> {
        let digits = check_digits(digits.into(), MIN_DIGITS)?;
        Ok(Self { mac: KeyedMac::new(algorithm, secret.expose()), algorithm, digits })
    }

    /// The hash function.
    pub fn algorithm(&self) -> Algorithm {
        self.algorithm
    }

    /// The number of digits.
    pub fn digits(&self) -> u8 {
        self.digits
    }

    /// The code for `counter`.
    pub fn generate(&self, counter: u64) -> Code {
        Code::from_truncated(self.mac.truncated(&[&counter.to_be_bytes()]), self.digits)
    }

    /// Checks `code` against `counter` and the counters in `window` around it.
    /// Returns the counter that matched (store it, and accept only later ones, to refuse replays),
    /// or `None`. Every candidate is computed and compared in constant time.
    pub fn verify(
        &self,
        code: &str,
        counter: u64,
        window: Window,
    ) -> Result<Option<u64>, ParamError> {
        check_code_shape(code, self.digits)?;
        find_match(code, counter, window, |c| Ok(self.generate(c)))
    }
}

/// Where a time falls in TOTP's sequence of steps.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StepWindow {
    /// The time step (the HOTP counter).
    pub step: u64,
    /// First second (Unix time) of the step.
    pub valid_from: u64,
    /// First second after the step (Unix time): the code is valid while `time < valid_until`.
    pub valid_until: u64,
    /// Seconds from the given time until `valid_until`.
    pub seconds_remaining: u64,
}

/// TOTP (RFC 6238): HOTP over the time step `floor((time - T0) / period)`.
#[derive(Clone, Debug)]
pub struct Totp {
    hotp: Hotp,
    period: u64,
    t0: u64,
}

impl Totp {
    /// Default period: 30 seconds.
    pub const DEFAULT_PERIOD: u64 = 30;

    /// A generator with the given hash, 6–10 digits, period (1–3600 s) and T0 (Unix seconds).
    pub fn new(
        secret: &Secret,
        algorithm: Algorithm,
        digits: u8,
        period: u64,
        t0: u64,
    ) -> Result<Self, ParamError> {
        if period == 0 || period > MAX_PERIOD {
            return Err(ParamError::Period(period));
        }
        Ok(Self { hotp: Hotp::new(secret, algorithm, digits)?, period, t0 })
    }

    /// The hash function.
    pub fn algorithm(&self) -> Algorithm {
        self.hotp.algorithm
    }

    /// The number of digits.
    pub fn digits(&self) -> u8 {
        self.hotp.digits
    }

    /// The period in seconds.
    pub fn period(&self) -> u64 {
        self.period
    }

    /// T0 in Unix seconds.
    pub fn t0(&self) -> u64 {
        self.t0
    }

    /// The time step for a Unix time.
    pub fn step_at(&self, unix_time: u64) -> Result<u64, ParamError> {
        let since = unix_time
            .checked_sub(self.t0)
            .ok_or(ParamError::BeforeT0 { time: unix_time, t0: self.t0 })?;
        Ok(since / self.period)
    }

    /// The step a time falls in, with its validity bounds.
    pub fn window_at(&self, unix_time: u64) -> Result<StepWindow, ParamError> {
        let step = self.step_at(unix_time)?;
        let valid_from = self.step_start(step)?;
        let valid_until = valid_from.checked_add(self.period).ok_or(ParamError::Overflow)?;
        Ok(StepWindow { step, valid_from, valid_until, seconds_remaining: valid_until - unix_time })
    }

    /// The first second (Unix time) of `step`.
    pub fn step_start(&self, step: u64) -> Result<u64, ParamError> {
        step.checked_mul(self.period)
            .and_then(|s| s.checked_add(self.t0))
            .ok_or(ParamError::Overflow)
    }

    /// The code for time step `step`.
    pub fn generate_step(&self, step: u64) -> Code {
        self.hotp.generate(step)
    }

    /// The code at a Unix time.
    pub fn generate_at(&self, unix_time: u64) -> Result<Code, ParamError> {
        Ok(self.generate_step(self.step_at(unix_time)?))
    }

    /// Checks `code` at `unix_time`, also accepting the steps in `window` around it.
    /// Returns the step that matched (store it and refuse any step at or below it to
    /// stop replays), or `None`. Every candidate is compared in constant time.
    pub fn verify(
        &self,
        code: &str,
        unix_time: u64,
        window: Window,
    ) -> Result<Option<u64>, ParamError> {
        let step = self.step_at(unix_time)?;
        self.hotp.verify(code, step, window)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rfc_secret() -> Secret {
        Secret::from_bytes(b"12345678901234567890").unwrap()
    }

    #[test]
    fn digits_range() {
        let s = rfc_secret();
        for d in [0u8, 1, 5, 11, 255] {
            assert!(matches!(
                Hotp::new(&s, Algorithm::Sha1, d).unwrap_err(),
                ParamError::Digits { .. }
            ));
        }
        for d in 6..=10 {
            assert_eq!(
                Hotp::new(&s, Algorithm::Sha1, d).unwrap().generate(0).to_string().len(),
                usize::from(d)
            );
        }
    }

    #[test]
    fn period_range_and_t0() {
        let s = rfc_secret();
        assert_eq!(Totp::new(&s, Algorithm::Sha1, 6, 0, 0).unwrap_err(), ParamError::Period(0));
        assert_eq!(
            Totp::new(&s, Algorithm::Sha1, 6, 3601, 0).unwrap_err(),
            ParamError::Period(3601)
        );
        let t = Totp::new(&s, Algorithm::Sha1, 6, 30, 100).unwrap();
        assert_eq!(t.step_at(99).unwrap_err(), ParamError::BeforeT0 { time: 99, t0: 100 });
        assert_eq!(t.step_at(100).unwrap(), 0);
        assert_eq!(t.step_at(130).unwrap(), 1);
        let w = t.window_at(145).unwrap();
        assert_eq!(
            w,
            StepWindow { step: 1, valid_from: 130, valid_until: 160, seconds_remaining: 15 }
        );
        let max = Totp::new(&s, Algorithm::Sha1, 6, 1, 0).unwrap();
        assert_eq!(max.window_at(u64::MAX).unwrap_err(), ParamError::Overflow);
    }

    #[test]
    fn verify_returns_the_matching_step() {
        let t = Totp::new(&rfc_secret(), Algorithm::Sha1, 8, 30, 0).unwrap();
        let now = 1_111_111_109;
        let step = t.step_at(now).unwrap();
        let w = Window::new(1, 1).unwrap();
        let prev = t.generate_step(step - 1).to_string();
        let next = t.generate_step(step + 1).to_string();
        let far = t.generate_step(step + 2).to_string();
        assert_eq!(t.verify(&t.generate_at(now).unwrap().to_string(), now, w).unwrap(), Some(step));
        assert_eq!(t.verify(&prev, now, w).unwrap(), Some(step - 1));
        assert_eq!(t.verify(&next, now, w).unwrap(), Some(step + 1));
        assert_eq!(t.verify(&far, now, w).unwrap(), None);
        assert_eq!(t.verify(&prev, now, Window::EXACT).unwrap(), None);
        assert_eq!(t.verify(&next, now, Window::new(1, 0).unwrap()).unwrap(), None);
    }

    #[test]
    fn verify_rejects_malformed_codes() {
        let h = Hotp::new(&rfc_secret(), Algorithm::Sha1, 6).unwrap();
        for bad in ["", "75522", "7552244", "75522a", "７５５２２４", " 755224"] {
            assert_eq!(
                h.verify(bad, 0, Window::EXACT).unwrap_err(),
                ParamError::MalformedCode { digits: 6 }
            );
        }
        assert_eq!(h.verify("755224", 0, Window::EXACT).unwrap(), Some(0));
        assert_eq!(Window::new(101, 0).unwrap_err(), ParamError::Window);
    }

    #[test]
    fn window_edges_do_not_overflow() {
        let h = Hotp::new(&rfc_secret(), Algorithm::Sha1, 6).unwrap();
        let w = Window::new(2, 2).unwrap();
        assert_eq!(w.candidates(0).collect::<Vec<_>>(), vec![0, 1, 2]);
        assert_eq!(
            w.candidates(u64::MAX).collect::<Vec<_>>(),
            vec![u64::MAX, u64::MAX - 1, u64::MAX - 2]
        );
        assert_eq!(
            Window::new(1, 2).unwrap().candidates(10).collect::<Vec<_>>(),
            vec![10, 9, 11, 12]
        );
        let code = h.generate(1).to_string();
        assert_eq!(h.verify(&code, 0, w).unwrap(), Some(1));
    }

    #[test]
    fn code_debug_is_redacted() {
        let h = Hotp::new(&rfc_secret(), Algorithm::Sha1, 6).unwrap();
        let c = h.generate(0);
        assert_eq!(c.to_string(), "755224");
        assert!(!format!("{c:?}").contains("755224"));
        assert!(!format!("{h:?}").contains("1234"));
    }

    #[test]
    fn algorithm_names() {
        assert_eq!("sha-256".parse::<Algorithm>().unwrap(), Algorithm::Sha256);
        assert_eq!("SHA512".parse::<Algorithm>().unwrap(), Algorithm::Sha512);
        assert_eq!("md5".parse::<Algorithm>().unwrap_err(), ParamError::UnknownAlgorithm);
    }
}
