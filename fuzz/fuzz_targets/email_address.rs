//! `EmailAddress::parse`: never panics; what it accepts holds no control or whitespace
//! character (no header injection), is at most 254 bytes, is the trimmed, lower-cased input,
//! and parses again to the same value.
#![no_main]

use consilium::domain::email_address::EmailAddress;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|input: &str| {
    let Ok(email) = EmailAddress::parse(input) else {
        return;
    };
    let text = email.as_str();
    assert!(
        !text.chars().any(|c| c.is_control() || c.is_whitespace()),
        "accepted {text:?}"
    );
    assert!(!text.is_empty() && text.len() <= 254, "accepted {text:?}");
    assert_eq!(text, input.trim().to_lowercase());
    assert!(text.contains('@'), "accepted {text:?}");
    assert!(
        email.local_part().len() < text.len(),
        "local part of {text:?}"
    );
    assert_eq!(
        EmailAddress::parse(text),
        Ok(email.clone()),
        "{text:?} does not parse again to itself"
    );
});
