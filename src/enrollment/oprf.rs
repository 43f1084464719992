//! The app password's OPRF (RFC 9497, OPRF mode, ristretto255 with SHA-512, through the
//! `voprf` crate; docs/adr/0010). The app blinds the password; the issuer evaluates the
//! blinded element with the credential's key, which never leaves the issuer, and counts
//! every evaluation; the app unblinds the result. Without the issuer's key the output
//! cannot be computed, so nothing stored on the phone can test a password offline.

use rand_core::OsRng;
use voprf::{BlindedElement, EvaluationElement, OprfClient, OprfServer, Ristretto255};
use zeroize::Zeroizing;

use super::error::ProtocolError;
use crate::crypto;

/// The length of a blinded element and of an evaluation (a ristretto255 point).
pub const ELEMENT_LEN: usize = 32;
/// The length of the OPRF output (SHA-512).
pub const OUTPUT_LEN: usize = 64;
/// The context of the key derivation from a key seed.
const KEY_INFO: &[u8] = b"digital-otp/v2/app-password";

/// The app's half between blinding and finalizing: the blind, in memory only.
pub struct Blind(OprfClient<Ristretto255>);

impl std::fmt::Debug for Blind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Blind(<redacted>)")
    }
}

impl Blind {
    /// Blinds `password`: the blind and the element to send (uniformly random, whatever
    /// the password).
    pub fn new(password: &[u8]) -> Result<(Self, [u8; ELEMENT_LEN]), ProtocolError> {
        let r = OprfClient::<Ristretto255>::blind(password, &mut OsRng)
            .map_err(|_| ProtocolError::Crypto)?;
        let bytes = r.message.serialize();
        let element: [u8; ELEMENT_LEN] = bytes[..].try_into().map_err(|_| ProtocolError::Crypto)?;
        Ok((Self(r.state), element))
    }

    /// The OPRF output for `password` from the issuer's `evaluation`. A malformed
    /// evaluation is `Field(field)`.
    pub fn finish(
        &self,
        password: &[u8],
        evaluation: &[u8; ELEMENT_LEN],
        field: &'static str,
    ) -> Result<Zeroizing<[u8; OUTPUT_LEN]>, ProtocolError> {
        let element = EvaluationElement::<Ristretto255>::deserialize(evaluation)
            .map_err(|_| ProtocolError::Field(field))?;
        let out = self.0.finalize(password, &element).map_err(|_| ProtocolError::Field(field))?;
        let mut output = Zeroizing::new([0u8; OUTPUT_LEN]);
        if out.len() != OUTPUT_LEN {
            return Err(ProtocolError::Crypto);
        }
        output.copy_from_slice(&out);
        Ok(output)
    }
}

/// A new key seed for a credential's OPRF key (issuer side; kept sealed).
pub fn new_key_seed() -> Result<Zeroizing<[u8; 32]>, ProtocolError> {
    let mut seed = Zeroizing::new([0u8; 32]);
    crypto::random(&mut *seed)?;
    Ok(seed)
}

/// Evaluates a blinded element with the key of `key_seed` (issuer side). A malformed
/// element is `Field(field)`.
pub fn evaluate(
    key_seed: &[u8; 32],
    blinded: &[u8; ELEMENT_LEN],
    field: &'static str,
) -> Result<[u8; ELEMENT_LEN], ProtocolError> {
    let server = OprfServer::<Ristretto255>::new_from_seed(key_seed, KEY_INFO)
        .map_err(|_| ProtocolError::Crypto)?;
    let element = BlindedElement::<Ristretto255>::deserialize(blinded)
        .map_err(|_| ProtocolError::Field(field))?;
    let bytes = server.blind_evaluate(&element).serialize();
    bytes[..].try_into().map_err(|_| ProtocolError::Crypto)
}

/// A valid-looking evaluation of nothing: a random element, for answers that must look
/// like real ones.
pub fn decoy_evaluation(blinded: &[u8; ELEMENT_LEN]) -> Result<[u8; ELEMENT_LEN], ProtocolError> {
    let seed = new_key_seed()?;
    evaluate(&seed, blinded, "blinded")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_output_depends_on_the_password_and_the_key_and_not_on_the_blind() {
        let key = new_key_seed().unwrap();
        let run = |password: &[u8], key: &[u8; 32]| {
            let (blind, element) = Blind::new(password).unwrap();
            let evaluation = evaluate(key, &element, "b").unwrap();
            *blind.finish(password, &evaluation, "e").unwrap()
        };
        assert_eq!(run(b"482915", &key), run(b"482915", &key), "fresh blinds, same output");
        assert_ne!(run(b"482915", &key), run(b"482916", &key));
        assert_ne!(run(b"482915", &key), run(b"482915", &new_key_seed().unwrap()));
    }

    #[test]
    fn blinded_elements_differ_every_time_and_bad_elements_are_refused() {
        let (_, a) = Blind::new(b"482915").unwrap();
        let (_, b) = Blind::new(b"482915").unwrap();
        assert_ne!(a, b);
        let key = new_key_seed().unwrap();
        assert_eq!(evaluate(&key, &[0xff; ELEMENT_LEN], "b"), Err(ProtocolError::Field("b")));
        let (blind, _) = Blind::new(b"482915").unwrap();
        assert_eq!(
            blind.finish(b"482915", &[0xff; ELEMENT_LEN], "e").unwrap_err(),
            ProtocolError::Field("e")
        );
    }
}
