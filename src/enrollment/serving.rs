//! The issuer's side of the registration protocol: answering a request (or a decoy of
//! the same shape), parsing what the app sends, checking its confirmation.

use super::*;

/// What the issuer keeps of an answered request until its confirmation (sealed).
#[derive(Clone, PartialEq, Eq)]
pub struct Attempt {
    /// The attempt's id (in the response and the confirmation).
    pub id: [u8; ATTEMPT_LEN],
    /// The seed.
    pub seed: Zeroizing<[u8; 32]>,
    /// The confirmation expected from the app.
    pub expected_confirmation: [u8; 32],
    /// What the device key must have signed.
    pub signed_digest: [u8; 32],
    /// The key of the outcome's MAC.
    pub result_key: Zeroizing<[u8; 32]>,
    /// The key that authenticates this credential's unlock answers.
    pub unlock_key: Zeroizing<[u8; 32]>,
}

impl fmt::Debug for Attempt {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Attempt(<redacted>)")
    }
}

/// The issuer's answer to a request for the code `code` (the 12 digits): the response
/// bytes and what to keep until the confirmation. The password is evaluated with the key
/// of `password_key_seed`. The attempt's id starts with `handle` (the issuer's way back to
/// the code), then 16 random bytes.
pub fn answer(
    request: &Request,
    code: &[u8],
    password_key_seed: &[u8; 32],
    grant: &Grant,
    handle: &[u8; 16],
) -> Result<(Vec<u8>, Attempt), ProtocolError> {
    grant.check()?;
    let mut id = [0u8; ATTEMPT_LEN];
    id[..16].copy_from_slice(handle);
    crypto::random(&mut id[16..])?;
    let (exchange, pake_b) = Exchange::issuer(code, &request.institution_id)?;
    let k = exchange.finish(&request.pake)?;
    let evaluation =
        oprf::evaluate(password_key_seed, &request.blinded_password, "blinded_password")?;
    let t = transcript(request, &id, &pake_b, &evaluation);
    let keys = key_schedule(&k, &t);
    let sealed_grant = SealingKey::new(&keys.grant)?.seal(&t, &grant.encode())?;
    let confirmed = confirmed_transcript(&t, &sealed_grant);
    let expected_confirmation = mac(&*keys.app_confirm, &[&confirmed]);
    let bytes = response_bytes(&id, &pake_b, &evaluation, &sealed_grant);
    let attempt = Attempt {
        id,
        seed: keys.seed,
        expected_confirmation,
        signed_digest: signed_digest(&confirmed, &expected_confirmation),
        result_key: keys.result,
        unlock_key: keys.unlock,
    };
    Ok((bytes, attempt))
}

/// A response of the same shape and length as a real one for `request`, with nothing
/// behind it: for an unknown lookup, a void or expired code. The app's key confirmation
/// fails on it exactly as on a wrong code.
pub fn decoy(request: &Request, grant_like: &Grant) -> Result<Vec<u8>, ProtocolError> {
    let mut id = [0u8; ATTEMPT_LEN];
    crypto::random(&mut id)?;
    let mut random_code = [0u8; CODE_DIGITS];
    crypto::random(&mut random_code)?;
    let (_, pake_b) = Exchange::issuer(&random_code, &request.institution_id)?;
    let evaluation = oprf::decoy_evaluation(&request.blinded_password)?;
    let mut key = Zeroizing::new([0u8; 32]);
    crypto::random(&mut *key)?;
    let sealed_grant = SealingKey::new(&key)?.seal(b"decoy", &grant_like.encode())?;
    Ok(response_bytes(&id, &pake_b, &evaluation, &sealed_grant))
}

fn response_bytes(
    id: &[u8; ATTEMPT_LEN],
    pake_b: &[u8; pake::MESSAGE_LEN],
    evaluation: &[u8; oprf::ELEMENT_LEN],
    sealed_grant: &[u8],
) -> Vec<u8> {
    envelope(PROTOCOL, VERSION, "response")
        .string("attempt", hex(id))
        .string("pake", hex(pake_b))
        .string("evaluation", hex(evaluation))
        .string("grant", hex(sealed_grant))
        .finish()
}

/// A parsed confirmation (issuer side).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Confirmation {
    /// The attempt it confirms.
    pub attempt: [u8; ATTEMPT_LEN],
    /// The app's key confirmation.
    pub confirmation: [u8; 32],
    /// The device key's signature (ASN.1 DER ECDSA P-256 SHA-256) of the attempt's
    /// [`Attempt::signed_digest`].
    pub signature: Vec<u8>,
}

/// What a registration message is, as the issuer reads it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Incoming {
    /// The first message.
    Request(Box<Request>),
    /// The third.
    Confirmation(Confirmation),
}

/// Parses a message the issuer received.
pub fn parse_incoming(bytes: &[u8]) -> Result<Incoming, ProtocolError> {
    let (kind, _) = open_envelope(bytes, PROTOCOL, VERSION)?;
    match kind.as_str() {
        "request" => Ok(Incoming::Request(Box::new(Request::parse(bytes)?))),
        "confirmation" => {
            let (_, fields) = open_envelope(bytes, PROTOCOL, VERSION)?;
            let mut m = message(fields, CONFIRMATION_FIELDS)?;
            let s = |m: &mut Fields, k: &'static str| m.string(k).map_err(malformed);
            let signature = unhex_vec(&s(&mut m, "signature")?, "signature")?;
            if signature.len() > 80 {
                return Err(ProtocolError::Field("signature"));
            }
            Ok(Incoming::Confirmation(Confirmation {
                attempt: unhex(&s(&mut m, "attempt")?, "attempt")?,
                confirmation: unhex(&s(&mut m, "confirmation")?, "confirmation")?,
                signature,
            }))
        }
        _ => Err(ProtocolError::Field("type")),
    }
}

impl Attempt {
    /// Whether `c` is this attempt's confirmation (constant time).
    pub fn confirms(&self, c: &Confirmation) -> bool {
        same(&c.attempt, &self.id) & same(&c.confirmation, &self.expected_confirmation)
    }

    /// The outcome message for a registered credential.
    pub fn registered(&self, serial: &str) -> Vec<u8> {
        envelope(PROTOCOL, VERSION, "registered")
            .string("serial_number", serial)
            .string("mac", hex(&outcome_mac(&self.result_key, &self.id, serial)))
            .finish()
    }
}

/// An error message the issuer sends instead of a response or an outcome.
pub fn reject(reason: RejectReason) -> Vec<u8> {
    envelope(PROTOCOL, VERSION, "error").string("error", reason.name()).finish()
}
