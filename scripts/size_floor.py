#!/usr/bin/env python3
"""Turns a copy of the crate into its size floor: the same mobile library with no SDK logic.

    scripts/size_floor.py COPY_DIR     (scripts/size-report.sh --floor runs it)

Edits COPY_DIR, never the repository:
- every exported app function that returns a `Result` (the `DigitalOtp` methods and the
  free functions of src/ffi/app.rs) gets the body `Err(DigitalOtpError::NotRegistered)`,
  so the exported surface (the same 33 functions, records, errors, foreign traits and
  their UniFFI glue) stays and the logic behind it (enrollment, sealed storage, JSON,
  lockout, TOTP/OCRA, transactions) goes;
- one exported probe function is added that uses every primitive the SDK needs: X25519,
  HKDF-SHA256, PBKDF2-HMAC-SHA256, AES-256-GCM seal and open (ring), and the OTP HMAC for
  SHA-1, SHA-256 and SHA-512 (src/otp/mac.rs).

What the floor weighs is what any implementation of this API with these primitives
weighs on this toolchain; the shipped library minus the floor is the SDK's logic.
Exits non-zero, naming what it missed, if the sources no longer have the expected shape.
"""

import pathlib
import re
import sys

STUB = "Err(DigitalOtpError::NotRegistered)"
FIRST_STUBBED = "pub fn check_password_policy"

PROBE = '''
/// Size floor probe (scripts/size_floor.py): every primitive the SDK uses, nothing else.
#[uniffi::export]
pub fn size_floor_probe(peer: Vec<u8>, algorithm: u8) -> Result<Vec<u8>, DigitalOtpError> {
    use ring::{aead, agreement, hkdf, pbkdf2, rand};
    let no = |_| DigitalOtpError::NotRegistered;
    let rng = rand::SystemRandom::new();
    let own = agreement::EphemeralPrivateKey::generate(&agreement::X25519, &rng).map_err(no)?;
    let peer_key = agreement::UnparsedPublicKey::new(&agreement::X25519, peer.clone());
    let shared = agreement::agree_ephemeral(own, &peer_key, |s| s.to_vec()).map_err(no)?;
    let prk = hkdf::Salt::new(hkdf::HKDF_SHA256, &peer).extract(&shared);
    let mut okm = [0u8; 32];
    prk.expand(&[b"floor"], hkdf::HKDF_SHA256).map_err(no)?.fill(&mut okm).map_err(no)?;
    let mut key_bytes = [0u8; 32];
    pbkdf2::derive(pbkdf2::PBKDF2_HMAC_SHA256, std::num::NonZeroU32::MIN, &okm, &peer, &mut key_bytes);
    let key = aead::LessSafeKey::new(aead::UnboundKey::new(&aead::AES_256_GCM, &key_bytes).map_err(no)?);
    let mut sealed = peer.clone();
    key.seal_in_place_append_tag(aead::Nonce::assume_unique_for_key([0; 12]), aead::Aad::from(&okm), &mut sealed)
        .map_err(no)?;
    let mut opened = sealed.clone();
    key.open_in_place(aead::Nonce::assume_unique_for_key([0; 12]), aead::Aad::from(&okm), &mut opened)
        .map_err(no)?;
    let hash = match algorithm {
        0 => crate::otp::Algorithm::Sha1,
        1 => crate::otp::Algorithm::Sha256,
        _ => crate::otp::Algorithm::Sha512,
    };
    let code = crate::otp::mac::KeyedMac::new(hash, &peer).truncated(&[&opened]);
    sealed.extend_from_slice(&code.to_be_bytes());
    Ok(sealed)
}
'''


def stub_bodies(text: str) -> tuple[str, list[str]]:
    """Replaces the body of each `pub fn ... -> Result<...> {` after FIRST_STUBBED."""
    start = text.find(FIRST_STUBBED)
    if start < 0:
        raise SystemExit(f"size_floor: `{FIRST_STUBBED}` not found in src/ffi/app.rs")
    out, names, pos = [text[:start]], [], start
    signature = re.compile(r"pub fn (\w+)\s*\((?:[^{;]*?)\)\s*->\s*Result<[^{;]*?\{", re.S)
    while (m := signature.search(text, pos)) is not None:
        out.append(text[pos:m.end()])
        depth, i = 1, m.end()
        while depth:
            if i >= len(text):
                raise SystemExit(f"size_floor: unbalanced braces in `{m.group(1)}`")
            depth += {"{": 1, "}": -1}.get(text[i], 0)
            i += 1
        column = m.start() - (text.rfind("\n", 0, m.start()) + 1)
        out.append(f"\n{' ' * (column + 4)}{STUB}\n{' ' * column}}}")
        names.append(m.group(1))
        pos = i
    out.append(text[pos:])
    return "".join(out), names


def main() -> int:
    if len(sys.argv) != 2:
        print(__doc__.strip().splitlines()[2].strip(), file=sys.stderr)
        return 2
    root = pathlib.Path(sys.argv[1])
    app = root / "src/ffi/app.rs"
    text, names = stub_bodies(app.read_text())
    expected = {"begin_registration", "complete_registration", "generate", "generate_for_transaction"}
    if not expected <= set(names):
        raise SystemExit(f"size_floor: stubbed {sorted(names)}, expected at least {sorted(expected)}")
    app.write_text(text + PROBE)

    otp = root / "src/otp/mod.rs"
    source = otp.read_text()
    if "\nmod mac;" not in source:
        raise SystemExit("size_floor: `mod mac;` not found in src/otp/mod.rs")
    otp.write_text(source.replace("\nmod mac;", "\npub(crate) mod mac;", 1))
    print(f"size_floor: stubbed {len(names)} functions: {', '.join(names)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
