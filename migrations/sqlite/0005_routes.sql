-- Routes with jq expressions. An event keeps the errors its route
-- expressions raised (a JSON array, NULL when none), a delivery keeps the
-- ordering key its route computed at ingest, and an attempt names the route
-- whose transform shaped the body it sent.
ALTER TABLE events ADD COLUMN route_errors TEXT;
ALTER TABLE deliveries ADD COLUMN ordering_key TEXT;
ALTER TABLE attempts ADD COLUMN transformed_by TEXT;
