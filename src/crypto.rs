//! Data at rest: AES-256-GCM under the key of `storage.encryption_key` (32 bytes, base64).
//! Short secrets (TOTP seeds, e-mail links) are sealed whole; attachments are sealed chunk by
//! chunk with the STREAM construction (a 7-byte random nonce prefix, a counter and a last-chunk
//! flag), so a file is never held whole in memory to be written and a truncated or reordered
//! file fails.
//!
//! Every sealed item names the key that sealed it (a 4-byte key id, derived from the key), so
//! that a key can be rotated: [`DataKey`] is the ring of the current key, which seals, and the
//! previous ones (`storage.previous_encryption_keys`), which still open what they sealed until
//! `consilium keys rotate` has re-sealed it. Items sealed before key ids (`aes1:`,
//! `CNSLAES1`) are opened by trying each key of the ring.

use aes_gcm::aead::stream::{DecryptorBE32, EncryptorBE32};
use aes_gcm::aead::{Aead, KeyInit, OsRng, rand_core::RngCore};
use aes_gcm::{Aes256Gcm, Key, Nonce};
use anyhow::{Context, bail};
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use sha2::{Digest, Sha256};

/// Plaintext bytes per sealed chunk of a file.
const CHUNK: usize = 64 * 1024;
const TAG: usize = 16;
/// A sealed file: magic, key id, stream nonce, chunks.
const FILE_MAGIC: &[u8; 8] = b"CNSLAES2";
/// A file sealed before key ids: magic, stream nonce, chunks.
const LEGACY_FILE_MAGIC: &[u8; 8] = b"CNSLAES1";
const STREAM_NONCE: usize = 7;
const KEY_ID: usize = 4;
/// A sealed text: `aes2:<key id, hex>:<base64 of nonce and ciphertext>`.
const TEXT_PREFIX: &str = "aes2:";
const LEGACY_TEXT_PREFIX: &str = "aes1:";

/// The id of a key, as stored with what it sealed.
pub type KeyId = [u8; KEY_ID];

/// One AES-256-GCM key and its id.
#[derive(Clone)]
struct OneKey {
    id: KeyId,
    cipher: Aes256Gcm,
}

impl OneKey {
    fn from_base64(encoded: &str, setting: &str) -> anyhow::Result<OneKey> {
        let bytes = STANDARD
            .decode(encoded.trim())
            .with_context(|| format!("{setting} is not base64"))?;
        let bytes: [u8; 32] = bytes.try_into().map_err(|_| {
            anyhow::anyhow!("{setting} must be 32 bytes (base64 of 32 random bytes)")
        })?;
        let digest = Sha256::new()
            .chain_update(b"consilium data key id\0")
            .chain_update(bytes)
            .finalize();
        let mut id = [0u8; KEY_ID];
        id.copy_from_slice(&digest[..KEY_ID]);
        Ok(OneKey {
            id,
            cipher: Aes256Gcm::new(&Key::<Aes256Gcm>::from(bytes)),
        })
    }

    fn open_text(&self, bytes: &[u8]) -> Option<String> {
        if bytes.len() < 12 + TAG {
            return None;
        }
        let (nonce, ciphertext) = bytes.split_at(12);
        let nonce: [u8; 12] = nonce.try_into().ok()?;
        let plain = self.cipher.decrypt(&Nonce::from(nonce), ciphertext).ok()?;
        String::from_utf8(plain).ok()
    }

    fn open_stream(&self, body: &[u8]) -> anyhow::Result<Vec<u8>> {
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

/// The data keys: the current one seals, every one opens what it sealed.
#[derive(Clone)]
pub struct DataKey {
    current: OneKey,
    previous: Vec<OneKey>,
}

impl std::fmt::Debug for DataKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "DataKey({} + {} previous)",
            self.current_id(),
            self.previous.len()
        )
    }
}

/// Which key sealed an item.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SealedBy {
    /// The current key: nothing to rotate.
    Current,
    /// Another key of the ring (or, for an item without a key id, none known yet).
    Other,
    /// Not a sealed item.
    Unsealed,
}

impl DataKey {
    /// The key from its base64 form (32 bytes), with no previous key.
    pub fn from_base64(encoded: &str) -> anyhow::Result<DataKey> {
        DataKey::with_previous(encoded, &[])
    }

    /// The ring of the current key and the previous ones (each base64 of 32 bytes).
    pub fn with_previous(current: &str, previous: &[&str]) -> anyhow::Result<DataKey> {
        let current = OneKey::from_base64(current, "storage.encryption_key")?;
        let mut ring = DataKey {
            current,
            previous: Vec::new(),
        };
        for encoded in previous {
            let key = OneKey::from_base64(encoded, "storage.previous_encryption_keys")?;
            if key.id == ring.current.id {
                continue;
            }
            if ring.previous.iter().any(|k| k.id == key.id) {
                continue;
            }
            ring.previous.push(key);
        }
        Ok(ring)
    }

