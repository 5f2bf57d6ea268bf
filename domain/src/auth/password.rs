//! Passwords: the policy a new password must meet, and argon2id hashing.
//!
//! Parameters are OWASP's first argon2id row (m = 19 MiB, t = 2, p = 1), which ASVS 5.0 Appendix C accepts.
//! A stored hash made with weaker parameters (or another algorithm) verifies as before and is replaced on
//! the next successful sign-in. Nothing is truncated: all 128 characters count.

use argon2::{
    Algorithm, Argon2, Params, Version,
    password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString, rand_core::OsRng},
};
use secrecy::{ExposeSecret, SecretString};
use std::{collections::HashSet, sync::LazyLock};

pub const MIN_CHARS: usize = 8;
pub const MAX_CHARS: usize = 128;
/// zxcvbn's estimate below which a password counts as common or easily guessed.
const MIN_GUESSES: u64 = 1_000_000;

const M_COST_KIB: u32 = 19_456;
const T_COST: u32 = 2;
const P_COST: u32 = 1;

fn hasher() -> Argon2<'static> {
    let params = Params::new(M_COST_KIB, T_COST, P_COST, None).expect("valid argon2 parameters");
    Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
}

/// The 10,000 most common passwords (Mark Burnett's list as published in SecLists, MIT licence; see
/// `domain/data/NOTICE.md`), refused whatever zxcvbn estimates for them, in any letter case.
static COMMON: LazyLock<HashSet<&'static str>> =
    LazyLock::new(|| include_str!("../../data/common-passwords.txt").lines().collect());

/// Whether `password` is on the shipped list of common passwords (compared in lower case).
pub fn is_listed_common(password: &str) -> bool {
    COMMON.contains(password.to_lowercase().as_str())
}

/// Why a new password is refused; the text is meant for the person choosing it.
#[derive(Debug, PartialEq, Eq, thiserror::Error)]
pub enum PasswordError {
    #[error("Use at least 8 characters.")]
    TooShort,
    #[error("Use at most 128 characters.")]
    TooLong,
    #[error("This password is too common or too easy to guess. A few unrelated words make a strong one.")]
    TooCommon,
}

/// Checks a new password. `context` holds what an attacker would try first: the email, the name.
pub fn check_policy(password: &str, context: &[&str]) -> Result<(), PasswordError> {
    let chars = password.chars().count();
    if chars < MIN_CHARS {
        return Err(PasswordError::TooShort);
    }
    if chars > MAX_CHARS {
        return Err(PasswordError::TooLong);
    }
    if is_listed_common(password) || zxcvbn::zxcvbn(password, context).guesses() < MIN_GUESSES {
        return Err(PasswordError::TooCommon);
    }
    Ok(())
}

/// Hashes a password into a PHC string (`$argon2id$v=19$m=19456,t=2,p=1$salt$hash`) with a fresh 16-byte salt.
/// Slow on purpose (tens of ms): call it from a blocking task.
pub fn hash(password: &SecretString) -> String {
    let salt = SaltString::generate(&mut OsRng);
    hasher()
        .hash_password(password.expose_secret().as_bytes(), &salt)
        .expect("argon2 hashing of an in-memory password does not fail")
        .to_string()
}

#[derive(Debug, PartialEq, Eq)]
pub enum Verification {
    /// The password is right. `rehash` holds a new hash when the stored one is weaker than today's.
    Valid {
        rehash: Option<String>,
    },
    Invalid,
}

pub fn verify(password: &SecretString, stored: &str) -> Verification {
    let Ok(parsed) = PasswordHash::new(stored) else {
        return Verification::Invalid;
    };
    // Verify with the parameters the hash was made with (they are in the PHC string).
    if Argon2::default()
        .verify_password(password.expose_secret().as_bytes(), &parsed)
        .is_err()
    {
        return Verification::Invalid;
    }
    let current = parsed.algorithm.as_str() == Algorithm::Argon2id.ident().as_str()
        && Params::try_from(&parsed)
            .is_ok_and(|p| p.m_cost() >= M_COST_KIB && p.t_cost() >= T_COST && p.p_cost() >= P_COST);
    Verification::Valid {
        rehash: (!current).then(|| hash(password)),
    }
}

/// A hash of nothing anyone knows, to verify against when the account does not exist: the answer then
/// takes as long as for a wrong password, so timing does not tell which emails have accounts.
static DUMMY: LazyLock<String> = LazyLock::new(|| {
    hash(&SecretString::from(hex::encode(
        crate::crypto::random_bytes::<16>().as_ref(),
    )))
});

pub fn verify_dummy(password: &SecretString) {
    let _ = verify(password, &DUMMY);
}

#[cfg(test)]
mod tests {
    use super::*;

    fn secret(s: &str) -> SecretString {
        SecretString::from(s.to_owned())
    }

