//! The inbox's de-duplication keys, held in memory.
//!
//! Platforms name their webhooks with random ids (Shopify's are UUIDs). A unique index on
//! such keys puts every new webhook on its own random page of the index, and that page is
//! written to the WAL, and later into the database, once per webhook: about half of what an
//! insert cost. The inbox therefore has no unique index on its keys, nor on its content
//! keys (SHA-256 of source, topic and body: random too). The writer holds both of every
//! stored row in memory instead, each as a 64-bit hash mapped to the row id(s) carrying it
//! (one map for both: a key's hash that meets a content key's is one more row to check),
//! and keeps that map exact with two rules:
//!
//! - **Nothing stored is missing from the map.** The map is loaded from the database before
//!   the first insert and records the inbox's `AUTOINCREMENT` high-water mark
//!   (`sqlite_sequence`), which every insert by anyone raises. The writer's insert only
//!   happens if the mark is still the one the map knows (checked inside the insert, under
//!   SQLite's write lock); otherwise the map first reads the rows added since, and the batch
//!   is classified again. Another process or another [`SqliteStore`] on the same file is
//!   therefore seen before it can cause a duplicate.
//! - **What the map holds is checked before it is believed.** A row found in the map makes
//!   a webhook a duplicate only if it still exists with that exact source and key, or with
//!   that exact content key and an arrival inside the webhook's content window (rows may
//!   have been deleted by retention or redaction, two keys may share a hash, and a row's
//!   content stops counting once it is older than the window). A row gone is dropped from
//!   the map; one that exists but does not match is not asked about again for that
//!   webhook, which is then stored.
//!
//! Memory: two entries per stored webhook (rows stored before content keys existed have
//! one), 17 bytes a slot in a hash table kept between 44% and 87% full: 40 to 78 bytes per
//! webhook, 4.4 MB for 100,000.
//!
//! [`SqliteStore`]: crate::SqliteStore

use std::collections::HashMap;
use std::hash::{DefaultHasher, Hash, Hasher};

/// The hash a (source, key) pair is filed under. Only this process uses it (the map is
/// rebuilt on every start), so a hash that differs between builds would do no harm.
pub(crate) fn hash(source: &str, key: &str) -> u64 {
    let mut h = DefaultHasher::new();
    (source, key).hash(&mut h);
    h.finish()
}

/// The hash a content key is filed under: its first eight bytes (already a SHA-256, so as
/// spread as a hash can be), big-endian, folded by the map's `fold` (tests make them
/// collide). `None` for a value that is not a content key.
pub(crate) fn content_prefix(content: &[u8]) -> Option<u64> {
    let first: [u8; 8] = content.get(..8)?.try_into().ok()?;
    Some(u64::from_be_bytes(first))
}

/// Every stored (source, key) and content key, by hash; see the module docs.
#[derive(Debug)]
pub(crate) struct KeyMap {
    /// [`hash`]; tests put a colliding one in its place.
    hasher: fn(&str, &str) -> u64,
    /// Applied to [`content_prefix`]: the identity; tests put a colliding one in its place.
    fold: fn(u64) -> u64,
    /// A hash with one row: nearly every hash (16 bytes and a control byte a slot).
    one: HashMap<u64, i64>,
    /// A hash shared by several rows (distinct keys whose hashes collide).
    many: HashMap<u64, Vec<i64>>,
    /// The inbox's high-water mark this map is complete up to; `None` until loaded.
    mark: Option<Mark>,
}

/// `sqlite_sequence.seq` for the inbox, `None` while the inbox has never had a row.
pub(crate) type Mark = Option<i64>;

impl Default for KeyMap {
    fn default() -> Self {
        Self::with_hashers(hash, |p| p)
    }
}

impl KeyMap {
    /// An empty map filing keys by `hasher` and content keys by `fold` of their prefix.
    pub(crate) fn with_hashers(hasher: fn(&str, &str) -> u64, fold: fn(u64) -> u64) -> Self {
        Self {
            hasher,
            fold,
            one: HashMap::new(),
            many: HashMap::new(),
            mark: None,
        }
    }

    /// The hash this map files (source, key) under.
    pub(crate) fn hasher(&self) -> fn(&str, &str) -> u64 {
        self.hasher
    }

