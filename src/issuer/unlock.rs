//! The issuer's side of the unlock (docs/adr/0010): every code a phone makes needs an
//! evaluation of its app password's OPRF, which the issuer counts. Five unconfirmed
//! evaluations in a row are allowed; a sixth request locks the mobile OTP for good (it is
//! cancelled: only re-registration helps). An accepted code, or the confirmation the app
//! sends with its next request, shows that a password was right and clears the count.

use zeroize::Zeroizing;

use crate::enrollment::unlock::{self, Request, MAX_SKEW_SECONDS};
use crate::enrollment::{oprf, RejectReason};

use super::model::{DeviceState, LinkState};
use super::registration::{device_signed, unlock_aad, UnlockKeys};
use super::store::StoreFault;
use super::{device_id, stored_hex, Audit, Fault, Issuer, MOBILE_VENDOR};

/// The audit action of unlocks.
const ACTION: &str = "unlock";

impl Issuer {
    /// Answers an app's unlock request with the evaluation of its password's OPRF (or a
    /// refusal: locked, not usable, stale). Counts the guess before answering. Persisted
    /// and audited. `actor` is the channel.
    pub fn handle_unlock(&self, actor: &str, message: &[u8]) -> Vec<u8> {
        self.handle_unlock_for(actor, None, message)
    }

