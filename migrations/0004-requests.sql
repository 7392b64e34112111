-- Requests from an agent to a principal, assisted registration by officials, agency
-- invalidation of mandates for their own services, and the notification outbox.

-- A request is open until the principal approves or declines it, the requester withdraws it,
-- or it expires (derived from expires_at, like a mandate's expiry).
CREATE TABLE mandate_requests (
  id uuid PRIMARY KEY,
  requester_id uuid NOT NULL REFERENCES parties (id),
  principal_id uuid NOT NULL REFERENCES parties (id),
  scopes jsonb NOT NULL,
  valid_from timestamptz,
  valid_to timestamptz NOT NULL,
  may_delegate boolean NOT NULL,
  message text,
  state text NOT NULL CHECK (state IN ('open', 'approved', 'declined', 'withdrawn')),
  created_at timestamptz NOT NULL,
  expires_at timestamptz NOT NULL,
  decided_at timestamptz,
  decline_reason text,
  mandate_id uuid REFERENCES mandates (id),
  CHECK ((state = 'open') = (decided_at IS NULL)),
  CHECK ((state = 'approved') = (mandate_id IS NOT NULL))
);
CREATE INDEX mandate_requests_requester ON mandate_requests (requester_id, created_at DESC);
CREATE INDEX mandate_requests_principal ON mandate_requests (principal_id, created_at DESC);
CREATE INDEX mandate_requests_declines ON mandate_requests (requester_id, principal_id, decided_at)
  WHERE state = 'declined';

-- A mandate an official registered for a principal who came to an office or sent a signed form.
CREATE TABLE mandate_registrations (
  mandate_id uuid PRIMARY KEY REFERENCES mandates (id),
  official_id uuid NOT NULL REFERENCES parties (id),
  reason text NOT NULL CHECK (length(reason) > 0),
  document_reference text NOT NULL CHECK (length(document_reference) > 0),
  registered_at timestamptz NOT NULL
);

-- An agency declares a mandate invalid for one of its own services; checks on that service deny.
CREATE TABLE mandate_invalidations (
  mandate_id uuid NOT NULL REFERENCES mandates (id),
  service text NOT NULL,
  agency_id text NOT NULL REFERENCES agencies (id),
  reason text NOT NULL CHECK (length(reason) > 0),
  invalidated_at timestamptz NOT NULL,
  PRIMARY KEY (mandate_id, service)
);

-- The outbox: rows are written in the transaction of the change they announce and delivered by
-- a worker. A row is claimed for a lease before delivery, so two workers never deliver it both.
CREATE TABLE notifications (
  id uuid PRIMARY KEY,
  recipient_id uuid NOT NULL REFERENCES parties (id),
  channel text NOT NULL CHECK (channel IN ('digital', 'letter')),
  kind text NOT NULL,
  data jsonb NOT NULL,
  -- Reminders are enqueued by a scan that runs again and again; the key makes each one unique.
  dedupe_key text UNIQUE,
  created_at timestamptz NOT NULL,
  state text NOT NULL CHECK (state IN ('pending', 'sent', 'failed')),
  attempts integer NOT NULL DEFAULT 0,
  next_attempt_at timestamptz NOT NULL,
  claimed_until timestamptz,
  claim_token uuid,
  sent_at timestamptz,
  last_error text,
  CHECK ((state = 'sent') = (sent_at IS NOT NULL))
);
CREATE INDEX notifications_due ON notifications (next_attempt_at) WHERE state = 'pending';
CREATE INDEX notifications_recipient ON notifications (recipient_id, created_at DESC);

-- The expiry reminder scan reads active mandates by the end of their window.
CREATE INDEX mandates_active_valid_to ON mandates (valid_to) WHERE state = 'active';
