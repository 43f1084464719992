//! Google Authenticator's `otpauth-migration://offline?data=…` export (feature
//! `migration`): payloads built here field by field from the published protobuf schema
//! (`MigrationPayload`), and the example export the projects reading these QR codes
//! publish.
#![cfg(feature = "migration")]

use digital_otp::otp::migration::{self, MigrationError};
use digital_otp::otp::uri::{UriError, UriKind};
use digital_otp::otp::{Algorithm, Hotp, SecretError};

// --- A protobuf writer for the schema's fields (wire types 0 and 2 only) ---

fn varint(out: &mut Vec<u8>, mut v: u64) {
    while v >= 0x80 {
        out.push((v as u8) | 0x80);
        v >>= 7;
    }
    out.push(v as u8);
}

fn field_varint(out: &mut Vec<u8>, field: u64, v: u64) {
    varint(out, field << 3);
    varint(out, v);
}

fn field_bytes(out: &mut Vec<u8>, field: u64, bytes: &[u8]) {
    varint(out, (field << 3) | 2);
    varint(out, bytes.len() as u64);
    out.extend_from_slice(bytes);
}

/// `OtpParameters`: secret 1, name 2, issuer 3, algorithm 4, digits 5, type 6, counter 7.
#[derive(Default)]
struct Entry<'a> {
    secret: &'a [u8],
    name: &'a str,
    issuer: &'a str,
    algorithm: u64,
    digits: u64,
    kind: u64,
    counter: u64,
}

impl Entry<'_> {
    fn encode(&self) -> Vec<u8> {
        let mut out = Vec::new();
        field_bytes(&mut out, 1, self.secret);
        field_bytes(&mut out, 2, self.name.as_bytes());
        if !self.issuer.is_empty() {
            field_bytes(&mut out, 3, self.issuer.as_bytes());
        }
        // proto3: zero values are left out, as the app does.
        for (field, v) in [(4, self.algorithm), (5, self.digits), (6, self.kind), (7, self.counter)]
        {
            if v != 0 {
                field_varint(&mut out, field, v);
            }
        }
        out
    }
}

/// `MigrationPayload`: otp_parameters 1 (repeated), version 2, batch_size 3,
/// batch_index 4, batch_id 5 (int32: a negative id is a 10-byte varint).
fn payload(entries: &[Entry], batch_id: i32) -> Vec<u8> {
    let mut out = Vec::new();
    for e in entries {
        field_bytes(&mut out, 1, &e.encode());
    }
    field_varint(&mut out, 2, 1);
    field_varint(&mut out, 3, 2);
    field_varint(&mut out, 4, 1);
    field_varint(&mut out, 5, i64::from(batch_id) as u64);
    out
}

