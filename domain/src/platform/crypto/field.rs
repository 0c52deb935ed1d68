//! Sealed personal fields: `format (1 byte) ‖ data-key version (4 bytes, big-endian) ‖ nonce
//! (12 bytes) ‖ AES-256-GCM-SIV ciphertext and tag`. The associated data binds the ciphertext
//! to its workplace, table, column and row, so a value copied anywhere else fails to open.

use std::fmt;

use aes_gcm_siv::{
    aead::{Aead, KeyInit, Payload},
    Aes256GcmSiv, Nonce,
};
use rand::RngCore;
use zeroize::Zeroizing;

use super::master_key::KEY_BYTES;

const FORMAT_V1: u8 = 1;
const NONCE_BYTES: usize = 12;
const HEADER_BYTES: usize = 1 + 4 + NONCE_BYTES;
/// The tag GCM-SIV appends.
const TAG_BYTES: usize = 16;

/// Where a sealed value lives; part of what it is bound to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FieldPlace<'a> {
    pub workplace: uuid::Uuid,
    pub table: &'a str,
    pub column: &'a str,
    pub row: uuid::Uuid,
}

impl FieldPlace<'_> {
    fn associated_data(&self) -> Vec<u8> {
        let mut aad = b"candor/field/v1\0".to_vec();
        aad.extend_from_slice(self.workplace.as_bytes());
        aad.extend_from_slice(self.row.as_bytes());
        aad.extend_from_slice(self.table.as_bytes());
        aad.push(0);
        aad.extend_from_slice(self.column.as_bytes());
        aad
    }
}

/// A workplace's data key of one version.
pub struct DataKey {
    pub(crate) version: u32,
    key: Zeroizing<[u8; KEY_BYTES]>,
}

impl fmt::Debug for DataKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DataKey")
            .field("version", &self.version)
            .finish_non_exhaustive()
    }
}

impl DataKey {
    pub(crate) fn generate(version: u32) -> Self {
        let mut key = Zeroizing::new([0u8; KEY_BYTES]);
        rand::rng().fill_bytes(key.as_mut());
        Self { version, key }
    }

    pub(crate) fn from_bytes(version: u32, bytes: &[u8]) -> Option<Self> {
        let key: [u8; KEY_BYTES] = bytes.try_into().ok()?;
        Some(Self {
            version,
            key: Zeroizing::new(key),
        })
    }

    pub(crate) fn bytes(&self) -> &[u8] {
        &*self.key
    }

    /// Seals `plaintext` for `place`.
    pub fn seal(&self, place: FieldPlace<'_>, plaintext: &[u8]) -> Vec<u8> {
        let mut nonce = [0u8; NONCE_BYTES];
        rand::rng().fill_bytes(&mut nonce);
        let sealed = Aes256GcmSiv::new((&*self.key).into())
            .encrypt(
                &Nonce::from(nonce),
                Payload {
                    msg: plaintext,
                    aad: &place.associated_data(),
                },
            )
            // Encryption fails only beyond 2^36 bytes; fields are bounded far below that.
            .unwrap_or_else(|_| unreachable!());
        let mut out = Vec::with_capacity(HEADER_BYTES + sealed.len());
        out.push(FORMAT_V1);
        out.extend_from_slice(&self.version.to_be_bytes());
        out.extend_from_slice(&nonce);
        out.extend(sealed);
        out
    }

    /// Opens a value this key sealed for `place`.
    pub fn open(&self, place: FieldPlace<'_>, sealed: &[u8]) -> Result<Vec<u8>, OpenError> {
        let version = key_version(sealed)?;
        if version != self.version {
            return Err(OpenError::MissingKeyVersion(version));
        }
        let mut nonce = [0u8; NONCE_BYTES];
        nonce.copy_from_slice(&sealed[5..HEADER_BYTES]);
        Aes256GcmSiv::new((&*self.key).into())
            .decrypt(
                &Nonce::from(nonce),
                Payload {
                    msg: &sealed[HEADER_BYTES..],
                    aad: &place.associated_data(),
                },
            )
            .map_err(|_| OpenError::Tampered)
    }
}

