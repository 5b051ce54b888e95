//! The SQL both backends share. Placeholders are `$n`, which SQLite also
//! understands.
//!
//! Batched writes use multi-row statements. Their text depends on the row
//! count, so batches are cut into power-of-two chunks (`chunks`) and each
//! size's text is built once (`Multi`): the connections' prepared-statement
//! caches then hold a handful of statements, not one per batch size.

use std::sync::OnceLock;

/// Rows in the largest multi-row chunk.
pub const CHUNK_MAX: usize = 64;
const SIZES: usize = CHUNK_MAX.trailing_zeros() as usize + 1;

/// How a backend's multi-row statements spell their parameters.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Params {
    /// `$1, $2, ...` (Postgres).
    Numbered,
    /// `?, ?, ...` in order (SQLite): SQLite finds a named parameter by a
    /// linear scan, and sqlx asks for every parameter's name, which makes a
    /// statement of n numbered parameters cost O(n^2) to bind.
    Anonymous,
}

/// A multi-row statement: `head`, then `rows` tuples of `cols` parameters,
/// then `tail`, with its text cached per power-of-two row count. Every
/// parameter appears once, in order, so both spellings bind alike.
pub struct Multi {
    head: &'static str,
    cols: usize,
    tail: &'static str,
    numbered: [OnceLock<String>; SIZES],
    anonymous: [OnceLock<String>; SIZES],
}

impl Multi {
    pub const fn new(head: &'static str, cols: usize, tail: &'static str) -> Multi {
        Multi {
            head,
            cols,
            tail,
            numbered: [const { OnceLock::new() }; SIZES],
            anonymous: [const { OnceLock::new() }; SIZES],
        }
    }

    /// The statement for `rows` rows (a power of two up to [`CHUNK_MAX`]).
    pub fn text(&self, rows: usize, params: Params) -> &str {
        debug_assert!(rows.is_power_of_two() && rows <= CHUNK_MAX);
        let cache = match params {
            Params::Numbered => &self.numbered,
            Params::Anonymous => &self.anonymous,
        };
        cache[rows.trailing_zeros() as usize].get_or_init(|| {
            let tuples: Vec<String> = (0..rows)
                .map(|r| match params {
                    Params::Numbered => placeholders(1 + r * self.cols, self.cols),
                    Params::Anonymous => format!("({})", vec!["?"; self.cols].join(", ")),
                })
                .collect();
            format!("{}{}{}", self.head, tuples.join(", "), self.tail)
        })
    }
}

/// `items` cut into chunks of power-of-two sizes, largest first, none above
/// [`CHUNK_MAX`].
pub fn chunks<T>(mut items: &[T]) -> impl Iterator<Item = &[T]> {
    std::iter::from_fn(move || {
        if items.is_empty() {
            return None;
        }
        let n = items.len().min(CHUNK_MAX);
        let size = 1 << (usize::BITS - 1 - n.leading_zeros());
        let (chunk, rest) = items.split_at(size);
        items = rest;
        Some(chunk)
    })
}

/// The ordering rule, for the claim's candidate `d` (`$3` = now): a
/// delivery without an ordering key is always free; one with a key only
/// when no other pending delivery of its target has that key and either
/// came first (a lower ID: IDs follow ingest order) or is leased now. So
/// the deliveries of one key go out one at a time in ingest order, also
/// across processes, while an earlier one waits for a retry, and a dead or
/// cancelled one (no longer pending) releases the key. Answered from the
/// `deliveries_ordering` index.
macro_rules! key_free {
    () => {
        "(d.ordering_key IS NULL OR NOT EXISTS (SELECT 1 FROM deliveries p \
         WHERE p.target = d.target AND p.ordering_key = d.ordering_key \
         AND p.status = 'pending' AND p.id <> d.id AND (p.id < d.id OR p.locked_until > $3)))"
    };
}
pub(crate) use key_free;

