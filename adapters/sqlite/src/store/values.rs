//! Multi-row `INSERT ... VALUES` with bound parameters, in three fixed sizes.
//!
//! The processor's commit and `enqueue_many` first sent their rows as one JSON array per
//! statement (`json_each`). For rows carrying JSON documents (a snapshot's data, a queued
//! message) that meant serializing each document, escaping it again as a string inside the
//! array, and having SQLite parse and unescape it back: issue 20's profile put a fifth of
//! the connection thread's time in SQLite's JSON functions, and most of the commit's own
//! CPU in building those arrays. Bound values go to SQLite as they are.
//!
//! Statements are made of 64, 8 or 1 rows (`chunks`), so each table has at most three
//! statement texts, which every connection keeps prepared (sqlx's statement cache): a
//! statement sized to each batch would be parsed again for nearly every batch. 64 rows of
//! up to 9 columns stay far below SQLite's limit on bound values (32,766).

/// The row counts of the statements that insert `rows` rows, largest first.
pub(super) fn chunks(rows: usize) -> impl Iterator<Item = usize> {
    let mut left = rows;
    std::iter::from_fn(move || {
        let n = [64, 8, 1].into_iter().find(|&n| left >= n)?;
        left -= n;
        Some(n)
    })
}

/// Appends `(?, ?, ...), (...)`: `rows` rows of `cols` placeholders.
pub(super) fn placeholders(sql: &mut String, rows: usize, cols: usize) {
    for r in 0..rows {
        if r > 0 {
            sql.push_str(", ");
        }
        sql.push('(');
        for c in 0..cols {
            if c > 0 {
                sql.push_str(", ");
            }
            sql.push('?');
        }
        sql.push(')');
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chunks_cover_every_row_in_three_sizes() {
        for n in 0..300 {
            let sizes: Vec<usize> = chunks(n).collect();
            assert_eq!(sizes.iter().sum::<usize>(), n);
            assert!(sizes.iter().all(|s| [64, 8, 1].contains(s)));
            assert!(sizes.windows(2).all(|w| w[0] >= w[1]), "{sizes:?}");
        }
        assert_eq!(chunks(137).collect::<Vec<_>>(), vec![64, 64, 8, 1]);
    }

    #[test]
    fn placeholders_make_rows() {
        let mut s = String::new();
        placeholders(&mut s, 2, 3);
        assert_eq!(s, "(?, ?, ?), (?, ?, ?)");
    }
}
