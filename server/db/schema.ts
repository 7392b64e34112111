import type { ColumnType, Generated } from 'kysely';

/** Row types of the tables in migrations/; only repositories use them. */
export interface PartiesTable {
  id: string;
  kind: 'person' | 'organisation';
  national_id: string;
  name: string | null;
  protected_identity: ColumnType<boolean, boolean | undefined, boolean>;
  created_at: Generated<Date>;
}

export interface AgenciesTable {
  id: string;
  name: string;
  services: string[];
  jwks: ColumnType<unknown, string, string>;
  created_at: Generated<Date>;
  org_number: ColumnType<string | null, string | null | undefined, string | null>;
  client_secret_hash: ColumnType<string | null, string | null | undefined, string | null>;
  token_scopes: ColumnType<string[], string[] | undefined, string[]>;
  id_token_issuer: ColumnType<string | null, string | null | undefined, string | null>;
  id_token_audience: ColumnType<string | null, string | null | undefined, string | null>;
  jwks_url: ColumnType<string | null, string | null | undefined, string | null>;
}

export interface MandatesTable {
  id: string;
  principal_id: string;
  mode: 'several' | 'joint';
  may_delegate: boolean;
  valid_from: Date;
  valid_to: Date;
  state: 'pending' | 'active' | 'revoked';
  parent_id: string | null;
  created_at: Date;
  created_by: string;
  revoked_at: Date | null;
  revoked_by: string | null;
  revoked_role: RevokedRole | null;
  revoke_reason: string | null;
}

export type RevokedRole = 'principal' | 'agent' | 'agency' | 'delegator' | 'official';

export interface MandateAgentsTable {
  mandate_id: string;
  agent_id: string;
}

export interface MandateScopesTable {
  mandate_id: string;
  service: string;
  permission: string;
  max_amount: number | null;
}

export type RegisterName = 'population' | 'trustee' | 'company';
export type RegisterKind = 'guardian' | 'trustee' | 'signatory';
export type SigningRule = 'alone' | 'jointly';

export interface RegisterEntriesTable {
  id: string;
  register: RegisterName;
  source: string;
  kind: RegisterKind;
  representative_id: string;
  represented_id: string;
  scope: string[];
  signing_rule: SigningRule | null;
  valid_from: Date | null;
  valid_to: Date | null;
  imported_at: Date;
}

export interface MandateApprovalsTable {
  mandate_id: string;
  signatory_id: string;
  approved_at: Date | null;
}

export interface SessionsTable {
  id_hash: string;
  party_id: string;
  method: string;
  assurance: number;
  created_at: Date;
  authenticated_at: Date;
  last_seen_at: Date;
  expires_at: Date;
  public_id: Generated<string>;
  strong_at: Date | null;
  user_agent: string | null;
}

export interface OidcFlowsTable {
  flow_hash: string;
  state: string;
  nonce: string;
  code_verifier: string;
  return_to: string;
  expires_at: Date;
}

export interface PasskeysTable {
  id: string;
  party_id: string;
  credential_id: string;
  public_key: string;
  /** bigint: pg hands it back as a string, PGlite as a number; the repository normalises. */
  counter: ColumnType<string | number, number, number>;
  transports: string[];
  name: string;
  assurance: number;
  backed_up: boolean;
  created_at: Date;
  last_used_at: Date | null;
}

export interface WebauthnChallengesTable {
  challenge: string;
  kind: 'registration' | 'authentication';
  binding_hash: string;
  party_id: string | null;
  expires_at: Date;
}

export interface UsedAssertionsTable {
  agency_id: string;
  jti: string;
  expires_at: Date;
}

export interface AuditEventsTable {
  seq: number;
  id: string;
  at: Date;
  action: string;
  actor: ColumnType<unknown, string, never>;
  party_ids: string[];
  mandate_id: string | null;
  data: ColumnType<unknown, string, never>;
  prev_hash: string;
  hash: string;
}

export interface AuditHeadTable {
  singleton: boolean;
  seq: number;
  hash: string;
}

export interface MandateRequestsTable {
  id: string;
  requester_id: string;
  principal_id: string;
  scopes: ColumnType<unknown, string, never>;
  valid_from: Date | null;
  valid_to: Date;
  may_delegate: boolean;
  message: string | null;
  state: 'open' | 'approved' | 'declined' | 'withdrawn';
  created_at: Date;
  expires_at: Date;
  decided_at: Date | null;
  decline_reason: string | null;
  mandate_id: string | null;
}

export interface MandateRegistrationsTable {
  mandate_id: string;
  official_id: string;
  reason: string;
  document_reference: string;
  registered_at: Date;
}

export interface MandateInvalidationsTable {
  mandate_id: string;
  service: string;
  agency_id: string;
  reason: string;
  invalidated_at: Date;
}

export interface NotificationsTable {
  id: string;
  recipient_id: string;
  channel: 'digital' | 'letter';
  kind: string;
  data: ColumnType<unknown, string, never>;
  dedupe_key: string | null;
  created_at: Date;
  state: 'pending' | 'sent' | 'failed';
  attempts: ColumnType<number, number | undefined, number>;
  next_attempt_at: Date;
  claimed_until: Date | null;
  claim_token: string | null;
  sent_at: Date | null;
  last_error: string | null;
}

export interface MandateRemindersTable {
  mandate_id: string;
  days: number;
  enqueued_at: Date;
}

export interface DB {
  parties: PartiesTable;
  agencies: AgenciesTable;
  mandates: MandatesTable;
  mandate_agents: MandateAgentsTable;
  mandate_scopes: MandateScopesTable;
  mandate_approvals: MandateApprovalsTable;
  register_entries: RegisterEntriesTable;
  sessions: SessionsTable;
  oidc_flows: OidcFlowsTable;
  passkeys: PasskeysTable;
  webauthn_challenges: WebauthnChallengesTable;
  used_assertions: UsedAssertionsTable;
  audit_events: AuditEventsTable;
  audit_head: AuditHeadTable;
  mandate_requests: MandateRequestsTable;
  mandate_registrations: MandateRegistrationsTable;
  mandate_invalidations: MandateInvalidationsTable;
  notifications: NotificationsTable;
  mandate_reminders: MandateRemindersTable;
}
