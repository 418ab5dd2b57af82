//! `Rpps::parse`: never panics; what it accepts is the trimmed input, 11 ASCII digits passing
//! the Luhn check (computed here independently), and parses again to the same value.
#![no_main]

use consilium::domain::rpps::Rpps;
use libfuzzer_sys::fuzz_target;

fn luhn(digits: &[u8]) -> bool {
    let mut sum = 0u32;
    for (i, b) in digits.iter().rev().enumerate() {
        let mut d = u32::from(b - b'0');
        if i % 2 == 1 {
            d *= 2;
            if d > 9 {
                d -= 9;
            }
        }
        sum += d;
    }
    sum % 10 == 0
}

fuzz_target!(|input: &str| {
    let Ok(rpps) = Rpps::parse(input) else {
        return;
    };
    let text = rpps.as_str();
    assert_eq!(text.len(), 11, "{text:?}");
    assert!(text.bytes().all(|b| b.is_ascii_digit()), "{text:?}");
    assert!(luhn(text.as_bytes()), "{text:?} fails the Luhn check");
    assert_eq!(text, input.trim());
    assert_eq!(rpps.to_string(), text);
    assert_eq!(Rpps::parse(text), Ok(rpps.clone()));
});