    /// [`handle_unlock`](Self::handle_unlock) for a channel that serves one institution
    /// (`Some(id)`, an API key's): a request for another institution is refused (audited)
    /// without counting. Persisted and audited.
    pub fn handle_unlock_for(
        &self,
        actor: &str,
        institution: Option<&str>,
        message: &[u8],
    ) -> Vec<u8> {
        let Ok(now) = self.now() else {
            return unlock::refused(None, None, RejectReason::Refused, 0);
        };
        let Ok(request) = Request::parse(message) else {
            Audit { at: now, institution_id: "", actor, action: ACTION }.record(
                self,
                "",
                "rejected",
                "malformed unlock request",
            );
            return unlock::refused(None, None, RejectReason::MalformedRequest, now);
        };
        let inst = request.institution_id.as_str();
        let audit = Audit { at: now, institution_id: inst, actor, action: ACTION };
        if institution.is_some_and(|i| i != inst) {
            audit.record(self, "", "rejected", "an unlock for another institution's channel");
            return unlock::refused(None, None, RejectReason::Refused, now);
        }
        let id = device_id(MOBILE_VENDOR, &request.serial_number);
        let subject = format!("device:{id}");
        let ring = self.ring();
        let max = self.config.max_password_attempts;
        let mut note: Option<String> = None;
        let answer = self.tx(|tx| {
            note = None;
            let unknown = Ok(unlock::refused(None, None, RejectReason::NotUsable, now));
            let Some(mut d) = tx.device(&id)? else {
                note = Some("unknown credential".into());
                return unknown;
            };
            let Some(mut state) = d.unlock.clone() else {
                note = Some("not a mobile OTP".into());
                return unknown;
            };
            let keys_json = ring.open(&unlock_aad(&id), &state.sealed_keys)?;
            let keys: UnlockKeys = serde_json::from_slice(&keys_json)
                .map_err(|_| StoreFault::Corrupt("unlock keys".into()))?;
            let unlock_key: Zeroizing<[u8; 32]> = Zeroizing::new(stored_hex(&keys.unlock_key)?);
            let oprf_seed: Zeroizing<[u8; 32]> = Zeroizing::new(stored_hex(&keys.oprf_seed)?);
            let refuse = |reason: RejectReason| {
                Ok(unlock::refused(Some(&unlock_key), Some(&request), reason, now))
            };
            if !device_signed(&state.device_key, &request.signed_digest(), &request.signature)? {
                note = Some("the device key's signature does not verify".into());
                return Ok(unlock::refused(None, None, RejectReason::MalformedRequest, now));
            }
            let links = tx.links_of_device(&id)?;
            if !links.iter().any(|l| l.institution_id == inst) {
                note = Some("not registered at this institution".into());
                return unknown;
            }
            let current = links.into_iter().find(|l| l.institution_id == inst && l.is_current());
            let (Some(mut link), DeviceState::Active, true) =
                (current, d.state, now < d.valid_until)
            else {
                note = Some(format!("device {:?}", d.state).to_lowercase());
                // Locked by five wrong app passwords: say so, every time.
                let locked = d.state == DeviceState::Cancelled && state.unconfirmed >= max;
                return refuse(if locked { RejectReason::Locked } else { RejectReason::NotUsable });
            };
            let at = request.time_ms / 1000;
            if at.abs_diff(now) > MAX_SKEW_SECONDS || request.time_ms <= state.last_request_ms {
                note = Some("stale or replayed request".into());
                return refuse(RejectReason::Stale);
            }
            // A confirmation shows that evaluation n opened the seed: only the guesses
            // after it stay unconfirmed.
            if let Some((n, tag)) = request.confirm {
                if n >= 1 && n <= state.evaluations {
                    let seed: Zeroizing<[u8; 32]> = Zeroizing::new(
                        self.device_secret(&d)?
                            .as_slice()
                            .try_into()
                            .map_err(|_| StoreFault::Corrupt("seed".into()))?,
                    );
                    let want = unlock::confirmation_mac(&seed, &d.serial_number, n);
                    if bool::from(subtle::ConstantTimeEq::ct_eq(&want[..], &tag[..])) {
                        let after = u32::try_from(state.evaluations - n).unwrap_or(u32::MAX);
                        state.unconfirmed = state.unconfirmed.min(after);
                    }
                }
            }
            // A change of password asks for two evaluations and counts two guesses. With
            // one attempt left, only the old password is evaluated (one guess): the app
            // learns it was right, confirms it with its next request and begins again.
            let evaluate_new =
                request.blinded_new.is_some() && state.unconfirmed.saturating_add(2) <= max;
            let guesses = if evaluate_new { 2 } else { 1 };
            state.last_request_ms = request.time_ms;
            if state.unconfirmed + guesses > max {
                // Five wrong app passwords in a row: unusable until registered again.
                d.state = DeviceState::Cancelled;
                d.unlock = Some(state);
                tx.put_device(&d)?;
                link.state = LinkState::Cancelled;
                link.ended = Some((now, format!("locked after {max} wrong app passwords")));
                tx.put_link(&link)?;
                tx.append_audit(&audit.entry(
                    &subject,
                    "rejected",
                    &format!("app password locked after {max} unconfirmed evaluations"),
                ))?;
                return refuse(RejectReason::Locked);
            }
            let evaluation = oprf::evaluate(&oprf_seed, &request.blinded, "blinded")?;
            let evaluation_new = match &request.blinded_new {
                Some(b) if evaluate_new => Some(oprf::evaluate(&oprf_seed, b, "blinded_new")?),
                _ => None,
            };
            state.unconfirmed += guesses;
            state.evaluations += 1;
            let eval = state.evaluations;
            let remaining = max - state.unconfirmed;
            d.unlock = Some(state);
            tx.put_device(&d)?;
            tx.append_audit(&audit.entry(
                &subject,
                "ok",
                &format!("evaluation {eval}; {remaining} wrong app passwords left"),
            ))?;
            Ok(unlock::evaluated(
                &unlock_key,
                &request,
                eval,
                &evaluation,
                evaluation_new.as_ref(),
                remaining,
                now,
            ))
        });
        if let Some(why) = &note {
            audit.record(self, &subject, "rejected", why);
        }
        match answer {
            Ok(bytes) => bytes,
            Err(Fault::Protocol(_)) => {
                unlock::refused(None, None, RejectReason::MalformedRequest, now)
            }
            Err(_) => unlock::refused(None, None, RejectReason::Refused, now),
        }
    }
}
