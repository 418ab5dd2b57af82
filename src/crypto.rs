//! Data at rest: AES-256-GCM under the key of `storage.encryption_key` (32 bytes, base64).
//! Short secrets (TOTP seeds) are sealed whole; attachments are sealed chunk by chunk with the
//! STREAM construction (a 7-byte random nonce prefix, a counter and a last-chunk flag), so a
//! file is never held whole in memory to be written and a truncated or reordered file fails.

use aes_gcm::aead::stream::{DecryptorBE32, EncryptorBE32};
use aes_gcm::aead::{Aead, KeyInit, OsRng, rand_core::RngCore};
use aes_gcm::{Aes256Gcm, Key, Nonce};
use anyhow::{Context, bail};
use base64::Engine;
use base64::engine::general_purpose::STANDARD;

/// Plaintext bytes per sealed chunk of a file.
const CHUNK: usize = 64 * 1024;
const TAG: usize = 16;
const FILE_MAGIC: &[u8; 8] = b"CNSLAES1";
const STREAM_NONCE: usize = 7;
const TEXT_PREFIX: &str = "aes1:";

#[derive(Clone)]
pub struct DataKey {
    cipher: Aes256Gcm,
}

impl std::fmt::Debug for DataKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("DataKey(..)")
    }
}

impl DataKey {
    /// The key from its base64 form (32 bytes).
    pub fn from_base64(encoded: &str) -> anyhow::Result<DataKey> {
        let bytes = STANDARD
            .decode(encoded.trim())
            .context("storage.encryption_key is not base64")?;
        let bytes: [u8; 32] = bytes.try_into().map_err(|_| {
            anyhow::anyhow!("storage.encryption_key must be 32 bytes (base64 of 32 random bytes)")
        })?;
        Ok(DataKey {
            cipher: Aes256Gcm::new(&Key::<Aes256Gcm>::from(bytes)),
        })
    }

    /// A new random key, base64.
    pub fn generate_base64() -> String {
        let mut bytes = [0u8; 32];
        OsRng.fill_bytes(&mut bytes);
        STANDARD.encode(bytes)
    }

    /// Seals a short secret: `aes1:` + base64(nonce ‖ ciphertext).
    pub fn seal_text(&self, plaintext: &str) -> String {
        let mut nonce = [0u8; 12];
        OsRng.fill_bytes(&mut nonce);
        let sealed = self
            .cipher
            .encrypt(&Nonce::from(nonce), plaintext.as_bytes())
            .expect("AES-GCM encryption of a short text cannot fail");
        let mut out = nonce.to_vec();
        out.extend_from_slice(&sealed);
        format!("{TEXT_PREFIX}{}", STANDARD.encode(out))
    }

    pub fn open_text(&self, sealed: &str) -> anyhow::Result<String> {
        let encoded = sealed
            .strip_prefix(TEXT_PREFIX)
            .context("not a sealed value")?;
        let bytes = STANDARD
            .decode(encoded)
            .context("sealed value not base64")?;
        if bytes.len() < 12 + TAG {
            bail!("sealed value too short");
        }
        let (nonce, ciphertext) = bytes.split_at(12);
        let nonce: [u8; 12] = nonce.try_into()?;
        let plain = self
            .cipher
            .decrypt(&Nonce::from(nonce), ciphertext)
            .map_err(|_| anyhow::anyhow!("sealed value does not open with this key"))?;
        Ok(String::from_utf8(plain)?)
    }

    /// A sealer for one file: feed it the plaintext, write what it answers.
    pub fn file_sealer(&self) -> FileSealer {
        let mut nonce = [0u8; STREAM_NONCE];
        OsRng.fill_bytes(&mut nonce);
        let mut header = FILE_MAGIC.to_vec();
        header.extend_from_slice(&nonce);
        FileSealer {
            encryptor: EncryptorBE32::from_aead(self.cipher.clone(), nonce.as_slice().into()),
            pending: Vec::with_capacity(CHUNK),
            header: Some(header),
        }
    }