    fn params(phc: &str) -> (String, u32, u32, u32, usize) {
        let parsed = PasswordHash::new(phc).unwrap();
        let p = Params::try_from(&parsed).unwrap();
        let salt_len = parsed.salt.unwrap().as_str().len();
        (
            parsed.algorithm.to_string(),
            p.m_cost(),
            p.t_cost(),
            p.p_cost(),
            salt_len,
        )
    }

    #[test]
    fn hashes_are_argon2id_with_owasp_parameters_and_a_unique_salt() {
        let a = hash(&secret("correct horse battery staple"));
        let b = hash(&secret("correct horse battery staple"));
        assert!(a.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"), "{a}");
        let (algorithm, m, t, p, salt_b64) = params(&a);
        assert_eq!((algorithm.as_str(), m, t, p), ("argon2id", 19_456, 2, 1));
        assert!(salt_b64 >= 22, "at least 16 bytes of salt (22 base64 characters)");
        assert_ne!(a, b, "two users with one password get different salts and hashes");
        assert_ne!(a.rsplit('$').next(), b.rsplit('$').next());
    }

    #[test]
    fn a_weaker_stored_hash_verifies_and_is_upgraded() {
        let weak = Argon2::new(
            Algorithm::Argon2id,
            Version::V0x13,
            Params::new(4096, 1, 1, None).unwrap(),
        )
        .hash_password(b"an old password of mine", &SaltString::generate(&mut OsRng))
        .unwrap()
        .to_string();
        let Verification::Valid { rehash: Some(new) } = verify(&secret("an old password of mine"), &weak) else {
            panic!("the weak hash verifies and asks for a rehash");
        };
        let (_, m, t, p, _) = params(&new);
        assert!(m >= 19_456 && t >= 2 && p == 1);
        assert_eq!(
            verify(&secret("an old password of mine"), &new),
            Verification::Valid { rehash: None }
        );
        assert_eq!(verify(&secret("not it"), &weak), Verification::Invalid);
    }

    #[test]
    fn nothing_is_truncated() {
        let long: String = "ünïcødé pass phrase with spaces ".repeat(4).chars().take(64).collect();
        let stored = hash(&secret(&long));
        let shorter: String = long.chars().take(63).collect();
        assert_eq!(verify(&secret(&shorter), &stored), Verification::Invalid);
        assert!(matches!(verify(&secret(&long), &stored), Verification::Valid { .. }));
    }

    #[test]
    fn the_policy_wants_8_to_128_characters_and_nothing_common() {
        assert_eq!(check_policy("Zq7#kd!", &[]), Err(PasswordError::TooShort));
        let sixty_four: String = "Ein Zug fährt über die Brücke, 雪が降る 🚂 und niemand weiß wohin "
            .chars()
            .cycle()
            .take(64)
            .collect();
        let one_twenty_eight: String = sixty_four.chars().cycle().take(128).collect();
        assert_eq!(check_policy(&sixty_four, &[]), Ok(()));
        assert_eq!(check_policy(&one_twenty_eight, &[]), Ok(()));
        let too_long: String = sixty_four.chars().cycle().take(129).collect();
        assert_eq!(check_policy(&too_long, &[]), Err(PasswordError::TooLong));
        for common in [
            "password123",
            "password",
            "12345678",
            "qwertyuiop",
            "iloveyou",
            "sunshine",
            "princess1",
            "trustno1",
            "baseball",
            "football1",
            "1q2w3e4r5t",
            "abc12345",
            "letmein123",
            "aaaaaaaaaaaa",
        ] {
            assert_eq!(check_policy(common, &[]), Err(PasswordError::TooCommon), "{common}");
        }
        assert_eq!(
            check_policy("ada@example.com", &["ada@example.com"]),
            Err(PasswordError::TooCommon)
        );
    }

    #[test]
    fn every_password_on_the_shipped_list_of_10000_is_refused() {
        let list = include_str!("../../data/common-passwords.txt");
        let entries: Vec<&str> = list.lines().collect();
        assert!(entries.len() >= 10_000, "the list holds {} passwords", entries.len());
        let (mut too_short, mut too_common, mut zxcvbn_alone_passes) = (0, 0, 0);
        for entry in &entries {
            assert!(!entry.is_empty() && entry.trim() == *entry, "a clean entry: {entry:?}");
            match check_policy(entry, &[]) {
                Err(PasswordError::TooShort) => too_short += 1,
                Err(PasswordError::TooCommon) => too_common += 1,
                other => panic!("{entry:?} from the common list is not refused: {other:?}"),
            }
            let upper = entry.to_uppercase();
            if upper.chars().count() >= MIN_CHARS {
                assert_eq!(check_policy(&upper, &[]), Err(PasswordError::TooCommon), "{upper}");
                if zxcvbn::zxcvbn(entry, &[]).guesses() >= MIN_GUESSES {
                    zxcvbn_alone_passes += 1;
                }
            }
        }
        println!(
            "{} common passwords: {too_short} too short, {too_common} too common \
             ({zxcvbn_alone_passes} of them only because they are on the list)",
            entries.len()
        );
        assert_eq!(too_short + too_common, entries.len());
    }
}
