//! The attachment upload path: `attachments::Store::receive` (files) on a multipart body made of the fuzz
//! bytes, with `content-type: multipart/form-data; boundary=X` (the client chooses the boundary,
//! so a short one is fair game), on a current-thread tokio runtime, into a temporary directory
//! (in $TMPDIR), with small limits. The body is received twice: whole, then in small chunks.
//! Nothing may panic; besides:
//! - on `Ok(Some(received))` the directory holds exactly the stored file, which opens with the
//!   data key to `received.size` bytes (within the limit) whose SHA-256 is `received.sha256`,
//!   whose content is of the type recognised, and the file name shown is cleaned;
//! - on `Ok(None)` or `Err(_)` nothing is left in the directory (no `*.partial` file above all);
//! - both deliveries come to the same outcome: the same file stored, no `file` field, or refused.
#![no_main]

use std::path::Path;
use std::sync::LazyLock;

use actix_multipart::Multipart;
use actix_web::error::PayloadError;
use actix_web::http::header::{CONTENT_TYPE, HeaderMap, HeaderValue};
use actix_web::web::Bytes;
use consilium::attachments::{Limits, Received, Store, sniff};
use consilium::crypto::DataKey;
use libfuzzer_sys::fuzz_target;
use sha2::{Digest, Sha256};

const ID: &str = "0190f3c2-attachment";
const LIMITS: Limits = Limits {
    // Small enough for libFuzzer's default input size (4 KiB) to pass it.
    per_file: 1024,
    remaining_for_request: 64 * 1024,
};

struct State {
    runtime: tokio::runtime::Runtime,
    key: DataKey,
    dir: tempfile::TempDir,
}

static STATE: LazyLock<State> = LazyLock::new(|| State {
    runtime: tokio::runtime::Builder::new_current_thread()
        .build()
        .expect("a tokio runtime"),
    key: DataKey::from_base64(&DataKey::generate_base64()).expect("a data key"),
    dir: tempfile::Builder::new()
        .prefix("consilium-fuzz-multipart-")
        .tempdir()
        .expect("a temporary directory"),
});

fn entries(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .expect("the directory lists")
        .map(|entry| entry.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

/// What one upload came to, to compare the same body delivered in different chunks.
#[derive(Debug, PartialEq, Eq)]
enum Outcome {
    Stored(Received),
    NoFileField,
    Refused,
}

/// `receive` on `data` delivered in chunks of `chunk` bytes, checked, and the directory emptied.
fn upload(data: &[u8], chunk: usize) -> Outcome {
    let state = &*STATE;
    let dir = state.dir.path();

    let mut headers = HeaderMap::new();
    headers.insert(
        CONTENT_TYPE,
        HeaderValue::from_static("multipart/form-data; boundary=X"),
    );
    let chunks: Vec<Result<Bytes, PayloadError>> = data
        .chunks(chunk.max(1))
        .map(|piece| Ok(Bytes::copy_from_slice(piece)))
        .collect();
    let mut payload = Multipart::new(&headers, futures_util::stream::iter(chunks));

    let result = state
        .runtime
        .block_on(Store::Filesystem(dir.to_path_buf()).receive(
            &mut payload,
            LIMITS,
            &state.key,
            ID,
        ));

    match result {
        Ok(Some(received)) => {
            assert_eq!(entries(dir), [ID], "only the stored file is left");
            let sealed = std::fs::read(dir.join(ID)).expect("the stored file reads");
            let plain = state
                .key
                .open_file(&sealed)
                .expect("the stored file opens with the data key");
            assert_eq!(plain.len() as u64, received.size);
            assert!(received.size <= LIMITS.per_file);
            assert_eq!(hex::encode(Sha256::digest(&plain)), received.sha256);
            assert_eq!(sniff(&plain), Some(received.content_type));
            let name = &received.filename;
            assert!(
                !name.trim().is_empty() && name.chars().count() <= 200,
                "{name:?}"
            );
            assert!(
                !name
                    .chars()
                    .any(|c| c.is_control() || matches!(c, '/' | '\\' | '"' | ';')),
                "{name:?}"
            );
            std::fs::remove_file(dir.join(ID)).expect("the stored file removes");
            Outcome::Stored(received)
        }
        Ok(None) => {
            assert!(entries(dir).is_empty(), "left behind: {:?}", entries(dir));
            Outcome::NoFileField
        }
        Err(error) => {
            let left = entries(dir);
            assert!(
                !left.iter().any(|name| name.ends_with(".partial")),
                "{error:?} left {left:?}"
            );
            assert!(left.is_empty(), "{error:?} left {left:?}");
            Outcome::Refused
        }
    }
}

fuzz_target!(|data: &[u8]| {
    let whole = upload(data, data.len());
    // The same body in small chunks (their size derived from the input's length, 1 to 61
    // bytes), so that boundaries and headers split across chunks are tried: the outcome must
    // not depend on how the body arrived (the reason a refusal was given may).
    let chunk = 1 + data.len() % 61;
    if chunk < data.len() {
        let chunked = upload(data, chunk);
        assert_eq!(whole, chunked, "whole body vs chunks of {chunk} bytes");
    }
});