    /// The plaintext of a sealed file; fails on a wrong key, a changed, truncated or
    /// reordered file.
    pub fn open_file(&self, sealed: &[u8]) -> anyhow::Result<Vec<u8>> {
        let body = sealed
            .strip_prefix(FILE_MAGIC.as_slice())
            .context("not a sealed file")?;
        if body.len() < STREAM_NONCE + TAG {
            bail!("sealed file truncated");
        }
        let (nonce, mut rest) = body.split_at(STREAM_NONCE);
        let mut decryptor = DecryptorBE32::from_aead(self.cipher.clone(), nonce.into());
        let mut plain = Vec::with_capacity(rest.len());
        let fail = |_| anyhow::anyhow!("sealed file does not open with this key (or was altered)");
        while rest.len() > CHUNK + TAG {
            let (chunk, tail) = rest.split_at(CHUNK + TAG);
            plain.extend(decryptor.decrypt_next(chunk).map_err(fail)?);
            rest = tail;
        }
        plain.extend(decryptor.decrypt_last(rest).map_err(fail)?);
        Ok(plain)
    }
}

pub struct FileSealer {
    encryptor: EncryptorBE32<Aes256Gcm>,
    pending: Vec<u8>,
    header: Option<Vec<u8>>,
}

impl FileSealer {
    /// Takes more plaintext; answers the sealed bytes ready to be written.
    pub fn update(&mut self, mut data: &[u8]) -> Vec<u8> {
        let mut out = self.header.take().unwrap_or_default();
        while !data.is_empty() {
            // A full chunk is sealed only once more data follows: the last one is flagged.
            if self.pending.len() == CHUNK {
                let sealed = self
                    .encryptor
                    .encrypt_next(self.pending.as_slice())
                    .expect("AES-GCM STREAM chunk");
                out.extend(sealed);
                self.pending.clear();
            }
            let take = (CHUNK - self.pending.len()).min(data.len());
            self.pending.extend_from_slice(&data[..take]);
            data = &data[take..];
        }
        out
    }

    /// Seals the last chunk; answers the final bytes to write.
    pub fn finish(mut self) -> Vec<u8> {
        let mut out = self.header.take().unwrap_or_default();
        out.extend(
            self.encryptor
                .encrypt_last(self.pending.as_slice())
                .expect("AES-GCM STREAM last chunk"),
        );
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key() -> DataKey {
        DataKey::from_base64(&DataKey::generate_base64()).unwrap()
    }

    fn seal(key: &DataKey, data: &[u8], pieces: usize) -> Vec<u8> {
        let mut sealer = key.file_sealer();
        let mut out = Vec::new();
        for piece in data.chunks(pieces.max(1)) {
            out.extend(sealer.update(piece));
        }
        out.extend(sealer.finish());
        out
    }

    #[test]
    fn files_round_trip_at_every_chunk_boundary() {
        let key = key();
        for len in [0, 1, CHUNK - 1, CHUNK, CHUNK + 1, 2 * CHUNK, 3 * CHUNK + 17] {
            let data: Vec<u8> = (0..len).map(|i| (i % 251) as u8).collect();
            for pieces in [1000, CHUNK, 7 * CHUNK] {
                let sealed = seal(&key, &data, pieces);
                assert!(!sealed.windows(16).any(|w| len >= 16 && w == &data[..16]));
                assert_eq!(key.open_file(&sealed).unwrap(), data, "len {len}");
            }
        }
    }

    #[test]
    fn altered_truncated_or_foreign_files_do_not_open() {
        let key = key();
        let data = vec![7u8; 2 * CHUNK + 5];
        let sealed = seal(&key, &data, 4096);
        let mut flipped = sealed.clone();
        let middle = flipped.len() / 2;
        flipped[middle] ^= 1;
        assert!(key.open_file(&flipped).is_err());
        // Dropping the last chunk leaves a "next" chunk where the last one was expected.
        assert!(key.open_file(&sealed[..sealed.len() - 21]).is_err());
        assert!(
            key.open_file(&sealed[..FILE_MAGIC.len() + STREAM_NONCE + CHUNK + TAG])
                .is_err()
        );
        assert!(
            DataKey::from_base64(&DataKey::generate_base64())
                .unwrap()
                .open_file(&sealed)
                .is_err()
        );
        assert!(key.open_file(b"%PDF-1.7 plain").is_err());
    }

    #[test]
    fn texts_round_trip_and_never_show_the_secret() {
        let key = key();
        let sealed = key.seal_text("JBSWY3DPEHPK3PXP");
        assert!(!sealed.contains("JBSWY3DPEHPK3PXP"));
        assert_ne!(sealed, key.seal_text("JBSWY3DPEHPK3PXP"));
        assert_eq!(key.open_text(&sealed).unwrap(), "JBSWY3DPEHPK3PXP");
        assert!(self::key().open_text(&sealed).is_err());
        assert!(DataKey::from_base64("c2hvcnQ=").is_err());
    }
}