const B64: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/// Standard padded base64 (what the app writes).
fn base64(bytes: &[u8]) -> String {
    let mut out = String::new();
    for chunk in bytes.chunks(3) {
        let b = [chunk[0], *chunk.get(1).unwrap_or(&0), *chunk.get(2).unwrap_or(&0)];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(B64[((n >> (18 - 6 * i)) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

/// The export URI as the app writes it: base64 percent-encoded.
fn export(bytes: &[u8]) -> String {
    let data = base64(bytes).replace('+', "%2B").replace('/', "%2F").replace('=', "%3D");
    format!("otpauth-migration://offline?data={data}")
}

const RFC4226_KEY: &[u8] = b"12345678901234567890";

// --- Tests ---

#[test]
fn the_published_example_export() {
    // One TOTP account: secret "Hello!\xde\xad\xbe\xef" (JBSWY3DPEHPK3PXP), name
    // "Example:alice@google.com", issuer "Example", type TOTP, other fields unspecified.
    let m = migration::parse(
        "otpauth-migration://offline?data=CjEKCkhlbGxvId6tvu8SGEV4YW1wbGU6YWxpY2VAZ29vZ2xlLmNvbRoHRXhhbXBsZTAC",
    )
    .unwrap();
    assert_eq!(m.accounts.len(), 1);
    let a = &m.accounts[0];
    assert_eq!(
        &*a.to_uri(),
        "otpauth://totp/Example:alice%40google.com?secret=JBSWY3DPEHPK3PXP&issuer=Example&algorithm=SHA1&digits=6&period=30"
    );
    assert_eq!((m.version, m.batch_size, m.batch_index, m.batch_id), (0, 0, 0, 0));
}

#[test]
fn several_accounts_hotp_with_its_counter_and_the_batch_fields() {
    let entries = [
        Entry {
            secret: RFC4226_KEY,
            name: "Bank:alice@example.com",
            issuer: "Bank",
            algorithm: 2,
            digits: 2,
            kind: 2,
            ..Entry::default()
        },
        Entry {
            secret: RFC4226_KEY,
            name: "token-7",
            issuer: "Hardware",
            algorithm: 3,
            digits: 1,
            kind: 1,
            counter: 42,
        },
        // Unspecified algorithm and digits: SHA-1 and 6; no issuer field, the label's.
        Entry { secret: RFC4226_KEY, name: "Label: bob", kind: 1, ..Entry::default() },
    ];
    let bytes = payload(&entries, -123_456_789);
    let m = migration::parse(&export(&bytes)).unwrap();
    assert_eq!((m.version, m.batch_size, m.batch_index, m.batch_id), (1, 2, 1, -123_456_789));
    assert_eq!(m.accounts.len(), 3);

    let [a, b, c] = [&m.accounts[0], &m.accounts[1], &m.accounts[2]];
    assert_eq!((a.issuer.as_deref(), a.account.as_str()), (Some("Bank"), "alice@example.com"));
    assert_eq!(
        (a.algorithm, a.digits, a.kind),
        (Algorithm::Sha256, 8, UriKind::Totp { period: 30 })
    );
    assert_eq!((b.issuer.as_deref(), b.account.as_str()), (Some("Hardware"), "token-7"));
    assert_eq!(
        (b.algorithm, b.digits, b.kind),
        (Algorithm::Sha512, 6, UriKind::Hotp { counter: 42 })
    );
    assert_eq!((c.issuer.as_deref(), c.account.as_str()), (Some("Label"), "bob"));
    assert_eq!((c.algorithm, c.digits, c.kind), (Algorithm::Sha1, 6, UriKind::Hotp { counter: 0 }));
    assert_eq!(c.secret.expose(), RFC4226_KEY);
    // The imported HOTP secret gives RFC 4226's codes.
    let hotp = Hotp::new(&c.secret, c.algorithm, c.digits).unwrap();
    assert_eq!(hotp.generate(1).to_string(), "287082");
    // Each account round-trips through its otpauth:// URI.
    for account in &m.accounts {
        let uri = account.to_uri();
        assert_eq!(&digital_otp::otp::uri::KeyUri::parse(&uri).unwrap(), account);
    }
    assert!(b.to_uri().contains("counter=42"));
}

#[test]
fn data_in_every_base64_spelling() {
    let bytes =
        payload(&[Entry { secret: &[0xfb; 20], name: "x", kind: 2, ..Entry::default() }], 7);
    let padded = base64(&bytes);
    assert!(padded.contains('+') || padded.contains('/'), "the test needs +/ in the data");
    let expected = migration::parse(&export(&bytes)).unwrap();
    let url_safe = padded.replace('+', "-").replace('/', "_");
    for data in [
        padded.clone(),
        padded.trim_end_matches('=').to_string(),
        url_safe.clone(),
        url_safe.trim_end_matches('=').to_string(),
    ] {
        let m = migration::parse(&format!("OTPAUTH-MIGRATION://offline?data={data}")).unwrap();
        assert_eq!(m, expected, "{data}");
    }
    assert_eq!(migration::decode_payload(&bytes).unwrap(), expected);
}

#[test]
fn unknown_fields_are_skipped() {
    let mut entry = Entry { secret: RFC4226_KEY, name: "a", kind: 2, ..Entry::default() }.encode();
    field_varint(&mut entry, 15, 99);
    field_bytes(&mut entry, 16, b"future");
    let mut bytes = Vec::new();
    field_bytes(&mut bytes, 1, &entry);
    field_bytes(&mut bytes, 9, b"unknown");
    bytes.extend_from_slice(&[(10 << 3) | 5, 1, 2, 3, 4]); // fixed32
    bytes.extend_from_slice(&[(11 << 3) | 1, 1, 2, 3, 4, 5, 6, 7, 8]); // fixed64
    let m = migration::decode_payload(&bytes).unwrap();
    assert_eq!(m.accounts[0].account, "a");
}

#[test]
fn the_uri_around_the_data_is_checked() {
    let good = base64(&payload(
        &[Entry { secret: RFC4226_KEY, name: "a", kind: 2, ..Entry::default() }],
        1,
    ));
    let cases = [
        (format!("otpauth://offline?data={good}"), MigrationError::Scheme),
        (format!("otpauth-migration://online?data={good}"), MigrationError::Scheme),
        ("otpauth-migration://offline".to_string(), MigrationError::MissingData),
        ("otpauth-migration://offline?data=".to_string(), MigrationError::MissingData),
        (
            format!("otpauth-migration://offline?data={good}&data={good}"),
            MigrationError::RepeatedData,
        ),
        ("otpauth-migration://offline?data=!!!!".to_string(), MigrationError::Base64),
        ("otpauth-migration://offline?data=QUJD%FF".to_string(), MigrationError::Base64),
        ("otpauth-migration://offline?data=A".to_string(), MigrationError::Base64),
        (
            format!("otpauth-migration://offline?data={}", "A".repeat(70_000)),
            MigrationError::TooLong,
        ),
    ];
    for (uri, expected) in cases {
        assert_eq!(migration::parse(&uri).unwrap_err(), expected, "{}", &uri[..uri.len().min(60)]);
    }
    // Other parameters are ignored; the host may end with '/'.
    assert!(migration::parse(&format!("otpauth-migration://offline/?x=1&data={good}")).is_ok());
}

#[test]
fn bad_protobuf_is_a_typed_error() {
    let entry = Entry { secret: RFC4226_KEY, name: "a", kind: 2, ..Entry::default() }.encode();
    let mut whole = Vec::new();
    field_bytes(&mut whole, 1, &entry);
    let truncated = &whole[..whole.len() - 3];
    let mut wrong_type = Vec::new();
    field_varint(&mut wrong_type, 1, 5); // otp_parameters as a varint
    let mut bad_utf8 = Vec::new();
    let mut e = Vec::new();
    field_bytes(&mut e, 1, RFC4226_KEY);
    field_bytes(&mut e, 2, &[0xff, 0xfe]);
    field_bytes(&mut bad_utf8, 1, &e);
    let cases: [(&[u8], MigrationError); 7] = [
        (truncated, MigrationError::Protobuf),
        (&wrong_type, MigrationError::Protobuf),
        (&bad_utf8, MigrationError::Protobuf),
        (&[0x0a, 0x80], MigrationError::Protobuf),
        (&[0x0b], MigrationError::Protobuf),
        (&[0x00, 0x01], MigrationError::Protobuf),
        (&[0x10, 0x01], MigrationError::Empty), // only a version: no account
    ];
    for (bytes, expected) in cases {
        assert_eq!(migration::decode_payload(bytes).unwrap_err(), expected, "{bytes:?}");
        assert_eq!(migration::parse(&export(bytes)).unwrap_err(), expected);
    }
    assert_eq!(migration::decode_payload(&[]).unwrap_err(), MigrationError::Empty);
}

#[test]
fn unsupported_entries_refuse_the_batch_with_the_entry_number() {
    let ok = Entry { secret: RFC4226_KEY, name: "ok", kind: 2, ..Entry::default() };
    let private = "alice.private@example.com";
    let bad = [
        (
            Entry {
                algorithm: 4,
                ..Entry { secret: RFC4226_KEY, name: private, kind: 2, ..Entry::default() }
            },
            MigrationError::UnknownAlgorithm { entry: 2, value: 4 },
        ),
        (
            Entry {
                digits: 3,
                ..Entry { secret: RFC4226_KEY, name: private, kind: 2, ..Entry::default() }
            },
            MigrationError::UnknownDigits { entry: 2, value: 3 },
        ),
        (
            Entry { secret: RFC4226_KEY, name: private, kind: 0, ..Entry::default() },
            MigrationError::UnknownType { entry: 2, value: 0 },
        ),
        (
            Entry { secret: RFC4226_KEY, name: private, kind: 3, ..Entry::default() },
            MigrationError::UnknownType { entry: 2, value: 3 },
        ),
        (
            Entry { secret: b"short", name: private, kind: 2, ..Entry::default() },
            MigrationError::Entry {
                entry: 2,
                source: UriError::Secret(SecretError::TooShort { bits: 40 }),
            },
        ),
        (
            Entry { secret: b"", name: private, kind: 2, ..Entry::default() },
            MigrationError::Entry { entry: 2, source: UriError::Secret(SecretError::Empty) },
        ),
        (
            Entry { secret: RFC4226_KEY, name: "Issuer:", kind: 2, ..Entry::default() },
            MigrationError::Entry { entry: 2, source: UriError::MissingAccount },
        ),
    ];
    for (entry, expected) in bad {
        let bytes = payload(&[Entry { ..ok }, entry], 1);
        let err = migration::parse(&export(&bytes)).unwrap_err();
        assert_eq!(err, expected);
        let text = err.to_string();
        assert!(text.starts_with("account 2: "), "{text}");
        assert!(!text.contains("alice") && !text.contains("example.com"), "{text}");
    }
}

#[test]
fn is_migration_uri() {
    assert!(migration::is_migration_uri("otpauth-migration://offline?data=AA"));
    assert!(!migration::is_migration_uri("otpauth://totp/a?secret=JBSWY3DPEHPK3PXP"));
}
