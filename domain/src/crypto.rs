//! Encryption of secrets at rest: tenant database credentials, SQLite file keys, later webhook secrets.
//!
//! XChaCha20-Poly1305 (RustCrypto) with a random 192-bit nonce per message, so sealing the same plaintext
//! twice gives different ciphertexts and nonces never need coordinating. Every sealed value names the key
//! that sealed it (`v1.<key id>.<base64url(nonce || ciphertext)>`), so after a rotation old values still
//! open with the retired key until `rotate-key` has re-sealed them. Each value is bound to its place by
//! associated data (e.g. `workspace:7:db-key`): a ciphertext copied into another row does not open.

use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
use chacha20poly1305::{
    XChaCha20Poly1305, XNonce,
    aead::{Aead, AeadCore, KeyInit, OsRng, Payload, rand_core::RngCore},
};
use hkdf::Hkdf;
use secrecy::{ExposeSecret, SecretString};
use sha2::{Digest, Sha256};
use std::{fmt, path::Path};
use zeroize::Zeroizing;

const NONCE_LEN: usize = 24;

/// A 256-bit master key.
#[derive(Clone)]
pub struct MasterKey {
    key: Zeroizing<[u8; 32]>,
    id: String,
}

impl fmt::Debug for MasterKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MasterKey")
            .field("id", &self.id)
            .finish_non_exhaustive()
    }
}

#[derive(Debug, thiserror::Error)]
pub enum CryptoError {
    #[error("a master key must be 32 bytes, base64-encoded")]
    BadKey,
    #[error("the value is not a sealed secret of a known format")]
    Malformed,
    #[error("the value was sealed with key {0}, which is not configured")]
    UnknownKey(String),
    #[error("the value does not decrypt: it was altered, or belongs elsewhere")]
    Tampered,
    #[error("cannot read or write the key file {path}: {source}")]
    KeyFile {
        path: std::path::PathBuf,
        source: std::io::Error,
    },
}

impl MasterKey {
    pub fn generate() -> MasterKey {
        let mut key = Zeroizing::new([0u8; 32]);
        OsRng.fill_bytes(key.as_mut());
        MasterKey::from_bytes(key)
    }

    fn from_bytes(key: Zeroizing<[u8; 32]>) -> MasterKey {
        // The id names the key without revealing it: the first 8 bytes of its SHA-256, in hex.
        let digest = Sha256::digest(key.as_ref());
        MasterKey {
            id: hex::encode(&digest[..8]),
            key,
        }
    }

    /// Parses the base64 form used in settings and key files.
    pub fn parse(encoded: &str) -> Result<MasterKey, CryptoError> {
        let decoded = Zeroizing::new(
            base64::engine::general_purpose::STANDARD
                .decode(encoded.trim())
                .or_else(|_| URL_SAFE_NO_PAD.decode(encoded.trim()))
                .map_err(|_| CryptoError::BadKey)?,
        );
        let bytes: [u8; 32] = decoded.as_slice().try_into().map_err(|_| CryptoError::BadKey)?;
        Ok(MasterKey::from_bytes(Zeroizing::new(bytes)))
    }

    pub fn encode(&self) -> SecretString {
        base64::engine::general_purpose::STANDARD
            .encode(self.key.as_ref())
            .into()
    }

    pub fn id(&self) -> &str {
        &self.id
    }

    /// A key for one purpose, derived with HKDF-SHA256, so one master key never encrypts two kinds of thing.
    pub fn derive(&self, purpose: &str) -> Zeroizing<[u8; 32]> {
        let mut out = Zeroizing::new([0u8; 32]);
        Hkdf::<Sha256>::new(None, self.key.as_ref())
            .expand(purpose.as_bytes(), out.as_mut())
            .expect("32 bytes is a valid HKDF-SHA256 output length");
        out
    }

