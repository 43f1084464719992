//! Unlocking a credential with the bank's help (docs/adr/0010), and what an unlock is
//! for: a login code, a transaction code, a change of the app password.

use zeroize::Zeroizing;

use super::vault::{open_seed, seal_seed, seed_key, unhex_array, unhex_vec, StoredCredential};
use super::{check_password_policy, MAX_PASSWORD_ATTEMPTS};
use super::{lock, random, Client, ClientError, GeneratedCode, StoredState, TransactionCode};
use super::{Purpose, Unlocking};
use crate::crypto::hex;
use crate::enrollment::unlock::{self, Answer, PendingUnlock};
use crate::enrollment::{self, Device, ProtocolError, RejectReason};
use crate::otp::ocra::{Ocra, OcraInput};
use crate::storage::{BlobError, Sealer};
use crate::transaction::Transaction;

/// Unlocks under way at once, at most (the oldest is dropped beyond).
const MAX_UNLOCKS_UNDER_WAY: usize = 8;

impl Client {
    // ------------------------------------------------------------ unlocking

    /// A usable credential of `institution_id` on `device`, and its store key.
    fn usable(
        &self,
        sealer: &Sealer,
        institution_id: &str,
        device: &Device,
        now: u64,
    ) -> Result<(String, StoredCredential), ClientError> {
        let key = self.vault.locate(sealer, institution_id)?;
        let c = self.vault.read_credential(sealer, &key)?;
        if c.state == StoredState::Locked || c.sealed_seed.is_none() {
            return Err(ClientError::Locked);
        }
        if c.state == StoredState::Unconfirmed {
            return Err(ClientError::Unconfirmed);
        }
        if !c.device_matches(device)? {
            return Err(ClientError::DeviceMismatch);
        }
        if c.adjusted(now) >= c.valid_until {
            return Err(ClientError::Expired);
        }
        Ok((key, c))
    }

    fn begin_unlock(
        &self,
        institution_id: &str,
        password: &str,
        new_password: Option<&str>,
        device: &Device,
        purpose: Purpose,
    ) -> Result<Vec<u8>, ClientError> {
        // A password of the wrong form cannot be right: refused here, it costs no guess.
        if !super::policy::is_well_formed(password) {
            return Err(ClientError::MalformedPassword);
        }
        let now = self.now()?;
        let _guard = lock(&self.state);
        let (_, sealer) = self.vault.sealer(false)?;
        let (store_key, mut c) = self.usable(&sealer, institution_id, device, now)?;
        let time_ms = (c.adjusted(now).saturating_mul(1000)).max(c.last_request_ms + 1);
        let confirm = match (c.confirm_eval, &c.confirm_mac) {
            (Some(n), Some(m)) => Some((n, unhex_array(m)?)),
            _ => None,
        };
        let (mut pending, to_sign) = PendingUnlock::start(
            institution_id,
            &c.serial_number,
            password.as_bytes(),
            new_password.map(str::as_bytes),
            time_ms,
            confirm,
        )?;
        let signature =
            self.keys.sign(c.key_alias.clone(), to_sign.to_vec()).map_err(ClientError::Keys)?;
        // The next request must be later than this one, even after a crash.
        c.last_request_ms = time_ms;
        self.vault.write_credential(&sealer, &store_key, &c)?;
        let request = pending.request(signature);
        let mut unlocking = lock(&self.unlocking);
        if unlocking.len() >= MAX_UNLOCKS_UNDER_WAY {
            unlocking.remove(0);
        }
        unlocking.push(Unlocking {
            pending,
            institution_id: institution_id.to_string(),
            serial_number: c.serial_number.clone(),
            store_key,
            purpose,
        });
        Ok(request)
    }