/// New events (a key already stored, or repeated earlier in the
/// statement, inserts nothing). It returns no rows: when fewer rows were
/// inserted than sent, [`INSERTED_EVENTS`] says which (every event ID is new).
pub static INSERT_EVENTS: Multi = Multi::new(
    "INSERT INTO events (id, source, provider_event_id, event_type, body_sha256, body, \
     headers, content_type, received_at, routed, route_errors) VALUES ",
    11,
    " ON CONFLICT (source, provider_event_id) DO NOTHING",
);

/// Which of the listed event IDs are stored (append the ID list).
pub const INSERTED_EVENTS: &str = "SELECT id FROM events WHERE id IN ";

/// New pending deliveries: (id, event_id, target, created_at, ordering_key).
pub static INSERT_DELIVERIES: Multi = Multi::new(
    "INSERT INTO deliveries (id, event_id, target, status, attempts, next_attempt_at, \
     locked_until, created_at, updated_at, ordering_key) \
     SELECT column1, column2, column3, 'pending', 0, column4, 0, column4, column4, column5 FROM (VALUES ",
    5,
    ") AS v",
);

/// The update of attempt outcomes, `$tail` after its `WHERE`: (id, owner,
/// status, next_attempt_at, status_code, error, finished_at). Only
/// deliveries whose lease is still held by that owner are updated.
macro_rules! record_deliveries {
    ($tail:literal) => {
        Multi::new(
            "UPDATE deliveries SET status = v.column3, next_attempt_at = v.column4, \
             locked_until = 0, lock_owner = NULL, last_status_code = v.column5, \
             last_error = v.column6, updated_at = v.column7, \
             delivered_at = CASE WHEN v.column3 = 'delivered' THEN v.column7 ELSE deliveries.delivered_at END \
             FROM (VALUES ",
            7,
            concat!(
                ") AS v WHERE deliveries.id = v.column1 AND deliveries.lock_owner = v.column2 \
                 AND deliveries.status = 'pending'",
                $tail
            ),
        )
    };
}

/// Attempt outcomes; the IDs of the deliveries updated are returned.
pub static RECORD_DELIVERIES: Multi = record_deliveries!(" RETURNING deliveries.id");

/// [`RECORD_DELIVERIES`] without its rows, for a batch whose leases are
/// all known to be held ([`LEASES_HELD`]).
pub static RECORD_HELD_DELIVERIES: Multi = record_deliveries!("");

/// How many of the (id, owner) pairs are pending deliveries leased by that
/// owner.
pub static LEASES_HELD: Multi = Multi::new(
    "SELECT COUNT(*) FROM deliveries d JOIN (VALUES ",
    2,
    ") AS v ON d.id = v.column1 AND d.lock_owner = v.column2 AND d.status = 'pending'",
);

/// Attempt rows: (delivery_id, attempt, started_at, duration_ms,
/// status_code, error, response_excerpt, outcome, transformed_by).
pub static INSERT_ATTEMPTS: Multi = Multi::new(
    "INSERT INTO attempts (delivery_id, attempt, started_at, duration_ms, status_code, error, \
     response_excerpt, outcome, transformed_by) VALUES ",
    9,
    "",
);

pub const FIND_BY_KEY: &str =
    "SELECT id, body_sha256, routed FROM events WHERE source = $1 AND provider_event_id = $2";
pub const INSERT_CONFLICT: &str = "INSERT INTO conflicts (id, source, provider_event_id, \
    event_id, stored_sha256, received_sha256, body, headers, received_at) \
    VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)";
pub const CLAIMED_ROWS: &str = "SELECT d.id AS delivery_id, d.event_id, d.target, \
    d.attempts AS attempt, e.source, e.event_type, e.provider_event_id, e.content_type, e.body, \
    e.headers \
    FROM deliveries d JOIN events e ON e.id = d.event_id \
    WHERE d.lock_owner = $1 AND d.id IN ";
pub const RELEASE: &str = "UPDATE deliveries SET locked_until = 0, lock_owner = NULL, \
    attempts = attempts - 1 WHERE lock_owner = $1 AND status = 'pending' AND id IN ";
pub const BACKLOG: &str = "SELECT target, COUNT(*) AS pending, MIN(created_at) AS \
    oldest_created_at FROM deliveries WHERE status = 'pending' GROUP BY target";
