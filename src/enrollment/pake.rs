//! The registration code as a PAKE: SPAKE2 over the Ed25519 group (RustCrypto's `spake2`,
//! docs/adr/0009). The app is side A, the issuer side B; both identities are bound into
//! the key (the app's is fixed, the issuer's is the institution id), and the code's
//! twelve digits are the password. An eavesdropper learns nothing about the code; an
//! active attacker who does not know it tests exactly one guess per exchange.

use spake2::{Ed25519Group, Identity, Password, Spake2};
use zeroize::Zeroizing;

use super::error::ProtocolError;

/// The length of a SPAKE2 message: a side byte and a compressed point.
pub const MESSAGE_LEN: usize = 33;

/// The app's identity in the exchange.
const APP_IDENTITY: &[u8] = b"digital-otp/v2/app";

/// One side of an exchange in progress; consumed by [`Exchange::finish`].
pub struct Exchange(Spake2<Ed25519Group>);

impl std::fmt::Debug for Exchange {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Exchange(<redacted>)")
    }
}

fn ids(institution_id: &str) -> (Identity, Identity) {
    (Identity::new(APP_IDENTITY), Identity::new(institution_id.as_bytes()))
}

fn message(msg: Vec<u8>) -> Result<[u8; MESSAGE_LEN], ProtocolError> {
    msg.try_into().map_err(|_| ProtocolError::Crypto)
}

impl Exchange {
    /// The app's side (A): the exchange and its first message.
    pub fn app(
        code: &[u8],
        institution_id: &str,
    ) -> Result<(Self, [u8; MESSAGE_LEN]), ProtocolError> {
        let (a, b) = ids(institution_id);
        let (state, msg) = Spake2::<Ed25519Group>::start_a(&Password::new(code), &a, &b);
        Ok((Self(state), message(msg)?))
    }

    /// The issuer's side (B): the exchange and its message.
    pub fn issuer(
        code: &[u8],
        institution_id: &str,
    ) -> Result<(Self, [u8; MESSAGE_LEN]), ProtocolError> {
        let (a, b) = ids(institution_id);
        let (state, msg) = Spake2::<Ed25519Group>::start_b(&Password::new(code), &a, &b);
        Ok((Self(state), message(msg)?))
    }

    /// The shared key from the other side's message. Both sides get the same key only if
    /// both used the same code; a wrong code gives an unrelated key (the key confirmation
    /// that follows tells them apart). A malformed message is `Field("pake")`.
    pub fn finish(self, other: &[u8; MESSAGE_LEN]) -> Result<Zeroizing<[u8; 32]>, ProtocolError> {
        let key = Zeroizing::new(self.0.finish(other).map_err(|_| ProtocolError::Field("pake"))?);
        let mut out = Zeroizing::new([0u8; 32]);
        if key.len() != 32 {
            return Err(ProtocolError::Crypto);
        }
        out.copy_from_slice(&key);
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_same_code_gives_the_same_key_and_another_code_does_not() {
        let (app, a) = Exchange::app(b"204572520853", "bank-a").unwrap();
        let (issuer, b) = Exchange::issuer(b"204572520853", "bank-a").unwrap();
        assert_eq!(*app.finish(&b).unwrap(), *issuer.finish(&a).unwrap());

        let (app, a) = Exchange::app(b"204572520853", "bank-a").unwrap();
        let (issuer, b) = Exchange::issuer(b"204572520854", "bank-a").unwrap();
        assert_ne!(*app.finish(&b).unwrap(), *issuer.finish(&a).unwrap());

        // Another institution's identity: another key.
        let (app, a) = Exchange::app(b"204572520853", "bank-a").unwrap();
        let (issuer, b) = Exchange::issuer(b"204572520853", "bank-b").unwrap();
        assert_ne!(*app.finish(&b).unwrap(), *issuer.finish(&a).unwrap());
    }

    #[test]
    fn malformed_messages_are_errors() {
        let (app, a) = Exchange::app(b"204572520853", "bank-a").unwrap();
        // Its own side's message (A instead of B) and garbage.
        assert!(app.finish(&a).is_err());
        // About half of all 32-byte strings are no point of the curve: one of these is not.
        let refused = (2u8..40).any(|y| {
            let (app, _) = Exchange::app(b"204572520853", "bank-a").unwrap();
            let mut bad = [0u8; MESSAGE_LEN];
            bad[0] = 0x42;
            bad[1] = y;
            app.finish(&bad) == Err(ProtocolError::Field("pake"))
        });
        assert!(refused);
    }
}
