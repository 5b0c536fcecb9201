//! Typed ids: a member id cannot be passed where a rank id is expected.
//! Each is a transparent newtype over `String` (serialized as the plain string).

macro_rules! id_type {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Default, serde::Serialize, serde::Deserialize)]
        #[serde(transparent)]
        #[repr(transparent)]
        pub struct $name(pub String);

        impl $name {
            /// The id as a string slice.
            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl std::ops::Deref for $name {
            type Target = str;
            fn deref(&self) -> &str {
                &self.0
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(&self.0)
            }
        }

        impl From<String> for $name {
            fn from(s: String) -> Self {
                $name(s)
            }
        }

        impl From<&str> for $name {
            fn from(s: &str) -> Self {
                $name(s.to_owned())
            }
        }

        impl std::borrow::Borrow<str> for $name {
            fn borrow(&self) -> &str {
                &self.0
            }
        }

        impl PartialEq<str> for $name {
            fn eq(&self, other: &str) -> bool {
                self.0 == other
            }
        }

        impl PartialEq<&str> for $name {
            fn eq(&self, other: &&str) -> bool {
                self.0 == *other
            }
        }
    };
}

id_type!(
    /// A member's id (`"m1"`).
    ///
    /// ```
    /// let id = fenrun::MemberId::from("m1");
    /// assert_eq!(id.as_str(), "m1");
    /// assert_eq!(serde_json::to_string(&id).unwrap(), "\"m1\"");
    /// ```
    MemberId
);
id_type!(
    /// A rank's id (`"team_leader"`).
    RankId
);
id_type!(
    /// A rule's id (`"spread"`).
    RuleId
);
id_type!(
    /// A group's id (`"g1"`).
    GroupId
);
id_type!(
    /// An event's id: an order (`"o17"`) or a refund (`"r1"`).
    EventId
);

/// Index of a rank on the ladder, 0 = lowest.
pub type RankIdx = u16;