/// One target's pending count, counted no further than `$2` index entries,
/// and the creation time of its oldest pending delivery (the smallest ID,
/// IDs being time-ordered: one seek, then one row by primary key). Both
/// walk only the `(status, target, id)` index, so the cost of a scrape
/// stays bounded however long the backlog grows.
pub const TARGET_BACKLOG: &str = "SELECT (SELECT COUNT(*) FROM (SELECT 1 FROM deliveries \
    WHERE status = 'pending' AND target = $1 LIMIT $2) AS counted) AS pending, \
    (SELECT created_at FROM deliveries WHERE id = (SELECT MIN(id) FROM deliveries \
    WHERE status = 'pending' AND target = $1)) AS oldest_created_at";
pub const EVENT: &str = "SELECT id, source, provider_event_id, event_type, body_sha256, body, \
    headers, content_type, received_at, routed, route_errors FROM events WHERE id = $1";
pub const DELIVERIES_OF: &str = "SELECT d.id, d.event_id, d.target, d.status, d.attempts, \
    d.next_attempt_at, d.last_status_code, d.last_error, d.created_at, d.updated_at, \
    d.delivered_at, d.ordering_key FROM deliveries d WHERE d.event_id = $1 ORDER BY d.id";
pub const ATTEMPTS_OF: &str = "SELECT a.delivery_id, a.attempt, a.started_at, a.duration_ms, \
    a.status_code, a.error, a.response_excerpt, a.outcome, a.transformed_by FROM attempts a \
    JOIN deliveries d ON d.id = a.delivery_id WHERE d.event_id = $1 ORDER BY a.id";
/// The status of event `e`, from its deliveries: the one place the rule
/// described in [`super::status`] is written. The events list filters and
/// pages on it, so it must be SQL; one event's detail asks the same
/// expression ([`EVENT_STATUS`]) rather than restating it in Rust.
macro_rules! event_status {
    () => {
        "CASE WHEN EXISTS (SELECT 1 FROM deliveries d WHERE d.event_id = e.id AND d.status = 'dead') \
    THEN 'failed' \
    WHEN EXISTS (SELECT 1 FROM deliveries d WHERE d.event_id = e.id AND d.status = 'pending') \
    THEN 'pending' \
    WHEN EXISTS (SELECT 1 FROM deliveries d WHERE d.event_id = e.id AND d.status = 'delivered') \
    THEN 'delivered' \
    WHEN EXISTS (SELECT 1 FROM deliveries d WHERE d.event_id = e.id) THEN 'cancelled' \
    ELSE 'unrouted' END"
    };
}
pub const EVENT_STATUS: &str = concat!(
    "SELECT ",
    event_status!(),
    " AS status FROM events e WHERE e.id = $1"
);
/// The events list; `$extra` narrows it further (the provider-ID lookup).
macro_rules! list_events {
    ($extra:literal) => {
        concat!(
            "SELECT * FROM (SELECT e.id, e.source, e.provider_event_id, \
    e.event_type, e.received_at, CAST(LENGTH(e.body) AS BIGINT) AS size, ",
            event_status!(),
            " AS status \
    FROM events e \
    WHERE (CAST($1 AS TEXT) IS NULL OR e.source = $1) \
    AND (CAST($2 AS TEXT) IS NULL OR e.event_type LIKE $2 ESCAPE '\\') \
    AND (CAST($3 AS BIGINT) IS NULL OR e.received_at >= $3) \
    AND (CAST($4 AS BIGINT) IS NULL OR e.received_at < $4) \
    AND (CAST($5 AS TEXT) IS NULL OR e.id < $5) ",
            $extra,
            ") x \
    WHERE (CAST($6 AS TEXT) IS NULL OR x.status = $6) \
    ORDER BY x.id DESC LIMIT $7"
        )
    };
}
pub const LIST_EVENTS: &str = list_events!("");
/// An equality on `provider_event_id` alone, so it is one index lookup
/// (`events_provider_event_id`, or the unique key with the source).
pub const LIST_EVENTS_BY_PROVIDER_ID: &str = list_events!("AND e.provider_event_id = $8 ");
pub const LIST_DELIVERIES: &str = "SELECT d.id, d.event_id, d.target, d.status, d.attempts, \
    d.next_attempt_at, d.last_status_code, d.last_error, d.created_at, d.updated_at, \
    d.delivered_at, d.ordering_key FROM deliveries d \
    WHERE (CAST($1 AS TEXT) IS NULL OR d.status = $1) \
    AND (CAST($2 AS TEXT) IS NULL OR d.target = $2) \
    AND (CAST($3 AS TEXT) IS NULL OR d.id < $3) \
    ORDER BY d.id DESC LIMIT $4";
