//! Docs that stay true: the committed OpenAPI document is the one the code generates, and the
//! README documents every setting.

#[test]
fn the_committed_openapi_document_is_up_to_date() {
    let generated = crate::support::library::openapi_document();
    let path = std::path::Path::new("openapi/openapi.json");
    if std::env::var("UPDATE_OPENAPI").is_ok_and(|v| v == "1") {
        std::fs::write(path, &generated).unwrap();
    }
    let committed = std::fs::read_to_string(path).unwrap_or_default();
    assert!(
        committed == generated,
        "openapi/openapi.json is stale: run `UPDATE_OPENAPI=1 cargo test --test api openapi` (or `cargo run -- openapi > openapi/openapi.json`) and commit it"
    );
}

/// Every key of `config/default.toml` has its row in the README's configuration table.
#[test]
fn the_readme_lists_every_setting() {
    let defaults: toml::Table = std::fs::read_to_string("config/default.toml")
        .unwrap()
        .parse()
        .unwrap();
    let readme = std::fs::read_to_string("README.md").unwrap();
    let mut missing = Vec::new();
    for (section, table) in &defaults {
        for key in table.as_table().expect("sections only").keys() {
            let row = format!("| `{section}.{key}` |");
            if !readme.contains(&row) {
                missing.push(format!("{section}.{key}"));
            }
        }
    }
    assert!(missing.is_empty(), "README.md lacks rows for {missing:?}");
}
