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

/// Index `i` of a member, event or record of a batch as the tables store it
/// (`u32`). Validation refuses a batch with `u32::MAX` members, events or
/// id bytes or more (`limit_exceeded`), and a policy's lists are bounded by
/// [`crate::limits`], so every such index fits: this is the one place the
/// core narrows an index, and its only justification.
#[inline]
#[allow(clippy::cast_possible_truncation)] // below u32::MAX, as above
pub(crate) fn idx32(i: usize) -> u32 {
    debug_assert!(u32::try_from(i).is_ok(), "index {i} past u32");
    i as u32
}

/// Index `i` of a rule of a policy as lines store it (`u16`): a policy has at
/// most [`crate::limits::MAX_RULES`] rules.
#[inline]
#[allow(clippy::cast_possible_truncation)] // below MAX_RULES (64)
pub(crate) fn rule_idx(i: usize) -> u16 {
    debug_assert!(i <= crate::limits::MAX_RULES, "rule {i} past the limit");
    i as u16
}