    /// A new random key, base64.
    pub fn generate_base64() -> String {
        let mut bytes = [0u8; 32];
        OsRng.fill_bytes(&mut bytes);
        STANDARD.encode(bytes)
    }

    /// The current key's id, in hex (as the rotation reports it).
    pub fn current_id(&self) -> String {
        hex::encode(self.current.id)
    }

    fn by_id(&self, id: &[u8]) -> Option<&OneKey> {
        std::iter::once(&self.current)
            .chain(&self.previous)
            .find(|key| key.id == id)
    }

    fn every_key(&self) -> impl Iterator<Item = &OneKey> {
        std::iter::once(&self.current).chain(&self.previous)
    }

    /// Seals a short secret: `aes2:<key id>:` + base64(nonce ‖ ciphertext).
    pub fn seal_text(&self, plaintext: &str) -> String {
        let mut nonce = [0u8; 12];
        OsRng.fill_bytes(&mut nonce);
        let sealed = self
            .current
            .cipher
            .encrypt(&Nonce::from(nonce), plaintext.as_bytes())
            .expect("AES-GCM encryption of a short text cannot fail");
        let mut out = nonce.to_vec();
        out.extend_from_slice(&sealed);
        format!(
            "{TEXT_PREFIX}{}:{}",
            hex::encode(self.current.id),
            STANDARD.encode(out)
        )
    }

    pub fn open_text(&self, sealed: &str) -> anyhow::Result<String> {
        if let Some(rest) = sealed.strip_prefix(TEXT_PREFIX) {
            let (id, encoded) = rest
                .split_once(':')
                .context("sealed value without key id")?;
            let id = hex::decode(id).context("sealed value's key id not hex")?;
            let key = self
                .by_id(&id)
                .context("sealed value's key is not in storage.encryption_key nor storage.previous_encryption_keys")?;
            let bytes = STANDARD
                .decode(encoded)
                .context("sealed value not base64")?;
            return key
                .open_text(&bytes)
                .context("sealed value does not open with its key (or was altered)");
        }
        let encoded = sealed
            .strip_prefix(LEGACY_TEXT_PREFIX)
            .context("not a sealed value")?;
        let bytes = STANDARD
            .decode(encoded)
            .context("sealed value not base64")?;
        self.every_key()
            .find_map(|key| key.open_text(&bytes))
            .context("sealed value does not open with any key of the ring")
    }

    /// Which key sealed a text.
    pub fn text_sealed_by(&self, sealed: &str) -> SealedBy {
        match sealed.strip_prefix(TEXT_PREFIX) {
            Some(rest) if rest.get(..2 * KEY_ID) == Some(hex::encode(self.current.id).as_str()) => {
                SealedBy::Current
            }
            Some(_) => SealedBy::Other,
            None if sealed.starts_with(LEGACY_TEXT_PREFIX) => SealedBy::Other,
            None => SealedBy::Unsealed,
        }
    }

    /// Which key sealed a file, from its first bytes.
    pub fn file_sealed_by(&self, head: &[u8]) -> SealedBy {
        match head.strip_prefix(FILE_MAGIC.as_slice()) {
            Some(rest) if rest.get(..KEY_ID) == Some(self.current.id.as_slice()) => {
                SealedBy::Current
            }
            Some(_) => SealedBy::Other,
            None if head.starts_with(LEGACY_FILE_MAGIC) => SealedBy::Other,
            None => SealedBy::Unsealed,
        }
    }

    /// A sealer for one file, under the current key: feed it the plaintext, write what it
    /// answers.
    pub fn file_sealer(&self) -> FileSealer {
        let mut nonce = [0u8; STREAM_NONCE];
        OsRng.fill_bytes(&mut nonce);
        let mut header = FILE_MAGIC.to_vec();
        header.extend_from_slice(&self.current.id);
        header.extend_from_slice(&nonce);
        FileSealer {
            encryptor: EncryptorBE32::from_aead(
                self.current.cipher.clone(),
                nonce.as_slice().into(),
            ),
            pending: Vec::with_capacity(CHUNK),
            header: Some(header),
        }
    }

