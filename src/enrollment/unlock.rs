//! The unlock: every code needs the issuer to evaluate the app password's OPRF, so that
//! each guess of the password is seen and counted by the issuer, where no copy of the
//! phone's store can roll the count back (docs/adr/0010).
//!
//! ```text
//! app                                                            issuer
//!  | blinds the password → B; time t (phone clock + learned offset);
//!  | the confirmation of the last unlock, if any (eval n, HMAC(seed key, serial, n))
//!  |-- request {institution, serial, B, t, [n, mac], signature by the device key} -->|
//!  |        checks the signature (the credential's device key), t (fresh, later than
//!  |        the last), the state; a valid confirmation clears the unconfirmed count;
//!  |        refuses a sixth unconfirmed evaluation (the credential is then locked);
//!  |        counts this one, evaluates Z = k·B
//!  |<-- evaluation {eval, Z, remaining, issuer time, MAC under the unlock key} ------|
//!  | OPRF output → the seed's key; a wrong password fails to open the seed: `remaining`
//!  | more wrong ones are allowed. A right one gives the code, and the confirmation
//!  | that goes with the next request (an accepted code confirms it too).
//! ```
//! Answers are authenticated with the credential's unlock key (from the registration),
//! so a network attacker cannot make the app believe a right password was wrong, or that
//! the credential is locked. Messages: `protocol = "digital-otp/unlock"`, `version = 1`,
//! `type` = `request`, `evaluation` or `error`.

use zeroize::Zeroizing;

use super::{
    check_text, envelope, mac, malformed, message, open_envelope, oprf, same, unhex, unhex_vec,
    ProtocolError, RejectReason,
};
use crate::crypto::{hex, hkdf, sha256_parts};
use crate::json::Fields;

/// The unlock protocol's name.
pub const PROTOCOL: &str = "digital-otp/unlock";
/// Its version.
pub const VERSION: u32 = 1;
/// How far a request's time may be from the issuer's, in seconds.
pub const MAX_SKEW_SECONDS: u64 = 300;

const REQUEST_FIELDS: &[&str] = &[
    "protocol",
    "version",
    "type",
    "institution_id",
    "serial_number",
    "blinded",
    "time_ms",
    "confirm_eval",
    "confirm_mac",
    "blinded_new",
    "signature",
];
const EVALUATION_FIELDS: &[&str] = &[
    "protocol",
    "version",
    "type",
    "eval",
    "evaluation",
    "evaluation_new",
    "remaining",
    "issuer_time",
    "mac",
];
const ERROR_FIELDS: &[&str] = &["protocol", "version", "type", "error", "issuer_time", "mac"];

/// A parsed unlock request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Request {
    /// The institution.
    pub institution_id: String,
    /// The credential's serial number.
    pub serial_number: String,
    /// The OPRF blinded element of the password.
    pub blinded: [u8; oprf::ELEMENT_LEN],
    /// The phone's time (Unix milliseconds, corrected by the offset it learned).
    pub time_ms: u64,
    /// The confirmation of an earlier unlock: its evaluation number and MAC.
    pub confirm: Option<(u64, [u8; 32])>,
    /// For a change of password: the new password's blinded element (counted as a second
    /// guess).
    pub blinded_new: Option<[u8; oprf::ELEMENT_LEN]>,
    /// The device key's signature of [`Request::signed_digest`].
    pub signature: Vec<u8>,
}

impl Request {
    /// What the device key signs.
    pub fn signed_digest(&self) -> [u8; 32] {
        let (n, m) = match &self.confirm {
            Some((n, m)) => (n.to_be_bytes().to_vec(), m.to_vec()),
            None => (Vec::new(), Vec::new()),
        };
        sha256_parts(&[
            b"digital-otp/v1/unlock-request",
            self.institution_id.as_bytes(),
            self.serial_number.as_bytes(),
            &self.blinded,
            &self.time_ms.to_be_bytes(),
            &n,
            &m,
            self.blinded_new.as_ref().map_or(&[][..], |b| &b[..]),
        ])
    }

