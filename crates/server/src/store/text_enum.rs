//! Closed sets the store keeps as text (statuses, kinds): one enum each, with its stored
//! names, so a row carries the enum and a name the code does not know is a decode error
//! (`#[sqlx(try_from = "String")]` on the field) rather than a silent default.

/// Declares `enum $name` whose variants are stored as the given names, with `as_str`,
/// `parse`, `Display` and `TryFrom<String>` (error: `quiver_domain::UnknownValue`).
macro_rules! text_enum {
    (
        $(#[$meta:meta])*
        $vis:vis enum $name:ident ($kind:literal) {
            $($(#[$vmeta:meta])* $variant:ident = $text:literal,)+
        }
    ) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        $vis enum $name {
            $($(#[$vmeta])* $variant,)+
        }

        impl $name {
            pub const ALL: &'static [$name] = &[$($name::$variant),+];

            pub const fn as_str(self) -> &'static str {
                match self {
                    $($name::$variant => $text,)+
                }
            }

            pub fn parse(s: &str) -> Option<Self> {
                match s {
                    $($text => Some($name::$variant),)+
                    _ => None,
                }
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl TryFrom<String> for $name {
            type Error = quiver_domain::UnknownValue;

            fn try_from(s: String) -> Result<Self, quiver_domain::UnknownValue> {
                Self::parse(&s).ok_or_else(|| quiver_domain::UnknownValue::new($kind, s))
            }
        }
    };
}

pub(crate) use text_enum;

#[cfg(test)]
mod tests {
    text_enum! {
        enum Colour ("colour") {
            Red = "red",
            Blue = "blue",
        }
    }

    #[test]
    fn names_round_trip_and_unknown_names_are_errors() {
        for c in Colour::ALL {
            assert_eq!(Colour::try_from(c.as_str().to_owned()), Ok(*c));
            assert_eq!(c.to_string(), c.as_str());
        }
        let err = Colour::try_from("green".to_owned()).unwrap_err();
        assert_eq!(err.to_string(), "'green' is not a valid colour");
        assert_eq!(Colour::parse("Red"), None, "names are exact");
    }
}