pub const LIST_CONFLICTS: &str = "SELECT id, source, provider_event_id, event_id, \
    stored_sha256, received_sha256, received_at FROM conflicts \
    WHERE (CAST($1 AS TEXT) IS NULL OR source = $1) AND (CAST($2 AS TEXT) IS NULL OR id < $2) \
    ORDER BY id DESC LIMIT $3";
pub const RETRY_ONE: &str = "UPDATE deliveries SET status = 'pending', attempts = 0, \
    next_attempt_at = $2, locked_until = 0, lock_owner = NULL, updated_at = $2 \
    WHERE id = $1 AND status = 'dead'";
pub const DELIVERY_STATUS: &str = "SELECT status FROM deliveries WHERE id = $1";
pub const SOURCE_COUNTS: &str = "SELECT source AS key, 'events' AS sub, COUNT(*) AS count \
    FROM events GROUP BY source UNION ALL \
    SELECT source AS key, 'conflicts' AS sub, COUNT(*) AS count FROM conflicts GROUP BY source";
pub const DELIVERY_COUNTS: &str = "SELECT target AS key, status AS sub, COUNT(*) AS count \
    FROM deliveries GROUP BY target, status";
pub const ATTEMPT_TOTALS: &str = "SELECT d.target, COUNT(*) AS attempts, \
    CAST(SUM(CASE WHEN a.outcome = 'delivered' THEN 1 ELSE 0 END) AS BIGINT) AS succeeded \
    FROM attempts a JOIN deliveries d ON d.id = a.delivery_id GROUP BY d.target";
pub const LAST_ERROR: &str = "SELECT a.error, a.status_code, a.started_at AS at \
    FROM attempts a JOIN deliveries d ON d.id = a.delivery_id \
    WHERE d.target = $1 AND a.outcome <> 'delivered' ORDER BY a.id DESC LIMIT 1";
pub const PRUNE_EVENTS: &str = "DELETE FROM events WHERE id IN (SELECT e.id FROM events e \
    WHERE e.received_at < $1 AND NOT EXISTS (SELECT 1 FROM deliveries d \
    WHERE d.event_id = e.id AND d.status = 'pending') ORDER BY e.received_at LIMIT $2)";
pub const PRUNE_CONFLICTS: &str = "DELETE FROM conflicts WHERE id IN (SELECT id FROM conflicts \
    WHERE received_at < $1 ORDER BY received_at LIMIT $2)";
pub const COUNTS: &str = "SELECT (SELECT COUNT(*) FROM events), \
    (SELECT COUNT(*) FROM deliveries), (SELECT COUNT(*) FROM attempts), \
    (SELECT COUNT(*) FROM conflicts)";