    /// Parses a request.
    pub fn parse(bytes: &[u8]) -> Result<Self, ProtocolError> {
        let (kind, fields) = open_envelope(bytes, PROTOCOL, VERSION)?;
        if kind != "request" {
            return Err(ProtocolError::Field("type"));
        }
        let mut m = message(fields, REQUEST_FIELDS)?;
        let s = |m: &mut Fields, k: &'static str| m.string(k).map_err(malformed);
        let institution_id = s(&mut m, "institution_id")?;
        check_text(&institution_id, 64, "institution_id", true)?;
        let serial_number = s(&mut m, "serial_number")?;
        check_text(&serial_number, 64, "serial_number", true)?;
        let confirm_eval = m.opt_uint::<u64>("confirm_eval").map_err(malformed)?;
        let confirm_mac = m.opt_string("confirm_mac").map_err(malformed)?;
        let confirm = match (confirm_eval, confirm_mac) {
            (Some(n), Some(t)) => Some((n, unhex(&t, "confirm_mac")?)),
            (None, None) => None,
            _ => return Err(ProtocolError::Field("confirm_mac")),
        };
        let signature = unhex_vec(&s(&mut m, "signature")?, "signature")?;
        if signature.len() > 80 {
            return Err(ProtocolError::Field("signature"));
        }
        let blinded_new = m
            .opt_string("blinded_new")
            .map_err(malformed)?
            .map(|t| unhex(&t, "blinded_new"))
            .transpose()?;
        Ok(Self {
            institution_id,
            serial_number,
            blinded: unhex(&s(&mut m, "blinded")?, "blinded")?,
            time_ms: m.uint("time_ms").map_err(malformed)?,
            confirm,
            blinded_new,
            signature,
        })
    }

    fn encode(&self) -> Vec<u8> {
        envelope(PROTOCOL, VERSION, "request")
            .string("institution_id", self.institution_id.as_str())
            .string("serial_number", self.serial_number.as_str())
            .string("blinded", hex(&self.blinded))
            .uint("time_ms", self.time_ms)
            .opt_uint("confirm_eval", self.confirm.map(|c| c.0))
            .opt_string("confirm_mac", self.confirm.map(|c| hex(&c.1)).as_deref())
            .opt_string("blinded_new", self.blinded_new.map(|b| hex(&b)).as_deref())
            .string("signature", hex(&self.signature))
            .finish()
    }
}

/// The key of the confirmation MACs, from the credential's seed (both sides have it).
fn confirm_key(seed: &[u8; 32]) -> Zeroizing<[u8; 32]> {
    let mut k = Zeroizing::new([0u8; 32]);
    hkdf(b"digital-otp/v1/unlock-confirm", seed, &[b"confirm"], &mut *k);
    k
}

/// The confirmation that evaluation `eval` of credential `serial` unlocked the seed.
pub fn confirmation_mac(seed: &[u8; 32], serial: &str, eval: u64) -> [u8; 32] {
    mac(&*confirm_key(seed), &[b"unlocked", serial.as_bytes(), &eval.to_be_bytes()])
}

fn answer_mac(
    unlock_key: &[u8; 32],
    request: &[u8; 32],
    kind: &str,
    eval: u64,
    evaluation: &[u8],
    remaining: u32,
    issuer_time: u64,
) -> [u8; 32] {
    mac(
        unlock_key,
        &[
            b"digital-otp/v1/unlock-answer",
            request,
            kind.as_bytes(),
            &eval.to_be_bytes(),
            evaluation,
            &remaining.to_be_bytes(),
            &issuer_time.to_be_bytes(),
        ],
    )
}

// ---------------------------------------------------------------- the app's side

/// The app's half of an unlock before the answer: the blinds and the passwords, in memory.
pub struct PendingUnlock {
    blind: oprf::Blind,
    password: Zeroizing<Vec<u8>>,
    new: Option<(oprf::Blind, Zeroizing<Vec<u8>>)>,
    request: Request,
}

impl std::fmt::Debug for PendingUnlock {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("PendingUnlock(<redacted>)")
    }
}

/// What the issuer answered, authenticated.
#[derive(Debug)]
pub enum Answer {
    /// The evaluation: the OPRF output for the password given, right or wrong.
    Evaluated {
        /// The OPRF output.
        output: Zeroizing<[u8; oprf::OUTPUT_LEN]>,
        /// For a change of password: the new password's OPRF output.
        output_new: Option<Zeroizing<[u8; oprf::OUTPUT_LEN]>>,
        /// The evaluation's number (for the confirmation).
        eval: u64,
        /// Wrong passwords still allowed if this one is wrong.
        remaining: u32,
        /// The issuer's clock.
        issuer_time: u64,
    },
    /// A refusal the issuer authenticated (locked, not usable, stale).
    Refused {
        /// Why.
        reason: RejectReason,
        /// The issuer's clock.
        issuer_time: u64,
    },
}