    /// The bank's answer to the unlock in progress: the credential and its seed when the
    /// password was right. Persists what the answer changes (the clock offset, the
    /// attempts left, the lock, the confirmation for the next request).
    /// `wanted` says which kind of unlock the caller completes: an answer to another kind
    /// is refused as `NoUnlockInProgress` and leaves its request under way.
    fn complete_unlock(
        &self,
        answer: &[u8],
        wanted: fn(&Purpose) -> bool,
    ) -> Result<(StoredCredential, Zeroizing<[u8; 32]>, Purpose), ClientError> {
        let now = self.now()?;
        let _guard = lock(&self.state);
        let (device_key, sealer) = self.vault.sealer(false)?;
        // The unlock under way whose request this answers (its MAC covers the request).
        let (unlocking, mut c, parsed) = {
            let mut under_way = lock(&self.unlocking);
            if under_way.is_empty() {
                return Err(ClientError::NoUnlockInProgress);
            }
            let mut found = None;
            // No request under way matches: the answer was altered or is not ours.
            let mut last_error = ClientError::Protocol(ProtocolError::Field("mac"));
            for i in (0..under_way.len()).rev() {
                let u = &under_way[i];
                let c = self.vault.read_credential(&sealer, &u.store_key)?;
                if c.serial_number != u.serial_number || c.institution_id != u.institution_id {
                    continue;
                }
                let unlock_key: Zeroizing<[u8; 32]> = Zeroizing::new(unhex_array(&c.unlock_key)?);
                match u.pending.answer(&unlock_key, answer) {
                    Err(ProtocolError::Confirmation) => continue,
                    Err(e) => {
                        last_error = e.into();
                        continue;
                    }
                    Ok(_) if !wanted(&u.purpose) => return Err(ClientError::NoUnlockInProgress),
                    Ok(parsed) => {
                        found = Some((i, c, parsed));
                        break;
                    }
                }
            }
            let Some((i, c, parsed)) = found else { return Err(last_error) };
            (under_way.remove(i), c, parsed)
        };
        let Unlocking { store_key, purpose, .. } = unlocking;
        let learn = |c: &mut StoredCredential, issuer_time: u64| {
            c.clock_offset = (i128::from(issuer_time) - i128::from(now))
                .clamp(i128::from(i64::MIN), i128::from(i64::MAX))
                as i64;
        };
        match parsed {
            Answer::Refused { reason, issuer_time } => {
                learn(&mut c, issuer_time);
                let err = match reason {
                    RejectReason::Locked => {
                        self.destroy(&mut c);
                        ClientError::Locked
                    }
                    RejectReason::Stale => {
                        // The bank's time is now learned. A request time from a clock that
                        // ran ahead must not hold the next request back: it comes down to
                        // the end of the bank's current second at the latest. (A time
                        // behind the bank's last request only moves on: each request is
                        // later than the one before it.)
                        let bank_ms = issuer_time.saturating_mul(1000).saturating_add(999);
                        c.last_request_ms = c.last_request_ms.min(bank_ms);
                        ClientError::Stale
                    }
                    RejectReason::NotUsable => ClientError::NotUsable,
                    other => ClientError::Protocol(ProtocolError::Rejected(other)),
                };
                self.vault.write_credential(&sealer, &store_key, &c)?;
                Err(err)
            }
            Answer::Evaluated { output, output_new, eval, remaining, issuer_time } => {
                learn(&mut c, issuer_time);
                let sealed = c.sealed_seed.clone().ok_or(ClientError::Locked)?;
                let key = seed_key(
                    &*output,
                    &unhex_vec(&c.kdf_salt)?,
                    c.kdf_iterations,
                    &device_key,
                    &c.institution_id,
                    &c.serial_number,
                )?;
                match open_seed(&key, &c.seed_aad(), &sealed) {
                    Ok(seed) => {
                        c.confirm_eval = Some(eval);
                        c.confirm_mac =
                            Some(hex(&unlock::confirmation_mac(&seed, &c.serial_number, eval)));
                        c.attempts_remaining = MAX_PASSWORD_ATTEMPTS;
                        let change = matches!(purpose, Purpose::ChangePassword);
                        if change && output_new.is_none() {
                            self.vault.write_credential(&sealer, &store_key, &c)?;
                            return Err(ClientError::ChangeAgain);
                        }
                        if let Some(new) = output_new {
                            let mut salt = [0u8; 16];
                            random(&mut salt)?;
                            let key = seed_key(
                                &*new,
                                &salt,
                                self.iterations,
                                &device_key,
                                &c.institution_id,
                                &c.serial_number,
                            )?;
                            c.kdf_salt = hex(&salt);
                            c.kdf_iterations = self.iterations;
                            c.sealed_seed = Some(seal_seed(&key, &c.seed_aad(), &seed)?);
                        }
                        self.vault.write_credential(&sealer, &store_key, &c)?;
                        Ok((c, seed, purpose))
                    }
                    Err(ClientError::Corrupted(BlobError::Tampered)) => {
                        c.attempts_remaining = remaining;
                        let err = if remaining == 0 {
                            self.destroy(&mut c);
                            ClientError::Locked
                        } else {
                            ClientError::WrongPassword { remaining }
                        };
                        self.vault.write_credential(&sealer, &store_key, &c)?;
                        Err(err)
                    }
                    Err(e) => Err(e),
                }
            }
        }
    }

