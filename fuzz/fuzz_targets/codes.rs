//! `is_orpha_code` and `is_hpo_term`: never panic, and accept exactly the canonical shapes
//! documented in src/domain/request_form.rs (checked against an independent oracle):
//! ORPHA code = `ORPHA:` + 1 to 7 ASCII digits; HPO term = `HP:` + exactly 7 ASCII digits.
//! Nothing is trimmed or case-folded: " HP:0004322" and "hp:0004322" are refused.
#![no_main]

use consilium::domain::request_form::{is_hpo_term, is_orpha_code};
use libfuzzer_sys::fuzz_target;

fn digits(text: &str, lengths: std::ops::RangeInclusive<usize>) -> bool {
    lengths.contains(&text.len()) && text.bytes().all(|b| b.is_ascii_digit())
}

fuzz_target!(|input: &str| {
    let orpha = is_orpha_code(input);
    let expected_orpha =
        input.len() >= 6 && input.starts_with("ORPHA:") && digits(&input[6..], 1..=7);
    assert_eq!(orpha, expected_orpha, "is_orpha_code({input:?})");

    let hpo = is_hpo_term(input);
    let expected_hpo = input.len() == 10 && input.starts_with("HP:") && digits(&input[3..], 7..=7);
    assert_eq!(hpo, expected_hpo, "is_hpo_term({input:?})");
    if hpo {
        assert!(input.is_ascii());
    }
});
