//! Text shown to the customer and bound into codes (payee names, memos): Unicode NFC,
//! and the characters refused because they change how text looks without being seen
//! (controls, format and bidirectional controls, line and paragraph separators).
//!
//! NFC here is exact for Hangul (composed by arithmetic, as Unicode defines it) and for
//! the canonical compositions of Latin, modern Greek, Cyrillic and kana (a generated table,
//! `nfc_table.rs`, from `scripts/gen_nfc_table.py`). A combining mark of U+0300..U+036F
//! (or a kana voicing mark) that does not compose onto its base is refused rather than
//! guessed at, so the app and the bank never hold two spellings of one name. The full
//! Unicode tables (the `unicode-normalization` crate) cost 124 KB of the mobile
//! library's 800 KB budget: docs/adr/0013.

mod nfc_table;

use nfc_table::{COMBINING_CLASSES, COMPOSITIONS};

/// Why a text was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TextError {
    /// A control, format, bidirectional-control, line- or paragraph-separator character.
    Invisible,
    /// A combining mark that does not compose onto the character before it.
    Uncomposed,
}

const S_BASE: u32 = 0xAC00;
const L_BASE: u32 = 0x1100;
const V_BASE: u32 = 0x1161;
const T_BASE: u32 = 0x11A7;
const L_COUNT: u32 = 19;
const V_COUNT: u32 = 21;
const T_COUNT: u32 = 28;
const N_COUNT: u32 = V_COUNT * T_COUNT;
const S_COUNT: u32 = L_COUNT * N_COUNT;

/// Whether `c` changes how text reads without being seen: a control (C0, C1, DEL), a
/// format character (general category Cf: zero-width, bidirectional embeddings,
/// overrides and isolates, the soft hyphen, invisible operators, tags), or a line or
/// paragraph separator.
pub fn is_invisible(c: char) -> bool {
    let u = u32::from(c);
    c.is_control()
        || matches!(
            u,
            0x00AD
                | 0x0600..=0x0605
                | 0x061C
                | 0x06DD
                | 0x070F
                | 0x0890..=0x0891
                | 0x08E2
                | 0x180E
                | 0x200B..=0x200F
                | 0x2028..=0x202E
                | 0x2060..=0x2064
                | 0x2066..=0x206F
                | 0xFEFF
                | 0xFFF9..=0xFFFB
                | 0x110BD
                | 0x110CD
                | 0x13430..=0x1343F
                | 0x1BCA0..=0x1BCA3
                | 0x1D173..=0x1D17A
                | 0xE0001
                | 0xE0020..=0xE007F
        )
}

/// The canonical combining class of a mark this module composes (0 for any other
/// character).
fn combining_class(c: char) -> u8 {
    let Ok(u) = u16::try_from(u32::from(c)) else { return 0 };
    COMBINING_CLASSES.binary_search_by_key(&u, |&(m, _)| m).map_or(0, |i| COMBINING_CLASSES[i].1)
}

/// A mark that must compose or be refused.
fn is_checked_mark(c: char) -> bool {
    matches!(u32::from(c), 0x0300..=0x036F | 0x3099 | 0x309A)
}

fn compose_pair(a: char, b: char) -> Option<char> {
    let (ua, ub) = (u32::from(a), u32::from(b));
    // Hangul: L + V, then LV + T.
    if (L_BASE..L_BASE + L_COUNT).contains(&ua) && (V_BASE..V_BASE + V_COUNT).contains(&ub) {
        return char::from_u32(S_BASE + ((ua - L_BASE) * V_COUNT + (ub - V_BASE)) * T_COUNT);
    }
    if (S_BASE..S_BASE + S_COUNT).contains(&ua)
        && (ua - S_BASE) % T_COUNT == 0
        && (T_BASE + 1..T_BASE + T_COUNT).contains(&ub)
    {
        return char::from_u32(ua + (ub - T_BASE));
    }
    let (a16, b16) = (u16::try_from(ua).ok()?, u16::try_from(ub).ok()?);
    COMPOSITIONS
        .binary_search_by_key(&(a16, b16), |&(x, y, _)| (x, y))
        .ok()
        .and_then(|i| char::from_u32(u32::from(COMPOSITIONS[i].2)))
}

