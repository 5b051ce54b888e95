-- Operators look events up by the provider's ID (Stripe's evt_..., a GitHub
-- delivery GUID) often without knowing the source: one index lookup then
-- too. With the source, the unique (source, provider_event_id) index serves.
CREATE INDEX events_provider_event_id ON events (provider_event_id);