/// Why a sealed value did not open. None of these is ever shown as data.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum OpenError {
    #[error("the sealed value is too short to be one")]
    Truncated,
    #[error("the sealed value has an unknown format {0}")]
    UnknownFormat(u8),
    #[error("the sealed value needs data-key version {0}, which this workplace does not have")]
    MissingKeyVersion(u32),
    #[error("the sealed value does not match its key or its place (tampered, corrupted or moved)")]
    Tampered,
}

/// The data-key version a sealed value was written with.
pub fn key_version(sealed: &[u8]) -> Result<u32, OpenError> {
    if sealed.len() < HEADER_BYTES + TAG_BYTES {
        return Err(OpenError::Truncated);
    }
    if sealed[0] != FORMAT_V1 {
        return Err(OpenError::UnknownFormat(sealed[0]));
    }
    let mut version = [0u8; 4];
    version.copy_from_slice(&sealed[1..5]);
    Ok(u32::from_be_bytes(version))
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    fn place(row: u128) -> FieldPlace<'static> {
        FieldPlace {
            workplace: uuid::Uuid::from_u128(1),
            table: "users",
            column: "display_name",
            row: uuid::Uuid::from_u128(row),
        }
    }

    proptest! {
        #[test]
        fn sealed_values_open_to_what_was_sealed(plaintext in proptest::collection::vec(any::<u8>(), 0..4096), version in any::<u32>()) {
            let key = DataKey::generate(version);
            let sealed = key.seal(place(7), &plaintext);
            prop_assert_eq!(key_version(&sealed), Ok(version));
            prop_assert_eq!(key.open(place(7), &sealed), Ok(plaintext));
        }

        #[test]
        fn any_changed_byte_is_detected(plaintext in proptest::collection::vec(any::<u8>(), 0..256), at in any::<prop::sample::Index>(), flip in 1u8..=255) {
            let key = DataKey::generate(3);
            let mut sealed = key.seal(place(7), &plaintext);
            let at = at.index(sealed.len());
            sealed[at] ^= flip;
            prop_assert!(key.open(place(7), &sealed).is_err());
        }

        #[test]
        fn truncated_values_are_refused(plaintext in proptest::collection::vec(any::<u8>(), 0..256), cut in any::<prop::sample::Index>()) {
            let key = DataKey::generate(1);
            let sealed = key.seal(place(7), &plaintext);
            let cut = cut.index(sealed.len());
            prop_assert!(key.open(place(7), &sealed[..cut]).is_err());
        }
    }

    #[test]
    fn a_value_moved_to_another_row_column_table_or_workplace_does_not_open() {
        let key = DataKey::generate(1);
        let sealed = key.seal(place(7), b"Ada Lovelace");
        let moved = [
            place(8),
            FieldPlace {
                column: "email",
                ..place(7)
            },
            FieldPlace {
                table: "departments",
                ..place(7)
            },
            FieldPlace {
                workplace: uuid::Uuid::from_u128(2),
                ..place(7)
            },
        ];
        for elsewhere in moved {
            assert_eq!(
                key.open(elsewhere, &sealed),
                Err(OpenError::Tampered),
                "{elsewhere:?}"
            );
        }
        assert_eq!(
            DataKey::generate(1).open(place(7), &sealed),
            Err(OpenError::Tampered)
        );
        assert_eq!(
            DataKey::generate(2).open(place(7), &sealed),
            Err(OpenError::MissingKeyVersion(1))
        );
    }

    #[test]
    fn the_same_value_seals_differently_each_time() {
        let key = DataKey::generate(1);
        assert_ne!(key.seal(place(7), b"Ada"), key.seal(place(7), b"Ada"));
    }
}
