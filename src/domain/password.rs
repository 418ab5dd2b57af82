//! The password rule: 12 to 128 characters, and not guessable (zxcvbn score ≥ 3), also
//! considering the user's own name, e-mail and RPPS.

pub const MIN_LENGTH: usize = 12;
pub const MAX_LENGTH: usize = 128;

/// Checks a new password; the error is the message shown for the `password` field.
pub fn check_strength(password: &str, user_inputs: &[&str]) -> Result<(), String> {
    let length = password.chars().count();
    if length < MIN_LENGTH {
        return Err(format!("must be at least {MIN_LENGTH} characters"));
    }
    if length > MAX_LENGTH {
        return Err(format!("must be at most {MAX_LENGTH} characters"));
    }
    // Split names and addresses into words so "Martin" in "Martin2026!!" is caught.
    // zxcvbn matches its dictionaries in lower case.
    let words: Vec<String> = user_inputs
        .iter()
        .flat_map(|input| input.split(|c: char| !c.is_alphanumeric()))
        .filter(|word| word.chars().count() >= 3)
        .chain(user_inputs.iter().copied())
        .map(str::to_lowercase)
        .collect();
    if made_of(password, &words) {
        return Err("is too close to your name, e-mail or RPPS".to_owned());
    }
    let words: Vec<&str> = words.iter().map(String::as_str).collect();
    let estimate = zxcvbn::zxcvbn(password, &words);
    if (estimate.score() as u8) < 3 {
        let hint = estimate
            .feedback()
            .and_then(|f| f.warning().map(|w| w.to_string()))
            .unwrap_or_else(|| "add more words or characters".to_owned());
        return Err(format!("is too easy to guess ({hint})"));
    }
    Ok(())
}

/// Whether the password is little more than the user's own words: once they, digits and
/// separators are taken out, fewer than 8 characters remain.
fn made_of(password: &str, words: &[String]) -> bool {
    let mut rest = password.to_lowercase();
    let mut longest_first: Vec<&String> = words.iter().collect();
    longest_first.sort_by_key(|word| std::cmp::Reverse(word.len()));
    for word in longest_first {
        rest = rest.replace(word.as_str(), "");
    }
    rest.chars().filter(|c| c.is_alphabetic()).count() < 8
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_long_unusual_passphrase_is_accepted() {
        assert!(check_strength("tangerine-ossicle-Vercors-42", &[]).is_ok());
    }

    #[test]
    fn short_and_long_passwords_are_refused() {
        assert!(
            check_strength("Xk3$vQ9!pL", &[])
                .unwrap_err()
                .contains("at least 12")
        );
        assert!(
            check_strength(&"ab1!".repeat(40), &[])
                .unwrap_err()
                .contains("at most 128")
        );
    }

    #[test]
    fn common_passwords_are_refused() {
        for weak in [
            "password1234",
            "azertyuiop123",
            "123456789012",
            "aaaaaaaaaaaa",
        ] {
            assert!(check_strength(weak, &[]).is_err(), "{weak}");
        }
    }

    #[test]
    fn passwords_made_of_the_users_own_details_are_refused() {
        let inputs = [
            "Jeanne Dubois-Martin",
            "jeanne.dubois@chu-nancy.fr",
            "10005173140",
        ];
        assert!(check_strength("jeanne.dubois2026", &inputs).is_err());
        assert!(check_strength("DuboisMartin10005173140", &inputs).is_err());
    }
}