/// The canonical decomposition of `c` as far as this module composes, appended to `out`.
fn decompose(c: char, out: &mut Vec<char>) {
    let u = u32::from(c);
    if u < 0xC0 {
        out.push(c);
        return;
    }
    if (S_BASE..S_BASE + S_COUNT).contains(&u) {
        let s = u - S_BASE;
        let t = s % T_COUNT;
        out.extend(char::from_u32(L_BASE + s / N_COUNT));
        out.extend(char::from_u32(V_BASE + (s % N_COUNT) / T_COUNT));
        if t != 0 {
            out.extend(char::from_u32(T_BASE + t));
        }
        return;
    }
    if let Ok(u16c) = u16::try_from(u) {
        if let Some(&(a, b, _)) = COMPOSITIONS.iter().find(|&&(_, _, x)| x == u16c) {
            if let (Some(a), Some(b)) = (char::from_u32(a.into()), char::from_u32(b.into())) {
                decompose(a, out);
                out.push(b);
                return;
            }
        }
    }
    out.push(c);
}

/// `text` in NFC (see the module documentation for its extent), or why it is refused.
pub fn nfc(text: &str) -> Result<String, TextError> {
    if text.chars().any(is_invisible) {
        return Err(TextError::Invisible);
    }
    // Decompose, then order each run of marks by combining class (stable).
    let mut chars = Vec::with_capacity(text.len());
    for c in text.chars() {
        decompose(c, &mut chars);
    }
    let mut i = 0;
    while i < chars.len() {
        if combining_class(chars[i]) == 0 {
            i += 1;
            continue;
        }
        let start = i;
        while i < chars.len() && combining_class(chars[i]) != 0 {
            i += 1;
        }
        chars[start..i].sort_by_key(|&c| combining_class(c));
    }
    // Compose: each character onto the last starter unless a mark of the same or a
    // higher class lies between them (blocked), as Unicode's canonical composition does.
    let mut out: Vec<char> = Vec::with_capacity(chars.len());
    let mut starter: Option<usize> = None;
    let mut last_class = 0u8;
    for c in chars {
        let class = combining_class(c);
        if let Some(s) = starter {
            let blocked = out.len() > s + 1 && (last_class == 0 || last_class >= class);
            if !blocked {
                if let Some(composed) = compose_pair(out[s], c) {
                    out[s] = composed;
                    continue;
                }
            }
        }
        if class == 0 {
            starter = Some(out.len());
        }
        last_class = class;
        out.push(c);
    }
    if out.iter().any(|&c| is_checked_mark(c)) {
        return Err(TextError::Uncomposed);
    }
    Ok(out.into_iter().collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hangul_and_latin_compose_to_nfc() {
        // 홍길동 in conjoining jamo (NFD) and precomposed (NFC).
        let nfd = "\u{1112}\u{1169}\u{11BC}\u{1100}\u{1175}\u{11AF}\u{1103}\u{1169}\u{11BC}";
        assert_eq!(nfc(nfd).unwrap(), "홍길동");
        assert_eq!(nfc("홍길동").unwrap(), "홍길동");
        assert_eq!(nfc("Jose\u{0301} Mu\u{0308}ller").unwrap(), "José Müller");
        // Vietnamese: two marks in either order compose the same way.
        assert_eq!(nfc("e\u{0323}\u{0302}").unwrap(), "\u{1EC7}");
        assert_eq!(nfc("e\u{0302}\u{0323}").unwrap(), "\u{1EC7}");
        assert_eq!(nfc("\u{00EA}\u{0323}").unwrap(), "\u{1EC7}");
        // Kana voicing.
        assert_eq!(nfc("か\u{3099}").unwrap(), "が");
        assert_eq!(nfc("Ελλάδα Москва (주)한국").unwrap(), "Ελλάδα Москва (주)한국");
    }

    #[test]
    fn invisible_and_uncomposable_characters_are_refused() {
        for bad in
            ["a\u{200B}b", "a\u{202E}b", "a\u{2066}b", "\u{FEFF}a", "a\nb", "a\tb", "\u{2028}"]
        {
            assert_eq!(nfc(bad), Err(TextError::Invisible), "{bad:?}");
        }
        assert_eq!(nfc("q\u{0301}"), Err(TextError::Uncomposed));
        assert_eq!(nfc("\u{0301}"), Err(TextError::Uncomposed));
    }
}
