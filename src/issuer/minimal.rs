//! The minimal in-memory issuer counterpart that the app-side tests use (superseded by
//! [`super::Issuer`]). What a bank or OTP centre runs. This is the
//! minimal, in-memory counterpart of the app side: it issues registration codes,
//! answers registration requests, and verifies login and transaction codes with
//! replay protection. The mobile library is built without it.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard};

use zeroize::Zeroizing;

use crate::clock::Clock;
use crate::enrollment::{self, Grant, OtpParams, ProtocolError, RegistrationCode, RejectReason, Request};
use crate::error::HostError;
use crate::otp::ocra::{Ocra, OcraInput};
use crate::otp::Window;
use crate::transaction::{Transaction, TransactionError};

/// How long a registration code stays valid by default: 10 minutes.
pub const DEFAULT_CODE_TTL: u64 = 600;

/// Issuer-side faults (internal).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Fault {
    /// No credential with that serial number.
    #[error("unknown serial number")]
    UnknownSerial,
    /// A malformed transaction.
    #[error("invalid transaction: {0}")]
    Transaction(#[from] TransactionError),
    /// A protocol or crypto failure.
    #[error(transparent)]
    Protocol(#[from] ProtocolError),
    /// The clock failed.
    #[error("the clock failed: {0}")]
    Clock(HostError),
}

/// A credential's state at the issuer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CredentialState {
    /// Registered; activated by the first code that verifies.
    Pending,
    /// In use.
    Active,
    /// Replaced by a newer registration of the same customer.
    Revoked,
}

struct PendingCode {
    customer_id: String,
    salt: [u8; 32],
    expires_at: u64,
}

struct Credential {
    customer_id: String,
    seed: Zeroizing<[u8; 32]>,
    params: OtpParams,
    valid_until: u64,
    state: CredentialState,
    /// The last accepted login step; a code at or below it is a replay.
    last_login_step: Option<u64>,
    /// The last accepted transaction time step.
    last_transaction_step: Option<u64>,
}

#[derive(Default)]
struct State {
    codes: HashMap<[u8; 32], PendingCode>,
    credentials: HashMap<String, Credential>,
    by_customer: HashMap<String, String>,
    next_serial: u64,
}

/// An in-memory issuer for one institution.
pub struct Issuer {
    institution_id: String,
    institution_name: String,
    clock: Arc<dyn Clock>,
    code_ttl: u64,
    state: Mutex<State>,
}

impl std::fmt::Debug for Issuer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Issuer").field("institution_id", &self.institution_id).finish_non_exhaustive()
    }
}

fn lock(m: &Mutex<State>) -> MutexGuard<'_, State> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

impl Issuer {
    /// An issuer for `institution_id` (letters, digits, `-`, `_`, `.`) named `institution_name`.
    pub fn new(institution_id: &str, institution_name: &str, clock: Arc<dyn Clock>) -> Self {
        Self {
            institution_id: institution_id.to_string(),
            institution_name: institution_name.to_string(),
            clock,
            code_ttl: DEFAULT_CODE_TTL,
            state: Mutex::new(State::default()),
        }
    }

    fn now(&self) -> Result<u64, Fault> {
        self.clock.now_unix_seconds().map_err(Fault::Clock)
    }

    /// Issues a single-use registration code for `customer_id`, valid for 10 minutes.
    /// The issuer keeps only hashes of it.
    pub fn issue_registration_code(&self, customer_id: &str) -> Result<RegistrationCode, Fault> {
        let code = RegistrationCode::generate()?;
        let expires_at = self.now()?.saturating_add(self.code_ttl);
        lock(&self.state).codes.insert(
            code.id(),
            PendingCode {
                customer_id: customer_id.to_string(),
                salt: code.salt(),
                expires_at,
            },
        );
        Ok(code)
    }

    /// Answers a registration request: the response, or an error message for the app.
    /// On success the customer's previous credential is revoked and the new one is
    /// pending until its first code verifies.
    pub fn handle_registration(&self, request: &[u8]) -> Vec<u8> {
        match self.register(request) {
            Ok(response) => response,
            Err(reason) => enrollment::reject(reason),
        }
    }

