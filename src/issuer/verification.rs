//! Login and transaction codes. The decision is pure — the device's state, what the
//! check found, the time and the policy go in; the device's new state, the activation,
//! the audit outcome and the customer's verdict come out ([`refusal`], [`decide`]) — and
//! [`Issuer::verify_login`] / [`Issuer::verify_transaction`] run it inside one store
//! transaction with the check itself. Replays are refused without counting; a wrong
//! code counts towards the device-wide lock; a login code teaches the clock drift.

use crate::enrollment;
use crate::otp::ocra::{Ocra, OcraInput};
use crate::otp::{Algorithm, Hotp, Secret, Totp, Window};
use crate::transaction::Transaction;

use super::model::{DeviceKind, DeviceState, LinkState, Moving, OtpDevice, Verdict};
use super::store::StoreFault;
use super::{check_caller, check_id, device_params, Audit, Fault, Issuer};

/// How many HOTP counters behind the next expected one are checked, so that a replayed
/// code is recognised (and refused without counting) rather than counted as wrong.
const HOTP_LOOK_BEHIND: u64 = 10;

/// Transaction codes accepted within the verification window, remembered to refuse their
/// replay: a tag per accepted (time step, transaction), keyed by the device's transaction
/// key, so the stored tags say nothing about the transfers to whoever reads the database.
fn transaction_tag(key: &Secret, step: u64, question: &str) -> String {
    let mut tag = [0u8; 16];
    crate::crypto::hkdf(
        b"digital-otp/v1/transaction-replay",
        key.expose(),
        &[&step.to_be_bytes(), question.as_bytes()],
        &mut tag,
    );
    crate::crypto::hex(&tag)
}

/// What a code is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Purpose {
    /// A login code (TOTP or HOTP).
    Login,
    /// A transaction code (OCRA over the canonical transaction).
    Transaction,
}

impl Purpose {
    /// The audit action.
    pub fn action(self) -> &'static str {
        match self {
            Self::Login => "verify_login",
            Self::Transaction => "verify_transaction",
        }
    }
}

/// What checking a code against a device found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Check {
    /// The code matched this step (or counter), later than the last accepted one.
    Accepted(u64),
    /// A transaction code matched this step, and no code of the same transaction and step
    /// was accepted before: the tag ([`transaction_tag`]) to remember.
    AcceptedTransaction(u64, String),
    /// The code matched no step in the window.
    Wrong,
    /// The code matched a step already used.
    Replay,
}

/// The verification policy (from [`super::IssuerConfig`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Policy {
    /// Consecutive wrong codes that lock the device.
    pub max_errors: u32,
    /// Largest learned clock drift, in steps.
    pub max_drift_steps: u32,
    /// Steps accepted on each side of the expected one.
    pub window_steps: u32,
}

/// What a verification changes and answers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Decision {
    /// The device's new state, when it changed (a replay changes nothing).
    pub device: Option<OtpDevice>,
    /// Whether the pending registration becomes active (the first accepted code).
    pub activate: bool,
    /// The audit outcome: `ok` or `rejected`.
    pub outcome: &'static str,
    /// The audit detail (never the code).
    pub detail: String,
    /// What the customer hears.
    pub verdict: Verdict,
}

/// Why a device in its current state refuses every code, or `None` when codes are checked.
pub fn refusal(d: &OtpDevice, now: u64) -> Option<&'static str> {
    match d.state {
        DeviceState::Locked => Some("device locked (error count)"),
        DeviceState::Lost => Some("device reported lost"),
        DeviceState::Stolen => Some("device reported stolen"),
        DeviceState::Cancelled => Some("device cancelled"),
        DeviceState::Active if now >= d.valid_until => Some("device expired"),
        DeviceState::Active => None,
    }
}

