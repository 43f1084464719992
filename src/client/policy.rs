//! The app password policy: six digits, not on the list of common ones, not a repeated
//! digit or group, not a run (the UI checks it before registering: `checkPasswordPolicy`);
//! and how many wrong ones in a row lock a credential.

/// Consecutive wrong passwords that lock a credential.
pub const MAX_PASSWORD_ATTEMPTS: u32 = 5;
/// Why the app password was refused by the policy.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PasswordPolicyError {
    /// Not exactly six digits.
    #[error("the password must be exactly 6 digits")]
    Format,
    /// On the list of common passwords.
    #[error("the password is too common")]
    Common,
    /// One digit or a short group repeated (111111, 121212, 123123).
    #[error("the password must not repeat a digit or a group of digits")]
    Repeated,
    /// Ascending or descending run (123456, 987654).
    #[error("the password must not be a run of consecutive digits")]
    Sequential,
}

/// Common six-digit passwords, refused.
pub const COMMON_PASSWORDS: &[&str] = &[
    "000000", "111111", "123456", "654321", "123123", "121212", "112233", "123321", "102030",
    "111222", "159753", "147258", "258369", "456789", "789456", "520520", "131313", "010203",
    "696969", "202020", "112358", "007007", "142536", "246810", "135790", "147852", "963852",
    "741852", "456123", "999999",
];

/// Whether `password` has the app password's form (six ASCII digits): what any entered
/// password must have before it is sent to the bank as a guess.
pub fn is_well_formed(password: &str) -> bool {
    password.len() == 6 && password.bytes().all(|b| b.is_ascii_digit())
}

/// Checks the app password policy: six digits, not common, not repeated, not sequential.
pub fn check_password_policy(password: &str) -> Result<(), PasswordPolicyError> {
    let d = password.as_bytes();
    if !is_well_formed(password) {
        return Err(PasswordPolicyError::Format);
    }
    if COMMON_PASSWORDS.contains(&password) {
        return Err(PasswordPolicyError::Common);
    }
    let repeats = |n: usize| d.iter().enumerate().all(|(i, c)| *c == d[i % n]);
    if repeats(1) || repeats(2) || repeats(3) {
        return Err(PasswordPolicyError::Repeated);
    }
    let steps = |delta: i16| d.windows(2).all(|w| i16::from(w[1]) - i16::from(w[0]) == delta);
    if steps(1) || steps(-1) {
        return Err(PasswordPolicyError::Sequential);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn password_policy() {
        for ok in ["482915", "730264", "019283"] {
            assert_eq!(check_password_policy(ok), Ok(()), "{ok}");
        }
        for (bad, why) in [
            ("12345", PasswordPolicyError::Format),
            ("1234567", PasswordPolicyError::Format),
            ("12345a", PasswordPolicyError::Format),
            ("１２３４５６", PasswordPolicyError::Format),
            ("123456", PasswordPolicyError::Common),
            ("000000", PasswordPolicyError::Common),
            ("654321", PasswordPolicyError::Common),
            ("777777", PasswordPolicyError::Repeated),
            ("343434", PasswordPolicyError::Repeated),
            ("827827", PasswordPolicyError::Repeated),
            ("234567", PasswordPolicyError::Sequential),
            ("876543", PasswordPolicyError::Sequential),
            ("012345", PasswordPolicyError::Sequential),
        ] {
            assert_eq!(check_password_policy(bad), Err(why), "{bad}");
        }
        assert!(COMMON_PASSWORDS.len() >= 10);
    }
}
