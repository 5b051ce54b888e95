-- Room on each page of the outbox for the new row version a lease writes.
-- A claim changes no indexed column (locked_until, lock_owner, attempts,
-- updated_at), so with free space on the page Postgres updates the row in
-- place (a HOT update) instead of adding an entry to every index of the
-- table for every lease; under steady ingest that churn at the head of the
-- due index is what the next claim has to walk through.
ALTER TABLE deliveries SET (fillfactor = 70);
