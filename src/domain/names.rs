//! Enums exchanged and stored by their snake_case names.

/// Gives an enum its names: `ALL`, `as_str`, `parse` and `Display`, from one list of
/// `Variant => "name"`. The database stores these names (see `db::sql_types`), serde uses the
/// same with `rename_all = "snake_case"`.
#[macro_export]
macro_rules! named_enum {
    ($ty:ident { $($variant:ident => $name:literal),+ $(,)? }) => {
        impl $ty {
            pub const ALL: &'static [$ty] = &[$($ty::$variant),+];

            /// The name used in the database, the API and serde.
            pub fn as_str(self) -> &'static str {
                match self {
                    $($ty::$variant => $name),+
                }
            }

            pub fn parse(value: &str) -> Option<$ty> {
                match value {
                    $($name => Some($ty::$variant),)+
                    _ => None,
                }
            }
        }

        impl std::fmt::Display for $ty {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }
    };
}