    /// Reads the key file, or creates it (mode 0600) with a new key. For the embedded default only;
    /// production configures `master_key`.
    pub fn load_or_create(path: &Path) -> Result<MasterKey, CryptoError> {
        let io = |source| CryptoError::KeyFile {
            path: path.to_owned(),
            source,
        };
        match std::fs::read_to_string(path) {
            Ok(text) => MasterKey::parse(&text),
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => {
                let key = MasterKey::generate();
                write_private(path, key.encode().expose_secret().as_bytes()).map_err(io)?;
                Ok(key)
            }
            Err(error) => Err(io(error)),
        }
    }
}

/// Writes a file only its owner can read, creating it exclusively so an existing key is never overwritten.
pub fn write_private(path: &Path, contents: &[u8]) -> std::io::Result<()> {
    use std::io::Write;
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let mut file = options.open(path)?;
    file.write_all(contents)?;
    file.sync_all()
}

/// Creates a directory (and its parents) that only its owner may enter, for keys and databases. Existing
/// directories keep the permissions an operator gave them.
pub fn create_private_dir(path: &Path) -> std::io::Result<()> {
    let mut builder = std::fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::DirBuilderExt;
        builder.mode(0o700);
    }
    builder.create(path)
}

/// The current master key, which seals, and retired ones, which only open.
#[derive(Clone, Debug)]
pub struct KeyRing {
    current: MasterKey,
    retired: Vec<MasterKey>,
}

impl KeyRing {
    pub fn new(current: MasterKey, retired: Vec<MasterKey>) -> KeyRing {
        KeyRing { current, retired }
    }

    pub fn current(&self) -> &MasterKey {
        &self.current
    }

    pub fn seal(&self, plaintext: &[u8], context: &str) -> String {
        let cipher = XChaCha20Poly1305::new(self.current.key.as_ref().into());
        let nonce = XChaCha20Poly1305::generate_nonce(&mut OsRng);
        let ciphertext = cipher
            .encrypt(
                &nonce,
                Payload {
                    msg: plaintext,
                    aad: context.as_bytes(),
                },
            )
            .expect("XChaCha20-Poly1305 encryption does not fail for in-memory buffers");
        let mut blob = Vec::with_capacity(NONCE_LEN + ciphertext.len());
        blob.extend_from_slice(&nonce);
        blob.extend_from_slice(&ciphertext);
        format!("v1.{}.{}", self.current.id, URL_SAFE_NO_PAD.encode(blob))
    }

    pub fn open(&self, sealed: &str, context: &str) -> Result<Zeroizing<Vec<u8>>, CryptoError> {
        let mut parts = sealed.splitn(3, '.');
        let (Some("v1"), Some(key_id), Some(body)) = (parts.next(), parts.next(), parts.next()) else {
            return Err(CryptoError::Malformed);
        };
        let key = std::iter::once(&self.current)
            .chain(&self.retired)
            .find(|key| key.id == key_id)
            .ok_or_else(|| CryptoError::UnknownKey(key_id.to_owned()))?;
        let blob = URL_SAFE_NO_PAD.decode(body).map_err(|_| CryptoError::Malformed)?;
        if blob.len() < NONCE_LEN {
            return Err(CryptoError::Malformed);
        }
        let (nonce, ciphertext) = blob.split_at(NONCE_LEN);
        XChaCha20Poly1305::new(key.key.as_ref().into())
            .decrypt(
                XNonce::from_slice(nonce),
                Payload {
                    msg: ciphertext,
                    aad: context.as_bytes(),
                },
            )
            .map(Zeroizing::new)
            .map_err(|_| CryptoError::Tampered)
    }

    /// Whether a sealed value was sealed with the current key (rotation skips those).
    pub fn is_current(&self, sealed: &str) -> bool {
        sealed.split('.').nth(1) == Some(self.current.id.as_str())
    }
}

/// A short keyed hash (16 hex digits of HMAC-SHA256 under a key derived from the master key for
/// `purpose`): for logs and limit keys that must tell inputs apart without holding them.
pub fn keyed_hash(keys: &KeyRing, purpose: &str, input: &str) -> String {
    use hmac::{Hmac, Mac};
    let key = keys.current().derive(purpose);
    let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(key.as_ref()).expect("HMAC takes any key length");
    mac.update(input.as_bytes());
    hex::encode(&mac.finalize().into_bytes()[..8])
}