impl PendingUnlock {
    /// Starts an unlock: returns the state and what the device key must sign. With
    /// `new_password`, the request also asks for the new password's evaluation (a change
    /// of password; the issuer counts two guesses).
    pub fn start(
        institution_id: &str,
        serial_number: &str,
        password: &[u8],
        new_password: Option<&[u8]>,
        time_ms: u64,
        confirm: Option<(u64, [u8; 32])>,
    ) -> Result<(Self, [u8; 32]), ProtocolError> {
        let (blind, blinded) = oprf::Blind::new(password)?;
        let new = match new_password {
            Some(p) => {
                let (b, e) = oprf::Blind::new(p)?;
                Some((b, e, Zeroizing::new(p.to_vec())))
            }
            None => None,
        };
        let request = Request {
            institution_id: institution_id.to_string(),
            serial_number: serial_number.to_string(),
            blinded,
            time_ms,
            confirm,
            blinded_new: new.as_ref().map(|n| n.1),
            signature: Vec::new(),
        };
        let digest = request.signed_digest();
        let new = new.map(|(b, _, p)| (b, p));
        Ok((Self { blind, password: Zeroizing::new(password.to_vec()), new, request }, digest))
    }

    /// The request to send, with the device key's signature.
    pub fn request(&mut self, signature: Vec<u8>) -> Vec<u8> {
        self.request.signature = signature;
        self.request.encode()
    }

    /// Checks the issuer's answer with the credential's unlock key. An answer that is not
    /// authenticated is refused (`Confirmation`), except an unauthenticated refusal of an
    /// unknown credential, which is only reported (`Rejected`).
    pub fn answer(&self, unlock_key: &[u8; 32], bytes: &[u8]) -> Result<Answer, ProtocolError> {
        let digest = self.request.signed_digest();
        let (kind, fields) = open_envelope(bytes, PROTOCOL, VERSION)?;
        match kind.as_str() {
            "evaluation" => {
                let mut m = message(fields, EVALUATION_FIELDS)?;
                let eval: u64 = m.uint("eval").map_err(malformed)?;
                let evaluation: [u8; oprf::ELEMENT_LEN] =
                    unhex(&m.string("evaluation").map_err(malformed)?, "evaluation")?;
                let evaluation_new: Option<[u8; oprf::ELEMENT_LEN]> = m
                    .opt_string("evaluation_new")
                    .map_err(malformed)?
                    .map(|t| unhex(&t, "evaluation_new"))
                    .transpose()?;
                let remaining: u32 = m.uint("remaining").map_err(malformed)?;
                let issuer_time: u64 = m.uint("issuer_time").map_err(malformed)?;
                let got: [u8; 32] = unhex(&m.string("mac").map_err(malformed)?, "mac")?;
                let both =
                    [&evaluation[..], evaluation_new.as_ref().map_or(&[][..], |e| &e[..])].concat();
                let want = answer_mac(
                    unlock_key,
                    &digest,
                    "evaluation",
                    eval,
                    &both,
                    remaining,
                    issuer_time,
                );
                if !same(&got, &want) {
                    return Err(ProtocolError::Confirmation);
                }
                let output = self.blind.finish(&self.password, &evaluation, "evaluation")?;
                let output_new = match (&self.new, evaluation_new) {
                    (Some((blind, password)), Some(e)) => {
                        Some(blind.finish(password, &e, "evaluation_new")?)
                    }
                    // A change with one attempt left: the bank evaluated the old password
                    // alone (its MAC covers the absence).
                    (_, None) => None,
                    (None, Some(_)) => return Err(ProtocolError::Field("evaluation_new")),
                };
                Ok(Answer::Evaluated { output, output_new, eval, remaining, issuer_time })
            }
            "error" => {
                let mut m = message(fields, ERROR_FIELDS)?;
                let name = m.string("error").map_err(malformed)?;
                let reason = RejectReason::from_name(&name).ok_or(ProtocolError::Field("error"))?;
                let issuer_time: u64 = m.uint("issuer_time").map_err(malformed)?;
                let Some(got) = m.opt_string("mac").map_err(malformed)? else {
                    return Err(ProtocolError::Rejected(reason));
                };
                let got: [u8; 32] = unhex(&got, "mac")?;
                let want = answer_mac(unlock_key, &digest, &name, 0, &[], 0, issuer_time);
                if !same(&got, &want) {
                    return Err(ProtocolError::Confirmation);
                }
                Ok(Answer::Refused { reason, issuer_time })
            }
            _ => Err(ProtocolError::Field("type")),
        }
    }
}