/// Deliveries in status `$1` matching a [`super::DeliveryMatch`] (`$2` to
/// `$7`). The event side is a primary-key lookup per delivery, so the cost
/// follows the (indexed) deliveries in that status.
macro_rules! matching {
    () => {
        "deliveries.status = $1 \
        AND (CAST($2 AS TEXT) IS NULL OR deliveries.target = $2) \
        AND (CAST($3 AS TEXT) IS NULL OR deliveries.event_id = $3) \
        AND EXISTS (SELECT 1 FROM events e WHERE e.id = deliveries.event_id \
        AND (CAST($4 AS TEXT) IS NULL OR e.source = $4) \
        AND (CAST($5 AS TEXT) IS NULL OR e.event_type LIKE $5 ESCAPE '\\') \
        AND (CAST($6 AS BIGINT) IS NULL OR e.received_at >= $6) \
        AND (CAST($7 AS BIGINT) IS NULL OR e.received_at < $7))"
    };
}
pub const COUNT_MATCHING: &str = concat!("SELECT COUNT(*) FROM deliveries WHERE ", matching!());
pub const RETRY_MATCHING: &str = concat!(
    "UPDATE deliveries SET status = 'pending', attempts = 0, next_attempt_at = $8, \
    locked_until = 0, lock_owner = NULL, updated_at = $8 WHERE ",
    matching!()
);
/// A leased delivery is cancelled too: its attempt under way finishes, but
/// finds the delivery no longer pending and is not recorded.
pub const CANCEL_MATCHING: &str = concat!(
    "UPDATE deliveries SET status = 'cancelled', next_attempt_at = $8, \
    locked_until = 0, lock_owner = NULL, updated_at = $8 WHERE ",
    matching!()
);
pub const TARGET_STATES: &str = super::targets::sql::STATES;
pub const BLOCKED_KEYS: &str = super::targets::sql::BLOCKED_KEYS;
pub const CONFLICT: &str = "SELECT id, source, provider_event_id, event_id, stored_sha256, \
    received_sha256, body, headers, received_at FROM conflicts WHERE id = $1";

/// A `*` glob (the admin API's event-type filter) as the `LIKE` pattern
/// the queries above bind, with `\` as the escape character so `%`, `_`
/// and `\` in the glob match only themselves.
pub fn like_pattern(glob: &str) -> String {
    let mut out = String::with_capacity(glob.len());
    for c in glob.chars() {
        match c {
            '*' => out.push('%'),
            '%' | '_' | '\\' => {
                out.push('\\');
                out.push(c);
            }
            c => out.push(c),
        }
    }
    out
}

/// `($first, $first+1, ...)` for an `IN` list of `n` values.
pub fn placeholders(first: usize, n: usize) -> String {
    let list: Vec<String> = (first..first + n).map(|i| format!("${i}")).collect();
    format!("({})", list.join(", "))
}

/// Readiness probe: a one-row upsert that must reach the disk to commit.
pub const HEARTBEAT: &str = "INSERT INTO heartbeat (id, at) VALUES (1, $1) \
    ON CONFLICT (id) DO UPDATE SET at = excluded.at";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chunks_are_powers_of_two_largest_first_and_cover_everything() {
        for n in 0..300usize {
            let items: Vec<usize> = (0..n).collect();
            let sizes: Vec<usize> = chunks(&items).map(<[usize]>::len).collect();
            assert_eq!(sizes.iter().sum::<usize>(), n, "{n}: every item once");
            assert!(sizes.iter().all(|s| s.is_power_of_two() && *s <= CHUNK_MAX));
            assert!(sizes.windows(2).all(|w| w[0] >= w[1]), "{n}: {sizes:?}");
            let flat: Vec<usize> = chunks(&items).flatten().copied().collect();
            assert_eq!(flat, items, "{n}: in order");
        }
    }

    #[test]
    fn globs_become_escaped_like_patterns() {
        assert_eq!(like_pattern("invoice.*"), "invoice.%");
        assert_eq!(like_pattern("a_b%c\\d*"), "a\\_b\\%c\\\\d%");
    }

    #[test]
    fn multi_row_text_has_one_tuple_per_row() {
        let text = INSERT_ATTEMPTS.text(4, Params::Numbered);
        assert!(
            text.ends_with("($28, $29, $30, $31, $32, $33, $34, $35, $36)"),
            "{text}"
        );
        assert_eq!(text.matches('(').count(), 1 + 4);
        // Cached: the same text each time.
        assert!(std::ptr::eq(
            text,
            INSERT_ATTEMPTS.text(4, Params::Numbered)
        ));
        let anonymous = INSERT_ATTEMPTS.text(4, Params::Anonymous);
        assert_eq!(anonymous.matches('?').count(), 4 * 9);
        assert!(!anonymous.contains('$'), "{anonymous}");
    }
}