    /// The plaintext of a sealed file; fails on an unknown key, a changed, truncated or
    /// reordered file.
    pub fn open_file(&self, sealed: &[u8]) -> anyhow::Result<Vec<u8>> {
        if let Some(rest) = sealed.strip_prefix(FILE_MAGIC.as_slice()) {
            if rest.len() < KEY_ID {
                bail!("sealed file truncated");
            }
            let (id, body) = rest.split_at(KEY_ID);
            let key = self.by_id(id).context(
                "sealed file's key is not in storage.encryption_key nor storage.previous_encryption_keys",
            )?;
            return key.open_stream(body);
        }
        let body = sealed
            .strip_prefix(LEGACY_FILE_MAGIC.as_slice())
            .context("not a sealed file")?;
        let mut last = None;
        for key in self.every_key() {
            match key.open_stream(body) {
                Ok(plain) => return Ok(plain),
                Err(error) => last = Some(error),
            }
        }
        Err(last.unwrap_or_else(|| anyhow::anyhow!("no key")))
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
            key.open_file(&sealed[..FILE_MAGIC.len() + KEY_ID + STREAM_NONCE + CHUNK + TAG])
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

    #[test]
    fn a_ring_opens_what_its_previous_keys_sealed_and_seals_with_the_current_one() {
        let old = DataKey::generate_base64();
        let new = DataKey::generate_base64();
        let before = DataKey::from_base64(&old).unwrap();
        let during = DataKey::with_previous(&new, &[&old]).unwrap();
        let after = DataKey::from_base64(&new).unwrap();

        let text = before.seal_text("JBSWY3DPEHPK3PXP");
        let data: Vec<u8> = (0..3 * CHUNK + 9).map(|i| (i % 253) as u8).collect();
        let file = seal(&before, &data, 5000);
        assert_eq!(before.text_sealed_by(&text), SealedBy::Current);
        assert_eq!(during.text_sealed_by(&text), SealedBy::Other);
        assert_eq!(during.file_sealed_by(&file[..32]), SealedBy::Other);
        assert_eq!(during.open_text(&text).unwrap(), "JBSWY3DPEHPK3PXP");
        assert_eq!(during.open_file(&file).unwrap(), data);
        // Without the old key, what it sealed is unreadable, and the error says which setting.
        let error = after.open_text(&text).unwrap_err().to_string();
        assert!(
            error.contains("storage.previous_encryption_keys"),
            "{error}"
        );
        assert!(after.open_file(&file).is_err());

        // Re-sealed by the ring: under the new key, readable once the old one is gone.
        let text = during.seal_text(&during.open_text(&text).unwrap());
        let file = seal(&during, &during.open_file(&file).unwrap(), 70_000);
        assert_eq!(during.text_sealed_by(&text), SealedBy::Current);
        assert_eq!(during.file_sealed_by(&file[..32]), SealedBy::Current);
        assert_eq!(after.open_text(&text).unwrap(), "JBSWY3DPEHPK3PXP");
        assert_eq!(after.open_file(&file).unwrap(), data);
        assert_eq!(after.text_sealed_by("JBSWY3DPEHPK3PXP"), SealedBy::Unsealed);
        assert_eq!(after.file_sealed_by(b"%PDF-1.7"), SealedBy::Unsealed);
    }

    #[test]
    fn items_sealed_before_key_ids_still_open_with_any_key_of_the_ring() {
        let old = DataKey::generate_base64();
        let new = DataKey::generate_base64();
        let ring = DataKey::with_previous(&new, &[&old]).unwrap();
        let legacy = DataKey::from_base64(&old).unwrap().current;
        // The text and file formats of the first release: no key id.
        let nonce = [3u8; 12];
        let mut bytes = nonce.to_vec();
        bytes.extend(
            legacy
                .cipher
                .encrypt(&Nonce::from(nonce), b"seed".as_slice())
                .unwrap(),
        );
        let text = format!("{LEGACY_TEXT_PREFIX}{}", STANDARD.encode(bytes));
        let stream_nonce = [9u8; STREAM_NONCE];
        let mut file = LEGACY_FILE_MAGIC.to_vec();
        file.extend_from_slice(&stream_nonce);
        file.extend(
            EncryptorBE32::from_aead(legacy.cipher.clone(), stream_nonce.as_slice().into())
                .encrypt_last(b"%PDF-1.7 old".as_slice())
                .unwrap(),
        );
        assert_eq!(ring.text_sealed_by(&text), SealedBy::Other);
        assert_eq!(ring.file_sealed_by(&file), SealedBy::Other);
        assert_eq!(ring.open_text(&text).unwrap(), "seed");
        assert_eq!(ring.open_file(&file).unwrap(), b"%PDF-1.7 old");
        assert!(
            DataKey::from_base64(&new)
                .unwrap()
                .open_text(&text)
                .is_err()
        );
    }
}
