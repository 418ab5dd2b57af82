//! The static files, embedded in the binary and served under content-hashed names
//! (`/static/consilium.1a2b3c4d5e.css`) with `Cache-Control: immutable`: a new release changes
//! the name, so a browser never keeps a stale stylesheet and never asks twice.

use std::sync::OnceLock;

use actix_web::http::header;
use actix_web::{HttpResponse, web};
use sha2::{Digest, Sha256};

struct Asset {
    name: &'static str,
    content_type: &'static str,
    bytes: &'static [u8],
}

const ASSETS: &[Asset] = &[
    Asset {
        name: "consilium.css",
        content_type: "text/css; charset=utf-8",
        bytes: include_bytes!("../../static/consilium.css"),
    },
    Asset {
        name: "consilium.js",
        content_type: "text/javascript; charset=utf-8",
        bytes: include_bytes!("../../static/consilium.js"),
    },
    Asset {
        name: "favicon.svg",
        content_type: "image/svg+xml",
        bytes: include_bytes!("../../static/favicon.svg"),
    },
];

/// Each asset's served name, e.g. `consilium.1a2b3c4d5e.css`.
fn hashed_names() -> &'static [String] {
    static NAMES: OnceLock<Vec<String>> = OnceLock::new();
    NAMES.get_or_init(|| {
        ASSETS
            .iter()
            .map(|asset| {
                let digest = hex::encode(Sha256::digest(asset.bytes));
                let (stem, ext) = asset.name.rsplit_once('.').unwrap_or((asset.name, ""));
                format!("{stem}.{}.{ext}", &digest[..10])
            })
            .collect()
    })
}

/// The URL of an asset by its plain name (`consilium.css` → `/static/consilium.….css`).
pub fn url(name: &str) -> Option<String> {
    ASSETS
        .iter()
        .zip(hashed_names())
        .find(|(asset, _)| asset.name == name)
        .map(|(_, hashed)| format!("/static/{hashed}"))
}

/// `GET /static/{name}`: only the current hashed names exist.
pub async fn serve(name: web::Path<String>) -> HttpResponse {
    let found = ASSETS
        .iter()
        .zip(hashed_names())
        .find(|(_, hashed)| **hashed == *name);
    match found {
        Some((asset, _)) => HttpResponse::Ok()
            .insert_header((header::CONTENT_TYPE, asset.content_type))
            .insert_header((header::CACHE_CONTROL, "public, max-age=31536000, immutable"))
            .body(asset.bytes),
        None => HttpResponse::NotFound().finish(),
    }
}

/// The total size of the stylesheets and scripts a page loads.
pub fn css_and_script_bytes() -> usize {
    ASSETS
        .iter()
        .filter(|asset| asset.name.ends_with(".css") || asset.name.ends_with(".js"))
        .map(|asset| asset.bytes.len())
        .sum()
}
