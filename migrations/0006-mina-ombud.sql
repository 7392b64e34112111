-- Mina ombud compatibility: an agency is a "tredje man", known by its organisation number, and
-- may authenticate with a client secret (only its scrypt hash is kept) for the scopes it was given.
-- ID tokens its services sign about their end users are checked against its registered keys and,
-- when registered, against the expected issuer and audience.

ALTER TABLE agencies ADD COLUMN org_number text UNIQUE CHECK (org_number ~ '^[0-9]{10}$');
ALTER TABLE agencies ADD COLUMN client_secret_hash text;
ALTER TABLE agencies ADD COLUMN token_scopes text[] NOT NULL DEFAULT '{}';
ALTER TABLE agencies ADD COLUMN id_token_issuer text;
ALTER TABLE agencies ADD COLUMN id_token_audience text;