// ---------------------------------------------------------------- the issuer's side

/// The evaluation answer (with the new password's evaluation for a change of password).
pub fn evaluated(
    unlock_key: &[u8; 32],
    request: &Request,
    eval: u64,
    evaluation: &[u8; oprf::ELEMENT_LEN],
    evaluation_new: Option<&[u8; oprf::ELEMENT_LEN]>,
    remaining: u32,
    issuer_time: u64,
) -> Vec<u8> {
    let digest = request.signed_digest();
    let both = [&evaluation[..], evaluation_new.map_or(&[][..], |e| &e[..])].concat();
    let m = answer_mac(unlock_key, &digest, "evaluation", eval, &both, remaining, issuer_time);
    envelope(PROTOCOL, VERSION, "evaluation")
        .uint("eval", eval)
        .string("evaluation", hex(evaluation))
        .opt_string("evaluation_new", evaluation_new.map(|e| hex(e)).as_deref())
        .uint("remaining", remaining)
        .uint("issuer_time", issuer_time)
        .string("mac", hex(&m))
        .finish()
}

/// A refusal, authenticated when the credential (and so its unlock key) is known.
pub fn refused(
    unlock_key: Option<&[u8; 32]>,
    request: Option<&Request>,
    reason: RejectReason,
    issuer_time: u64,
) -> Vec<u8> {
    let tag = match (unlock_key, request) {
        (Some(k), Some(r)) => {
            Some(hex(&answer_mac(k, &r.signed_digest(), reason.name(), 0, &[], 0, issuer_time)))
        }
        _ => None,
    };
    envelope(PROTOCOL, VERSION, "error")
        .string("error", reason.name())
        .uint("issuer_time", issuer_time)
        .opt_string("mac", tag.as_deref())
        .finish()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(password: &[u8], key_seed: &[u8; 32], unlock_key: &[u8; 32]) -> Answer {
        let (mut pending, _digest) = PendingUnlock::start(
            "bank-a",
            "BANKA0000000001",
            password,
            None,
            1_800_000_000_000,
            None,
        )
        .unwrap();
        let bytes = pending.request(vec![0x30, 0x06, 1, 2, 3, 4, 5, 6]);
        let request = Request::parse(&bytes).unwrap();
        assert_eq!(request.signature, [0x30, 0x06, 1, 2, 3, 4, 5, 6]);
        let z = oprf::evaluate(key_seed, &request.blinded, "blinded").unwrap();
        let answer = evaluated(unlock_key, &request, 7, &z, None, 4, 1_800_000_001);
        pending.answer(unlock_key, &answer).unwrap()
    }

    #[test]
    fn an_authenticated_evaluation_gives_the_password_output() {
        let seed = oprf::new_key_seed().unwrap();
        let key = [9u8; 32];
        let (a, b) = match (run(b"482915", &seed, &key), run(b"482915", &seed, &key)) {
            (
                Answer::Evaluated { output: a, eval, remaining, .. },
                Answer::Evaluated { output: b, .. },
            ) => {
                assert_eq!((eval, remaining), (7, 4));
                (*a, *b)
            }
            other => panic!("{other:?}"),
        };
        assert_eq!(a, b);
    }

    #[test]
    fn an_answer_under_another_key_or_for_another_request_is_refused() {
        let seed = oprf::new_key_seed().unwrap();
        let (mut pending, _) =
            PendingUnlock::start("bank-a", "BANKA0000000001", b"482915", None, 1, None).unwrap();
        let request = Request::parse(&pending.request(vec![1])).unwrap();
        let z = oprf::evaluate(&seed, &request.blinded, "blinded").unwrap();
        let forged = evaluated(&[1u8; 32], &request, 1, &z, None, 4, 2);
        assert_eq!(pending.answer(&[2u8; 32], &forged).unwrap_err(), ProtocolError::Confirmation);

        let (mut pending, _) =
            PendingUnlock::start("bank-a", "BANKA0000000001", b"482915", None, 1, None).unwrap();
        pending.request(vec![1]);
        // An answer to the earlier request.
        assert_eq!(pending.answer(&[1u8; 32], &forged).unwrap_err(), ProtocolError::Confirmation);
    }

    #[test]
    fn refusals_are_authenticated_when_the_credential_is_known() {
        let (mut pending, _) =
            PendingUnlock::start("bank-a", "S1", b"482915", None, 1, None).unwrap();
        let request = Request::parse(&pending.request(vec![1])).unwrap();
        let locked = refused(Some(&[3u8; 32]), Some(&request), RejectReason::Locked, 5);
        match pending.answer(&[3u8; 32], &locked).unwrap() {
            Answer::Refused { reason, issuer_time } => {
                assert_eq!((reason, issuer_time), (RejectReason::Locked, 5))
            }
            other => panic!("{other:?}"),
        }
        // A forged "locked" is not believed; an unauthenticated one is only reported.
        let (mut pending, _) =
            PendingUnlock::start("bank-a", "S1", b"482915", None, 1, None).unwrap();
        let request = Request::parse(&pending.request(vec![1])).unwrap();
        let forged = refused(Some(&[4u8; 32]), Some(&request), RejectReason::Locked, 5);
        assert_eq!(pending.answer(&[3u8; 32], &forged).unwrap_err(), ProtocolError::Confirmation);
        let (mut pending, _) =
            PendingUnlock::start("bank-a", "S1", b"482915", None, 1, None).unwrap();
        pending.request(vec![1]);
        let bare = refused(None, None, RejectReason::NotUsable, 5);
        assert_eq!(
            pending.answer(&[3u8; 32], &bare).unwrap_err(),
            ProtocolError::Rejected(RejectReason::NotUsable)
        );
    }

    #[test]
    fn the_signature_covers_every_field_and_confirmations_bind_serial_and_eval() {
        let base = Request {
            institution_id: "bank-a".into(),
            serial_number: "S1".into(),
            blinded: [1; 32],
            time_ms: 10,
            confirm: None,
            blinded_new: None,
            signature: vec![],
        };
        let d = base.signed_digest();
        for changed in [
            Request { institution_id: "bank-b".into(), ..base.clone() },
            Request { serial_number: "S2".into(), ..base.clone() },
            Request { blinded: [2; 32], ..base.clone() },
            Request { time_ms: 11, ..base.clone() },
            Request { confirm: Some((1, [0; 32])), ..base.clone() },
            Request { blinded_new: Some([3; 32]), ..base.clone() },
        ] {
            assert_ne!(changed.signed_digest(), d);
        }
        let seed = [5u8; 32];
        assert_ne!(confirmation_mac(&seed, "S1", 1), confirmation_mac(&seed, "S1", 2));
        assert_ne!(confirmation_mac(&seed, "S1", 1), confirmation_mac(&seed, "S2", 1));
        assert_ne!(confirmation_mac(&seed, "S1", 1), confirmation_mac(&[6u8; 32], "S1", 1));
    }

    #[test]
    fn malformed_requests_are_refused() {
        let (mut pending, _) = PendingUnlock::start("bank-a", "S1", b"1", None, 1, None).unwrap();
        let good = String::from_utf8(pending.request(vec![1])).unwrap();
        assert!(Request::parse(good.as_bytes()).is_ok());
        for bad in [
            good.replace("\"request\"", "\"evaluation\""),
            good.replace("\"bank-a\"", "\"bank a\""),
            good.replace("\"time_ms\":1", "\"time_ms\":-1"),
            good.replace("\"confirm_eval\":null", "\"confirm_eval\":3"),
            good.replace("\"signature\":\"01\"", &format!("\"signature\":\"{}\"", "00".repeat(81))),
            good.replace('{', "[").to_string(),
        ] {
            assert!(Request::parse(bad.as_bytes()).is_err(), "{bad}");
        }
    }
}