    fn register(&self, request: &[u8]) -> Result<Vec<u8>, RejectReason> {
        let request = Request::parse(request).map_err(|_| RejectReason::MalformedRequest)?;
        let now = self.now().map_err(|_| RejectReason::Refused)?;
        let mut state = lock(&self.state);
        // Single use: the code is consumed whatever happens next.
        let code = state.codes.remove(&request.code_id).ok_or(RejectReason::InvalidCode)?;
        if now >= code.expires_at {
            return Err(RejectReason::ExpiredCode);
        }
        state.next_serial += 1;
        let serial_number = format!("{}-{:08}", self.institution_id.to_ascii_uppercase(), state.next_serial);
        let grant = Grant {
            serial_number: serial_number.clone(),
            institution_id: self.institution_id.clone(),
            institution_name: self.institution_name.clone(),
            params: OtpParams::standard().map_err(|_| RejectReason::Refused)?,
            valid_until: now.saturating_add(enrollment::VALIDITY_SECONDS),
            issuer_time: now,
        };
        let (response, seed) = enrollment::accept(&request, &code.salt, &grant).map_err(|_| RejectReason::MalformedRequest)?;
        if let Some(old) = state.by_customer.insert(code.customer_id.clone(), serial_number.clone()) {
            if let Some(c) = state.credentials.get_mut(&old) {
                c.state = CredentialState::Revoked;
            }
        }
        state.credentials.insert(
            serial_number,
            Credential {
                customer_id: code.customer_id,
                seed,
                params: grant.params,
                valid_until: grant.valid_until,
                state: CredentialState::Pending,
                last_login_step: None,
                last_transaction_step: None,
            },
        );
        Ok(response)
    }

    /// Verifies a login code (TOTP, ±1 step). Refuses replays (a step at or below the
    /// last accepted one), revoked and expired credentials. The first success activates
    /// a pending credential.
    pub fn verify_login(&self, serial_number: &str, code: &str) -> Result<bool, Fault> {
        let now = self.now()?;
        let mut state = lock(&self.state);
        let c = state.credentials.get_mut(serial_number).ok_or(Fault::UnknownSerial)?;
        if c.state == CredentialState::Revoked || now >= c.valid_until {
            return Ok(false);
        }
        let keys = enrollment::derive_keys(&c.seed, &c.params)?;
        let totp = enrollment::login_totp(&keys, &c.params)?;
        let Ok(Some(step)) = totp.verify(code, now, Window::new(1, 1).unwrap_or(Window::EXACT)) else {
            return Ok(false);
        };
        if c.last_login_step.is_some_and(|last| step <= last) {
            return Ok(false);
        }
        c.last_login_step = Some(step);
        c.state = CredentialState::Active;
        Ok(true)
    }

    /// Verifies a transaction code for exactly `transaction` (OCRA, ±1 time step), with
    /// the same replay rule.
    pub fn verify_transaction(&self, serial_number: &str, code: &str, transaction: &Transaction) -> Result<bool, Fault> {
        let canonical = transaction.canonical()?;
        let now = self.now()?;
        let mut state = lock(&self.state);
        let c = state.credentials.get_mut(serial_number).ok_or(Fault::UnknownSerial)?;
        if c.state == CredentialState::Revoked || now >= c.valid_until {
            return Ok(false);
        }
        let keys = enrollment::derive_keys(&c.seed, &c.params)?;
        let suite = c.params.transaction_suite.clone();
        let Some(steps) = suite.time_steps_at(now) else {
            return Ok(false);
        };
        let question = canonical.question();
        let ocra = Ocra::new(suite, &keys.transaction);
        let input = OcraInput { question: &question, time_steps: Some(steps), ..Default::default() };
        let Ok(Some(step)) = ocra.verify(code, &input, Window::new(1, 1).unwrap_or(Window::EXACT)) else {
            return Ok(false);
        };
        if c.last_transaction_step.is_some_and(|last| step <= last) {
            return Ok(false);
        }
        c.last_transaction_step = Some(step);
        Ok(true)
    }

    /// A credential's state, or `None` if the serial is unknown.
    pub fn credential_state(&self, serial_number: &str) -> Option<CredentialState> {
        lock(&self.state).credentials.get(serial_number).map(|c| c.state)
    }

    /// The serial number of a customer's current credential.
    pub fn serial_of(&self, customer_id: &str) -> Option<String> {
        let state = lock(&self.state);
        let serial = state.by_customer.get(customer_id)?;
        state.credentials.get(serial).filter(|c| c.customer_id == customer_id)?;
        Some(serial.clone())
    }
}
