-- Real sign-in: sessions that can be listed and ended one by one, the time of the last strong
-- sign-in for step-up, OpenID Connect flows in progress, passkeys and their one-time challenges,
-- and agencies that publish their keys at a JWKS URL instead of registering them.

ALTER TABLE sessions ADD COLUMN public_id uuid NOT NULL DEFAULT gen_random_uuid();
ALTER TABLE sessions ADD COLUMN strong_at timestamptz;
ALTER TABLE sessions ADD COLUMN user_agent text;
CREATE UNIQUE INDEX sessions_public_id ON sessions (public_id);

-- An authorization request in flight: only hashes of the browser-bound flow id are kept,
-- next to the state, nonce and PKCE verifier it must be completed with. Used once.
CREATE TABLE oidc_flows (
  flow_hash text PRIMARY KEY,
  state text NOT NULL,
  nonce text NOT NULL,
  code_verifier text NOT NULL,
  return_to text NOT NULL,
  expires_at timestamptz NOT NULL
);

CREATE TABLE passkeys (
  id uuid PRIMARY KEY,
  party_id uuid NOT NULL REFERENCES parties (id),
  credential_id text NOT NULL UNIQUE,
  public_key text NOT NULL,
  -- The authenticator's signature counter is an unsigned 32-bit number.
  counter bigint NOT NULL CHECK (counter >= 0 AND counter <= 4294967295),
  transports text[] NOT NULL DEFAULT '{}',
  name text NOT NULL,
  assurance smallint NOT NULL,
  backed_up boolean NOT NULL,
  created_at timestamptz NOT NULL,
  last_used_at timestamptz
);
CREATE INDEX passkeys_party ON passkeys (party_id);

-- A WebAuthn challenge is bound to the session (registration) or to the ceremony cookie
-- (authentication) it was issued to, lives briefly and is deleted when used.
CREATE TABLE webauthn_challenges (
  challenge text PRIMARY KEY,
  kind text NOT NULL CHECK (kind IN ('registration', 'authentication')),
  binding_hash text NOT NULL,
  party_id uuid REFERENCES parties (id),
  expires_at timestamptz NOT NULL
);

ALTER TABLE agencies ADD COLUMN jwks_url text CHECK (jwks_url ~ '^https?://');
