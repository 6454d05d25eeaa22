-- Attempts that met only an outage (a store unreachable): counted apart, they do not spend the retry budget.
ALTER TABLE audio_transfers ADD COLUMN outages integer NOT NULL DEFAULT 0;
