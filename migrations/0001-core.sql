-- Core model: parties, agencies, mandates, sessions, token replay guard and the audit trail.

CREATE TABLE parties (
  id uuid PRIMARY KEY,
  kind text NOT NULL CHECK (kind IN ('person', 'organisation')),
  national_id text NOT NULL UNIQUE,
  name text,
  protected_identity boolean NOT NULL DEFAULT false,
  created_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE agencies (
  id text PRIMARY KEY CHECK (id ~ '^[a-z0-9][a-z0-9-]{1,62}$'),
  name text NOT NULL,
  services text[] NOT NULL,
  jwks jsonb NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE mandates (
  id uuid PRIMARY KEY,
  principal_id uuid NOT NULL REFERENCES parties (id),
  mode text NOT NULL CHECK (mode IN ('several', 'joint')),
  may_delegate boolean NOT NULL,
  valid_from timestamptz NOT NULL,
  valid_to timestamptz NOT NULL,
  state text NOT NULL CHECK (state IN ('pending', 'active', 'revoked')),
  parent_id uuid REFERENCES mandates (id),
  created_at timestamptz NOT NULL,
  created_by uuid NOT NULL REFERENCES parties (id),
  revoked_at timestamptz,
  revoked_by uuid REFERENCES parties (id),
  revoked_role text CHECK (revoked_role IN ('principal', 'agent', 'agency', 'delegator', 'official')),
  revoke_reason text,
  CHECK (valid_to > valid_from),
  CHECK ((state = 'revoked') = (revoked_at IS NOT NULL))
);
CREATE INDEX mandates_principal ON mandates (principal_id);
CREATE INDEX mandates_parent ON mandates (parent_id) WHERE parent_id IS NOT NULL;

CREATE TABLE mandate_agents (
  mandate_id uuid NOT NULL REFERENCES mandates (id),
  agent_id uuid NOT NULL REFERENCES parties (id),
  PRIMARY KEY (mandate_id, agent_id)
);
CREATE INDEX mandate_agents_agent ON mandate_agents (agent_id, mandate_id);

CREATE TABLE mandate_scopes (
  mandate_id uuid NOT NULL REFERENCES mandates (id),
  service text NOT NULL,
  permission text NOT NULL,
  max_amount bigint CHECK (max_amount > 0),
  PRIMARY KEY (mandate_id, service, permission)
);

CREATE TABLE sessions (
  id_hash text PRIMARY KEY,
  party_id uuid NOT NULL REFERENCES parties (id),
  method text NOT NULL,
  assurance smallint NOT NULL,
  created_at timestamptz NOT NULL,
  authenticated_at timestamptz NOT NULL,
  last_seen_at timestamptz NOT NULL,
  expires_at timestamptz NOT NULL
);
CREATE INDEX sessions_party ON sessions (party_id);

-- A client assertion's jti may be used once; rows may be purged after expires_at.
CREATE TABLE used_assertions (
  agency_id text NOT NULL,
  jti text NOT NULL,
  expires_at timestamptz NOT NULL,
  PRIMARY KEY (agency_id, jti)
);

-- The audit trail: append-only, each row carrying the hash of the one before it.
CREATE TABLE audit_events (
  seq bigint PRIMARY KEY,
  id uuid NOT NULL UNIQUE,
  at timestamptz NOT NULL,
  action text NOT NULL,
  actor jsonb NOT NULL,
  party_ids uuid[] NOT NULL,
  mandate_id uuid,
  data jsonb NOT NULL,
  prev_hash text NOT NULL,
  hash text NOT NULL
);
CREATE INDEX audit_events_parties ON audit_events USING gin (party_ids);
CREATE INDEX audit_events_mandate ON audit_events (mandate_id) WHERE mandate_id IS NOT NULL;

-- One row that every appender locks: it serialises the chain without reading the table's tail.
CREATE TABLE audit_head (
  singleton boolean PRIMARY KEY DEFAULT true CHECK (singleton),
  seq bigint NOT NULL,
  hash text NOT NULL
);
INSERT INTO audit_head (singleton, seq, hash) VALUES (true, 0, repeat('0', 64));

CREATE FUNCTION audit_events_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION 'audit_events is append-only';
END;
$$;
CREATE TRIGGER audit_events_no_update BEFORE UPDATE OR DELETE ON audit_events
  FOR EACH ROW EXECUTE FUNCTION audit_events_append_only();
CREATE TRIGGER audit_events_no_truncate BEFORE TRUNCATE ON audit_events
  FOR EACH STATEMENT EXECUTE FUNCTION audit_events_append_only();