/// The decision once a code was checked against a device whose state allows it.
pub fn decide(
    d: &OtpDevice,
    link: LinkState,
    purpose: Purpose,
    check: Check,
    now: u64,
    policy: Policy,
) -> Decision {
    let max_drift = i64::from(policy.max_drift_steps);
    match check {
        Check::Accepted(step) | Check::AcceptedTransaction(step, _) => {
            let mut d = d.clone();
            match purpose {
                Purpose::Transaction => {
                    // Another transfer may be confirmed in the same step, or an older
                    // code verified after a newer one: each (step, transaction) once.
                    d.last_transaction_step = d.last_transaction_step.max(Some(step));
                    let oldest = step.saturating_sub(2 * u64::from(policy.window_steps) + 1);
                    d.used_transactions.retain(|(s, _)| *s >= oldest);
                    if let Check::AcceptedTransaction(_, tag) = check {
                        d.used_transactions.push((step, tag));
                    }
                }
                Purpose::Login => {
                    d.last_login_step = Some(step);
                    if let Moving::Totp { period } = d.moving {
                        let now_step = (now / period.max(1)) as i64;
                        d.drift_steps = (step as i64 - now_step).clamp(-max_drift, max_drift);
                    }
                }
            }
            d.error_count = 0;
            // An accepted code shows the app password was right: its guesses are confirmed.
            if let Some(u) = d.unlock.as_mut() {
                u.unconfirmed = 0;
            }
            let activate = link == LinkState::Pending;
            Decision {
                device: Some(d),
                activate,
                outcome: "ok",
                detail: if activate { "accepted; activated" } else { "accepted" }.into(),
                verdict: Verdict::Accepted,
            }
        }
        // Not counted: a double submission must not lock the customer out.
        Check::Replay => Decision {
            device: None,
            activate: false,
            outcome: "rejected",
            detail: "code already used".into(),
            verdict: Verdict::Rejected,
        },
        Check::Wrong => {
            let mut d = d.clone();
            d.error_count += 1;
            let detail = if d.error_count >= policy.max_errors {
                d.state = DeviceState::Locked;
                format!("wrong code; error count {}: device locked", d.error_count)
            } else {
                format!("wrong code; error count {}", d.error_count)
            };
            Decision {
                device: Some(d),
                activate: false,
                outcome: "rejected",
                detail,
                verdict: Verdict::Rejected,
            }
        }
    }
}

impl Issuer {
    fn policy(&self) -> Policy {
        Policy {
            max_errors: self.config.max_errors,
            max_drift_steps: self.config.max_drift_steps,
            window_steps: self.config.window_steps,
        }
    }

    /// Checks a login code of `d` at `now` (TOTP around the learned drift, or HOTP after
    /// the last accepted counter).
    pub(super) fn login_check(&self, d: &OtpDevice, code: &str, now: u64) -> Result<Check, Fault> {
        let secret = self.device_secret(d)?;
        let algorithm: Algorithm =
            d.algorithm.parse().map_err(|_| StoreFault::Corrupt("algorithm".into()))?;
        let key = match d.kind {
            DeviceKind::Mobile => {
                let seed: [u8; 32] =
                    secret.as_slice().try_into().map_err(|_| StoreFault::Corrupt("seed".into()))?;
                let params = device_params(d)?;
                enrollment::derive_keys(&seed, &params)?.login
            }
            DeviceKind::Hardware => {
                Secret::from_bytes(&secret).map_err(|_| StoreFault::Corrupt("secret".into()))?
            }
        };
        let w = self.config.window_steps;
        let matched = match d.moving {
            Moving::Totp { period } => {
                let totp = Totp::new(&key, algorithm, d.digits, period, 0)
                    .map_err(|e| StoreFault::Corrupt(e.to_string()))?;
                let center = (i128::from(totp.step_at(now).unwrap_or(0))
                    + i128::from(d.drift_steps))
                .max(0) as u64;
                Hotp::new(&key, algorithm, d.digits)
                    .map_err(|e| StoreFault::Corrupt(e.to_string()))?
                    .verify(code, center, Window::new(w, w).unwrap_or(Window::EXACT))
                    .map_err(|e| Fault::MalformedCode(e.to_string()))?
            }
            Moving::Hotp => {
                // Ten counters ahead of the last accepted one (presses never verified), and
                // ten behind it, so that a replayed code is refused without counting.
                let next = d.last_login_step.map_or(0, |l| l.saturating_add(1));
                let behind = u32::try_from(next.min(HOTP_LOOK_BEHIND)).unwrap_or(0);
                Hotp::new(&key, algorithm, d.digits)
                    .map_err(|e| StoreFault::Corrupt(e.to_string()))?
                    .verify(code, next, Window::new(behind, 10).unwrap_or(Window::EXACT))
                    .map_err(|e| Fault::MalformedCode(e.to_string()))?
            }
        };
        Ok(match matched {
            None => Check::Wrong,
            Some(step) if d.last_login_step.is_some_and(|last| step <= last) => Check::Replay,
            Some(step) => Check::Accepted(step),
        })
    }