    /// The hash this map files a content key under, from its [`content_prefix`].
    pub(crate) fn fold(&self) -> fn(u64) -> u64 {
        self.fold
    }

    /// The high-water mark the map is complete up to, once loaded.
    pub(crate) fn mark(&self) -> Option<Mark> {
        self.mark
    }

    pub(crate) fn set_mark(&mut self, mark: Mark) {
        self.mark = Some(mark);
    }

    /// Row ids that may carry the key hashed to `h` (to be checked against the rows).
    pub(crate) fn candidates(&self, h: u64) -> &[i64] {
        if let Some(id) = self.one.get(&h) {
            std::slice::from_ref(id)
        } else {
            self.many.get(&h).map_or(&[], Vec::as_slice)
        }
    }

    /// Files row `id` under `h`.
    pub(crate) fn add(&mut self, h: u64, id: i64) {
        if let Some(ids) = self.many.get_mut(&h) {
            if !ids.contains(&id) {
                ids.push(id);
            }
            return;
        }
        match self.one.insert(h, id) {
            Some(old) if old != id => {
                self.one.remove(&h);
                self.many.insert(h, vec![old, id]);
            }
            _ => {}
        }
    }

    /// Removes row `id` from under `h` (the row was deleted); other rows there stay.
    pub(crate) fn forget(&mut self, h: u64, id: i64) {
        if self.one.get(&h) == Some(&id) {
            self.one.remove(&h);
        } else if let Some(ids) = self.many.get_mut(&h) {
            ids.retain(|x| *x != id);
            match ids.as_slice() {
                [] => {
                    self.many.remove(&h);
                }
                [last] => {
                    let last = *last;
                    self.many.remove(&h);
                    self.one.insert(h, last);
                }
                _ => {}
            }
        }
    }

    /// How many hashes are filed.
    #[cfg(test)]
    fn len(&self) -> usize {
        self.one.len() + self.many.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_hash_separates_source_from_key() {
        assert_ne!(hash("ab", "c"), hash("a", "bc"));
        assert_eq!(hash("shopify", "k"), hash("shopify", "k"));
        assert_ne!(hash("shopify", "k"), hash("woocommerce", "k"));
    }

    #[test]
    fn rows_sharing_a_hash_are_all_kept_and_forgotten_one_by_one() {
        let mut m = KeyMap::default();
        assert!(m.candidates(7).is_empty());
        m.add(7, 1);
        m.add(7, 1);
        assert_eq!(m.candidates(7), &[1]);
        m.add(7, 2);
        m.add(7, 3);
        assert_eq!(m.candidates(7), &[1, 2, 3]);
        m.forget(7, 2);
        assert_eq!(m.candidates(7), &[1, 3]);
        m.forget(7, 9);
        assert_eq!(m.candidates(7), &[1, 3]);
        m.forget(7, 1);
        assert_eq!(m.candidates(7), &[3]);
        m.forget(7, 3);
        assert!(m.candidates(7).is_empty());
        assert_eq!(m.len(), 0, "an emptied hash is removed");
    }

    #[test]
    fn forgetting_another_row_keeps_the_one_filed() {
        let mut m = KeyMap::default();
        m.add(5, 10);
        // A late report of an older row's deletion must not drop the newer row.
        m.forget(5, 4);
        assert_eq!(m.candidates(5), &[10]);
    }

    #[test]
    fn a_content_key_is_filed_under_its_first_eight_bytes() {
        let key = aftercare::store::content_key("shopify", Some("orders/paid"), b"{}");
        let prefix = content_prefix(&key).unwrap_or_default();
        assert_eq!(prefix.to_be_bytes(), key[..8]);
        // As the loader reads it back from SQLite: `hex(substr(content_key, 1, 8))`.
        let hex: String = key[..8].iter().map(|b| format!("{b:02X}")).collect();
        assert_eq!(u64::from_str_radix(&hex, 16).ok(), Some(prefix));
        assert_eq!(content_prefix(&key[..7]), None, "not a content key");
    }

    #[test]
    fn the_mark_is_unknown_until_loaded() {
        let mut m = KeyMap::default();
        assert_eq!(m.mark(), None);
        m.set_mark(None);
        assert_eq!(m.mark(), Some(None));
        m.set_mark(Some(42));
        assert_eq!(m.mark(), Some(Some(42)));
    }
}