    /// Destroys a credential's seed and device key: only re-registration helps.
    fn destroy(&self, c: &mut StoredCredential) {
        c.state = StoredState::Locked;
        c.sealed_seed = None;
        c.attempts_remaining = 0;
        let _ = self.keys.delete_key(c.key_alias.clone());
    }

    // ------------------------------------------------------------ codes

    /// Starts a login code for `institution_id`: the unlock request to send to the bank
    /// (the password's blinded OPRF element, signed by the device key). Persists the
    /// request time.
    pub fn begin_login_code(
        &self,
        institution_id: &str,
        password: &str,
        device: &Device,
    ) -> Result<Vec<u8>, ClientError> {
        self.begin_unlock(institution_id, password, None, device, Purpose::Login)
    }

    /// The login code (TOTP, bank clock) from the bank's answer to the unlock. A wrong
    /// password is `WrongPassword` (the bank counted it); the fifth in a row locks the
    /// credential. Persists what the answer changes.
    pub fn complete_login_code(&self, answer: &[u8]) -> Result<GeneratedCode, ClientError> {
        let (c, seed, _) = self.complete_unlock(answer, |p| matches!(p, Purpose::Login))?;
        let params = c.params()?;
        let keys = enrollment::derive_keys(&seed, &params)?;
        let totp = enrollment::login_totp(&keys, &params)?;
        let now = self.now()?;
        let w = totp.window_at(c.adjusted(now)).map_err(|_| ClientError::Internal("time"))?;
        Ok(GeneratedCode {
            code: totp.generate_step(w.step).to_string(),
            serial_number: c.serial_number.clone(),
            valid_from: c.to_local(w.valid_from),
            valid_until: c.to_local(w.valid_until),
            seconds_remaining: w.seconds_remaining,
        })
    }

    /// Starts a transaction code bound to `transaction` (checked first, before the
    /// password is sent anywhere): the unlock request. Persists the request time.
    pub fn begin_transaction_code(
        &self,
        institution_id: &str,
        password: &str,
        device: &Device,
        transaction: &Transaction,
    ) -> Result<Vec<u8>, ClientError> {
        let canonical = transaction.canonical()?;
        self.begin_unlock(institution_id, password, None, device, Purpose::Transaction(canonical))
    }

    /// The transaction code (OCRA over the canonical transaction) from the bank's answer
    /// to the unlock, with the summary the app must have shown. Persists what the answer
    /// changes.
    pub fn complete_transaction_code(&self, answer: &[u8]) -> Result<TransactionCode, ClientError> {
        let (c, seed, purpose) =
            self.complete_unlock(answer, |p| matches!(p, Purpose::Transaction(_)))?;
        let Purpose::Transaction(canonical) = purpose else {
            return Err(ClientError::NoUnlockInProgress);
        };
        let params = c.params()?;
        let keys = enrollment::derive_keys(&seed, &params)?;
        let suite = params.transaction_suite.clone();
        let step = suite.timestamp().map(|t| t.seconds()).ok_or(ClientError::Internal("suite"))?;
        let now = c.adjusted(self.now()?);
        let steps = now / step;
        let question = canonical.question();
        let code = Ocra::new(suite, &keys.transaction)
            .generate(&OcraInput {
                question: &question,
                time_steps: Some(steps),
                ..Default::default()
            })
            .map_err(|_| ClientError::Internal("ocra"))?;
        let start = steps.saturating_mul(step);
        let end = start.saturating_add(step);
        Ok(TransactionCode {
            code: code.to_string(),
            summary: canonical.summary(),
            serial_number: c.serial_number.clone(),
            valid_from: c.to_local(start),
            valid_until: c.to_local(end),
            seconds_remaining: end.saturating_sub(now),
        })
    }

    // ------------------------------------------------------------ password

    /// Starts a change of the app password: `new` must follow the policy; the request
    /// asks the bank to evaluate both passwords (it counts two guesses; with one attempt
    /// left it evaluates the old one alone, and the completion is `ChangeAgain`). Persists
    /// the request time.
    pub fn begin_change_password(
        &self,
        institution_id: &str,
        old: &str,
        new: &str,
        device: &Device,
    ) -> Result<Vec<u8>, ClientError> {
        check_password_policy(new)?;
        self.begin_unlock(institution_id, old, Some(new), device, Purpose::ChangePassword)
    }

    /// Finishes the change with the bank's answer: a wrong old password counts like any
    /// other; a right one re-seals the seed under the new password. Persists it.
    pub fn complete_change_password(&self, answer: &[u8]) -> Result<(), ClientError> {
        self.complete_unlock(answer, |p| matches!(p, Purpose::ChangePassword)).map(|_| ())
    }
}