    /// The common part of login and transaction verification: the state checks, the
    /// check itself and the decision, applied with its audit entry in one transaction.
    fn verify(
        &self,
        actor: &str,
        institution_id: &str,
        customer_id: &str,
        purpose: Purpose,
        check: &dyn Fn(&OtpDevice, u64) -> Result<Check, Fault>,
    ) -> Result<Verdict, Fault> {
        let now = self.now()?;
        let policy = self.policy();
        let audit = Audit { at: now, institution_id, actor, action: purpose.action() };
        check_id(institution_id, "the institution id")?;
        check_id(customer_id, "the customer id")?;
        self.tx(|tx| {
            check_caller(tx, actor, institution_id)?;
            let Some((mut link, d)) = Self::current_device(tx, institution_id, customer_id)? else {
                let subject = format!("customer:{customer_id}");
                tx.append_audit(&audit.entry(&subject, "rejected", "no OTP device"))?;
                return Ok(Verdict::Rejected);
            };
            let subject = format!("device:{}", d.device_id);
            if let Some(why) = refusal(&d, now) {
                tx.append_audit(&audit.entry(&subject, "rejected", why))?;
                return Ok(Verdict::Rejected);
            }
            let decision = decide(&d, link.state, purpose, check(&d, now)?, now, policy);
            if let Some(device) = &decision.device {
                tx.put_device(device)?;
            }
            if decision.activate {
                link.state = LinkState::Active;
                tx.put_link(&link)?;
            }
            tx.append_audit(&audit.entry(&subject, decision.outcome, &decision.detail))?;
            Ok(decision.verdict)
        })
    }

    /// Verifies a login code of the customer's OTP device at this institution. The answer
    /// never says why a code was refused; the staff inquiry does.
    pub fn verify_login(
        &self,
        actor: &str,
        institution_id: &str,
        customer_id: &str,
        code: &str,
    ) -> Result<Verdict, Fault> {
        self.verify(actor, institution_id, customer_id, Purpose::Login, &|d, now| {
            self.login_check(d, code, now)
        })
    }

