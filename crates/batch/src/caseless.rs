//! [`Caseless`]: ids compared and hashed without regard to case, as Graph
//! compares them, without lower-case copies. The one place the batch client
//! (and `graphlab`) compares ids.

use std::hash::{Hash, Hasher};

/// An id hashed and compared without regard to case, as Graph compares ids
/// (full Unicode lower-casing, so `Ä1` and `ä1` are the same id; no
/// lower-case copy is made).
#[derive(Debug, Clone, Copy)]
pub struct Caseless<'a>(pub &'a str);

impl Caseless<'_> {
    fn lower(self) -> impl Iterator<Item = char> {
        self.0.chars().flat_map(char::to_lowercase)
    }
}

impl PartialEq for Caseless<'_> {
    fn eq(&self, other: &Self) -> bool {
        if self.0.is_ascii() && other.0.is_ascii() {
            self.0.eq_ignore_ascii_case(other.0)
        } else {
            self.lower().eq(other.lower())
        }
    }
}

impl Eq for Caseless<'_> {}

impl Hash for Caseless<'_> {
    fn hash<H: Hasher>(&self, state: &mut H) {
        // The UTF-8 of the lower-case text, written in chunks cut at the same
        // places for equal ids.
        let mut buf = [0u8; 64];
        let mut len = 0;
        let mut put = |c: char| {
            if len + 4 > buf.len() {
                state.write(&buf[..len]);
                len = 0;
            }
            len += c.encode_utf8(&mut buf[len..]).len();
        };
        if self.0.is_ascii() {
            // Quicker, and the same characters as `lower`.
            self.0.bytes().for_each(|b| put(char::from(b.to_ascii_lowercase())));
        } else {
            self.lower().for_each(put);
        }
        state.write(&buf[..len]);
        state.write_u8(0xff);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_equal_without_regard_to_case_hash_alike() {
        use std::hash::BuildHasher;
        let state = std::collections::hash_map::RandomState::new();
        let long = "Group-".repeat(20);
        for (a, b) in [
            ("ABC", "abc"),
            ("\u{212A}elvin", "kelvin"),
            ("ÉTÉ", "été"),
            ("Ä1", "ä1"),
            (&long[..], &long.to_lowercase()[..]),
        ] {
            assert!(Caseless(a) == Caseless(b), "{a} {b}");
            assert_eq!(
                state.hash_one(Caseless(a)),
                state.hash_one(Caseless(b)),
                "{a} {b}"
            );
        }
        assert!(Caseless("abc") != Caseless("abd"));
        assert!(Caseless("Ä1") != Caseless("a1"));
    }
}
