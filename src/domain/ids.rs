//! Ids of the things a caller names, one type each, so that a meeting's id cannot be passed
//! where a request's is expected. They read as `&str` (for the database) through `Deref`.

use serde::{Deserialize, Serialize};

macro_rules! id_type {
    ($($(#[$doc:meta])* $name:ident),+ $(,)?) => {$(
        $(#[$doc])*
        #[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        #[serde(transparent)]
        pub struct $name(String);

        impl $name {
            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl From<String> for $name {
            fn from(id: String) -> Self {
                $name(id)
            }
        }

        impl From<&str> for $name {
            fn from(id: &str) -> Self {
                $name(id.to_owned())
            }
        }

        impl std::ops::Deref for $name {
            type Target = str;

            fn deref(&self) -> &str {
                &self.0
            }
        }

        /// In the OpenAPI document, an id is a string.
        impl utoipa::PartialSchema for $name {
            fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
                <String as utoipa::PartialSchema>::schema()
            }
        }

        impl utoipa::ToSchema for $name {}

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(&self.0)
            }
        }
    )+};
}

id_type!(
    /// An opinion request.
    RequestId,
    /// A meeting of a staff.
    MeetingId,
    /// An account.
    UserId,
);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_read_as_their_text_and_serialise_as_it() {
        let id = RequestId::from("0194-abc");
        assert_eq!(&*id, "0194-abc");
        assert_eq!(serde_json::to_string(&id).unwrap(), "\"0194-abc\"");
        let back: MeetingId = serde_json::from_str("\"m-1\"").unwrap();
        assert_eq!(back.as_str(), "m-1");
    }
}