    /// Verifies a transaction code for exactly `transaction` (mobile OTPs).
    pub fn verify_transaction(
        &self,
        actor: &str,
        institution_id: &str,
        customer_id: &str,
        code: &str,
        transaction: &Transaction,
    ) -> Result<Verdict, Fault> {
        let question = transaction.canonical()?.question();
        let window = self.config.window_steps;
        let check = |d: &OtpDevice, now: u64| -> Result<Check, Fault> {
            let Some(suite_text) = &d.transaction_suite else {
                return Ok(Check::Wrong);
            };
            let params = device_params(d)?;
            let seed: [u8; 32] = self
                .device_secret(d)?
                .as_slice()
                .try_into()
                .map_err(|_| StoreFault::Corrupt("seed".into()))?;
            let keys = enrollment::derive_keys(&seed, &params)?;
            let suite = enrollment::transaction_suite(suite_text)?;
            let Some(steps) = suite.time_steps_at(now) else {
                return Ok(Check::Wrong);
            };
            let input =
                OcraInput { question: &question, time_steps: Some(steps), ..Default::default() };
            let matched = Ocra::new(suite, &keys.transaction)
                .verify(code, &input, Window::new(window, window).unwrap_or(Window::EXACT))
                .map_err(|e| Fault::MalformedCode(e.to_string()))?;
            Ok(match matched {
                None => Check::Wrong,
                Some(s) => {
                    let tag = transaction_tag(&keys.transaction, s, &question);
                    let used = d.used_transactions.iter().any(|(step, t)| {
                        *step == s && enrollment::same(t.as_bytes(), tag.as_bytes())
                    });
                    if used {
                        Check::Replay
                    } else {
                        Check::AcceptedTransaction(s, tag)
                    }
                }
            })
        };
        self.verify(actor, institution_id, customer_id, Purpose::Transaction, &check)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const POLICY: Policy = Policy { max_errors: 3, max_drift_steps: 2, window_steps: 1 };

    fn device(state: DeviceState) -> OtpDevice {
        OtpDevice {
            device_id: "DOTP:X1".into(),
            vendor_code: "DOTP".into(),
            serial_number: "X1".into(),
            kind: DeviceKind::Mobile,
            sealed_secret: String::new(),
            algorithm: "SHA1".into(),
            digits: 6,
            moving: Moving::Totp { period: 30 },
            transaction_suite: None,
            state,
            error_count: 0,
            last_login_step: None,
            last_transaction_step: None,
            used_transactions: Vec::new(),
            drift_steps: 0,
            valid_until: 1_000_000,
            device_binding: None,
            created_at: 0,
            unlock: None,
            accident: None,
            mac: String::new(),
        }
    }

    #[test]
    fn states_that_refuse_every_code() {
        assert_eq!(refusal(&device(DeviceState::Active), 10), None);
        assert_eq!(refusal(&device(DeviceState::Active), 1_000_000), Some("device expired"));
        assert_eq!(refusal(&device(DeviceState::Locked), 10), Some("device locked (error count)"));
        assert_eq!(refusal(&device(DeviceState::Lost), 10), Some("device reported lost"));
        assert_eq!(refusal(&device(DeviceState::Stolen), 10), Some("device reported stolen"));
        assert_eq!(refusal(&device(DeviceState::Cancelled), 10), Some("device cancelled"));
    }

    #[test]
    fn an_accepted_login_resets_the_count_learns_the_drift_and_activates() {
        let mut d = device(DeviceState::Active);
        d.error_count = 2;
        // now = step 100; the code matched step 103: drift +3, bounded to +2.
        let got =
            decide(&d, LinkState::Pending, Purpose::Login, Check::Accepted(103), 3000, POLICY);
        let new = got.device.expect("the device changes");
        assert_eq!((new.error_count, new.last_login_step, new.drift_steps), (0, Some(103), 2));
        assert_eq!(new.last_transaction_step, None);
        assert!(got.activate);
        assert_eq!(
            (got.outcome, got.detail.as_str(), got.verdict),
            ("ok", "accepted; activated", Verdict::Accepted)
        );
    }

    #[test]
    fn an_accepted_transaction_code_moves_only_its_own_step() {
        let d = device(DeviceState::Active);
        let got =
            decide(&d, LinkState::Active, Purpose::Transaction, Check::Accepted(7), 3000, POLICY);
        let new = got.device.expect("the device changes");
        assert_eq!(
            (new.last_transaction_step, new.last_login_step, new.drift_steps),
            (Some(7), None, 0)
        );
        assert!(!got.activate);
        assert_eq!(got.detail, "accepted");
    }

    #[test]
    fn a_replay_changes_nothing_and_is_not_counted() {
        let got = decide(
            &device(DeviceState::Active),
            LinkState::Active,
            Purpose::Login,
            Check::Replay,
            0,
            POLICY,
        );
        assert_eq!(got.device, None);
        assert_eq!(
            (got.outcome, got.detail.as_str(), got.verdict),
            ("rejected", "code already used", Verdict::Rejected)
        );
    }

    #[test]
    fn wrong_codes_count_and_the_last_one_locks() {
        let mut d = device(DeviceState::Active);
        for n in 1..=3u32 {
            let got = decide(&d, LinkState::Active, Purpose::Login, Check::Wrong, 0, POLICY);
            d = got.device.expect("counted");
            assert_eq!(d.error_count, n);
            assert_eq!(got.verdict, Verdict::Rejected);
            let locked = n == 3;
            assert_eq!(d.state == DeviceState::Locked, locked);
            assert_eq!(got.detail.ends_with("device locked"), locked);
        }
    }
}