/// `n` random bytes from the operating system's CSPRNG.
pub fn random_bytes<const N: usize>() -> Zeroizing<[u8; N]> {
    let mut bytes = Zeroizing::new([0u8; N]);
    OsRng.fill_bytes(bytes.as_mut());
    bytes
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ring() -> KeyRing {
        KeyRing::new(MasterKey::generate(), vec![])
    }

    #[test]
    fn the_same_plaintext_sealed_twice_gives_different_ciphertexts() {
        let ring = ring();
        let a = ring.seal(b"postgres://secret", "ctx");
        let b = ring.seal(b"postgres://secret", "ctx");
        assert_ne!(a, b);
        assert_eq!(ring.open(&a, "ctx").unwrap().as_slice(), b"postgres://secret");
        assert_eq!(ring.open(&b, "ctx").unwrap().as_slice(), b"postgres://secret");
        assert!(!a.contains("secret"));
    }

    #[test]
    fn a_flipped_bit_anywhere_fails_to_open() {
        let ring = ring();
        let sealed = ring.seal(b"credential", "ctx");
        let (prefix, body) = sealed.rsplit_once('.').unwrap();
        let mut blob = URL_SAFE_NO_PAD.decode(body).unwrap();
        for i in 0..blob.len() {
            blob[i] ^= 0x01;
            let tampered = format!("{prefix}.{}", URL_SAFE_NO_PAD.encode(&blob));
            assert!(
                matches!(ring.open(&tampered, "ctx"), Err(CryptoError::Tampered)),
                "byte {i}"
            );
            blob[i] ^= 0x01;
        }
    }

    #[test]
    fn a_value_does_not_open_in_another_context() {
        let ring = ring();
        let sealed = ring.seal(b"key of workspace 1", "workspace:1:db-key");
        assert!(matches!(
            ring.open(&sealed, "workspace:2:db-key"),
            Err(CryptoError::Tampered)
        ));
    }

    #[test]
    fn retired_keys_still_open_and_unknown_keys_are_named() {
        let old = KeyRing::new(MasterKey::generate(), vec![]);
        let sealed = old.seal(b"x", "ctx");
        let rotated = KeyRing::new(MasterKey::generate(), vec![old.current().clone()]);
        assert_eq!(rotated.open(&sealed, "ctx").unwrap().as_slice(), b"x");
        assert!(!rotated.is_current(&sealed));
        let stranger = KeyRing::new(MasterKey::generate(), vec![]);
        assert!(matches!(stranger.open(&sealed, "ctx"), Err(CryptoError::UnknownKey(id)) if id == old.current().id()));
    }

    #[test]
    fn keys_round_trip_through_their_text_form_and_bad_ones_are_refused() {
        let key = MasterKey::generate();
        let parsed = MasterKey::parse(key.encode().expose_secret()).unwrap();
        assert_eq!(parsed.id(), key.id());
        assert!(matches!(MasterKey::parse("c2hvcnQ="), Err(CryptoError::BadKey)));
        assert!(matches!(
            MasterKey::parse("not base64 at all!"),
            Err(CryptoError::BadKey)
        ));
    }

    #[test]
    fn derived_keys_differ_by_purpose() {
        let key = MasterKey::generate();
        assert_ne!(*key.derive("a"), *key.derive("b"));
        assert_eq!(*key.derive("a"), *key.derive("a"));
    }

    #[cfg(unix)]
    #[test]
    fn new_data_directories_are_private_to_their_owner() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let nested = dir.path().join("data").join("workspaces");
        create_private_dir(&nested).unwrap();
        for path in [dir.path().join("data"), nested] {
            assert_eq!(
                std::fs::metadata(&path).unwrap().permissions().mode() & 0o777,
                0o700,
                "{path:?}"
            );
        }
    }

    #[cfg(unix)]
    #[test]
    fn a_generated_key_file_is_private_to_its_owner_and_reused() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("master.key");
        let first = MasterKey::load_or_create(&path).unwrap();
        let mode = std::fs::metadata(&path).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600);
        let second = MasterKey::load_or_create(&path).unwrap();
        assert_eq!(first.id(), second.id());
    }
}
