//! Meetings of a staff: their status, and what a meeting's fields must hold.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::FieldError;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum MeetingStatus {
    /// Coming: requests can be scheduled into it.
    Planned,
    /// It took place; attendance and the cases discussed are recorded.
    Held,
    /// It will not take place; its requests moved to the staff's next meeting.
    Cancelled,
}

crate::named_enum!(MeetingStatus {
    Planned => "planned",
    Held => "held",
    Cancelled => "cancelled",
});

/// A video-conference link must be an https URL without spaces, of at most 500 characters.
pub fn check_video_url(url: &Option<String>, errors: &mut Vec<FieldError>) {
    if let Some(url) = url
        && (!url.starts_with("https://")
            || url.len() > 500
            || url.chars().any(|c| c.is_whitespace() || c.is_control()))
    {
        errors.push(FieldError::new("video_url", "must be an https:// URL"));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip() {
        for status in MeetingStatus::ALL {
            assert_eq!(MeetingStatus::parse(status.as_str()), Some(*status));
        }
        assert_eq!(MeetingStatus::parse("postponed"), None);
    }

    #[test]
    fn video_links_are_https_without_spaces() {
        for (url, valid) in [
            ("https://visio.example.org/rcp", true),
            ("http://visio.example.org/rcp", false),
            ("https://visio.example.org/a b", false),
        ] {
            let mut errors = Vec::new();
            check_video_url(&Some(url.to_owned()), &mut errors);
            assert_eq!(errors.is_empty(), valid, "{url}");
        }
    }
}
