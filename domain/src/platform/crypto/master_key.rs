//! The key-encryption key (master key): 256 bits from configuration, never stored in the
//! database. It wraps each workplace's data keys and the instance's index key. Its id (derived
//! from the key, so it cannot drift) names which master key wrapped what; its check value lets
//! start-up refuse a wrong key before anything is written under it.

use std::fmt;

use aes_gcm_siv::{
    aead::{Aead, KeyInit, Payload},
    Aes256GcmSiv, Nonce,
};
use base64::{engine::general_purpose::STANDARD, Engine};
use hmac::{Hmac, Mac};
use rand::RngCore;
use sha2::Sha256;
use zeroize::Zeroizing;

use crate::platform::text::hex;

pub(crate) const KEY_BYTES: usize = 32;
const NONCE_BYTES: usize = 12;

/// Why a configured master key cannot be used. Each message says what to fix.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MasterKeyError {
    #[error("no master key is configured: set CANDOR_MASTER_KEY or CANDOR_MASTER_KEY_FILE")]
    Missing,
    #[error("the master key must be 32 bytes written as base64 (44 characters) or hex (64 characters)")]
    Malformed,
    #[error("the master key is {0} bytes long; it must be exactly 32 bytes (256 bits)")]
    WrongLength(usize),
}

/// A 256-bit key-encryption key. Debug output shows its id only.
pub struct MasterKey {
    key: Zeroizing<[u8; KEY_BYTES]>,
}

impl fmt::Debug for MasterKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MasterKey")
            .field("id", &self.id())
            .finish_non_exhaustive()
    }
}

fn keyed_hash(key: &[u8], label: &[u8]) -> [u8; 32] {
    // HMAC accepts keys of any length: this cannot fail.
    let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(key).unwrap_or_else(|_| unreachable!());
    mac.update(label);
    mac.finalize().into_bytes().into()
}

impl MasterKey {
    /// A fresh random key.
    pub fn generate() -> Self {
        let mut key = Zeroizing::new([0u8; KEY_BYTES]);
        rand::rng().fill_bytes(key.as_mut());
        Self { key }
    }

    /// Reads a key written as base64 (standard alphabet) or hex; surrounding whitespace is
    /// ignored, so a key file may end with a newline.
    pub fn from_text(text: &str) -> Result<Self, MasterKeyError> {
        let text = text.trim();
        if text.is_empty() {
            return Err(MasterKeyError::Missing);
        }
        let bytes = Zeroizing::new(
            if text.len() == 2 * KEY_BYTES && text.chars().all(|c| c.is_ascii_hexdigit()) {
                (0..text.len())
                    .step_by(2)
                    .map(|at| u8::from_str_radix(&text[at..at + 2], 16))
                    .collect::<Result<Vec<u8>, _>>()
                    .map_err(|_| MasterKeyError::Malformed)?
            } else {
                STANDARD.decode(text).map_err(|_| MasterKeyError::Malformed)?
            },
        );
        let key: [u8; KEY_BYTES] = bytes
            .as_slice()
            .try_into()
            .map_err(|_| MasterKeyError::WrongLength(bytes.len()))?;
        Ok(Self {
            key: Zeroizing::new(key),
        })
    }

    /// The key as base64, for writing a key file.
    pub fn to_text(&self) -> Zeroizing<String> {
        Zeroizing::new(STANDARD.encode(self.key.as_slice()))
    }

    /// A short public name for the key (16 hex digits), derived from it.
    pub fn id(&self) -> String {
        hex(&keyed_hash(&*self.key, b"candor/master-key/id")[..8])
    }

    /// A value that shows whether a presented key is the one recorded, revealing nothing of it.
    pub(crate) fn check_value(&self) -> Vec<u8> {
        keyed_hash(&*self.key, b"candor/master-key/check").to_vec()
    }

    /// Seals `secret` (a data key or index key) under this key; `context` names what it is and
    /// must be given again to unwrap it.
    pub(crate) fn wrap(&self, secret: &[u8], context: &[u8]) -> Vec<u8> {
        let cipher = Aes256GcmSiv::new((&*self.key).into());
        let mut nonce = [0u8; NONCE_BYTES];
        rand::rng().fill_bytes(&mut nonce);
        let sealed = cipher
            .encrypt(
                &Nonce::from(nonce),
                Payload {
                    msg: secret,
                    aad: context,
                },
            )
            // Encryption fails only for inputs beyond 2^36 bytes; keys are 32.
            .unwrap_or_else(|_| unreachable!());
        let mut wrapped = nonce.to_vec();
        wrapped.extend(sealed);
        wrapped
    }

    /// Opens what [`MasterKey::wrap`] sealed with the same context; `None` if the key, the
    /// context or the bytes differ.
    pub(crate) fn unwrap(&self, wrapped: &[u8], context: &[u8]) -> Option<Zeroizing<Vec<u8>>> {
        if wrapped.len() < NONCE_BYTES {
            return None;
        }
        let (nonce_bytes, sealed) = wrapped.split_at(NONCE_BYTES);
        let mut nonce = [0u8; NONCE_BYTES];
        nonce.copy_from_slice(nonce_bytes);
        Aes256GcmSiv::new((&*self.key).into())
            .decrypt(
                &Nonce::from(nonce),
                Payload {
                    msg: sealed,
                    aad: context,
                },
            )
            .ok()
            .map(Zeroizing::new)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_read_as_base64_or_hex_and_checked_for_length() {
        let key = MasterKey::generate();
        let again = MasterKey::from_text(&format!("{}\n", key.to_text().as_str())).unwrap();
        assert_eq!(again.id(), key.id());
        let hex_form = hex(key.key.as_ref());
        assert_eq!(MasterKey::from_text(&hex_form).unwrap().id(), key.id());
        assert_eq!(MasterKey::from_text("  ").unwrap_err(), MasterKeyError::Missing);
        assert_eq!(
            MasterKey::from_text("not a key!").unwrap_err(),
            MasterKeyError::Malformed
        );
        assert_eq!(
            MasterKey::from_text(&STANDARD.encode([7u8; 16])).unwrap_err(),
            MasterKeyError::WrongLength(16)
        );
    }

    #[test]
    fn debug_output_shows_the_id_not_the_key() {
        let key = MasterKey::generate();
        let shown = format!("{key:?}");
        assert!(shown.contains(&key.id()));
        assert!(!shown.contains(key.to_text().as_str()));
    }

    #[test]
    fn wrapped_secrets_open_only_with_the_same_key_and_context() {
        let key = MasterKey::generate();
        let wrapped = key.wrap(b"thirty-two bytes of data key....", b"workplace 1 v1");
        assert_eq!(
            key.unwrap(&wrapped, b"workplace 1 v1").unwrap().as_slice(),
            b"thirty-two bytes of data key...."
        );
        assert!(key.unwrap(&wrapped, b"workplace 2 v1").is_none());
        assert!(MasterKey::generate()
            .unwrap(&wrapped, b"workplace 1 v1")
            .is_none());
        assert!(key.unwrap(&wrapped[..5], b"workplace 1 v1").is_none());
        assert_ne!(key.check_value(), MasterKey::generate().check_value());
    }
}
