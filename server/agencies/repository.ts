import type { JSONWebKeySet } from 'jose';
import type { Queryable } from '../db/database.ts';

export interface Agency {
  id: string;
  name: string;
  services: string[];
  jwks: JSONWebKeySet;
  /** Where the agency publishes its keys, instead of `jwks` (which is then empty). */
  jwksUrl?: string | null;
  /** Organisation number: how the Mina ombud API names the agency ("tredje man"). */
  orgNumber?: string | null;
  /** scrypt hash of the client secret, for agencies that authenticate with one. */
  clientSecretHash?: string | null;
  /** OAuth scopes the agency may ask for (e.g. `user:self`); none by default. */
  tokenScopes?: string[];
  /** Expected `iss` and `aud` of the ID tokens its services send about end users, when registered. */
  idTokenIssuer?: string | null;
  idTokenAudience?: string | null;
}

const columns = [
  'id',
  'name',
  'services',
  'jwks',
  'org_number',
  'client_secret_hash',
  'token_scopes',
  'id_token_issuer',
  'id_token_audience',
  'jwks_url',
] as const;

function toAgency(row: {
  id: string;
  name: string;
  services: string[];
  jwks: unknown;
  org_number: string | null;
  client_secret_hash: string | null;
  token_scopes: string[];
  id_token_issuer: string | null;
  id_token_audience: string | null;
  jwks_url: string | null;
}): Agency {
  return {
    id: row.id,
    name: row.name,
    services: row.services,
    jwks: row.jwks as JSONWebKeySet,
    orgNumber: row.org_number,
    clientSecretHash: row.client_secret_hash,
    tokenScopes: row.token_scopes,
    idTokenIssuer: row.id_token_issuer,
    idTokenAudience: row.id_token_audience,
    jwksUrl: row.jwks_url,
  };
}

export async function findAgency(db: Queryable, id: string): Promise<Agency | undefined> {
  const row = await db.selectFrom('agencies').select(columns).where('id', '=', id).executeTakeFirst();
  return row && toAgency(row);
}

export async function findAgencyByOrgNumber(db: Queryable, orgNumber: string): Promise<Agency | undefined> {
  const row = await db.selectFrom('agencies').select(columns).where('org_number', '=', orgNumber).executeTakeFirst();
  return row && toAgency(row);
}

/**
 * Inserts or replaces an agency. Name, services and keys are always replaced; the Mina ombud
 * settings only when given, so re-registering keys does not drop a client secret.
 */
export async function upsertAgency(db: Queryable, agency: Agency): Promise<void> {
  const optional = {
    ...(agency.orgNumber !== undefined ? { org_number: agency.orgNumber } : {}),
    ...(agency.clientSecretHash !== undefined ? { client_secret_hash: agency.clientSecretHash } : {}),
    ...(agency.tokenScopes !== undefined ? { token_scopes: agency.tokenScopes } : {}),
    ...(agency.idTokenIssuer !== undefined ? { id_token_issuer: agency.idTokenIssuer } : {}),
    ...(agency.idTokenAudience !== undefined ? { id_token_audience: agency.idTokenAudience } : {}),
  };
  const values = {
    id: agency.id,
    name: agency.name,
    services: agency.services,
    jwks: JSON.stringify(agency.jwks),
    jwks_url: agency.jwksUrl ?? null,
  };
  await db
    .insertInto('agencies')
    .values({ ...values, ...optional })
    .onConflict((oc) =>
      oc.column('id').doUpdateSet({ name: values.name, services: values.services, jwks: values.jwks, jwks_url: values.jwks_url, ...optional }),
    )
    .execute();
}

export async function listAgencyNames(db: Queryable, ids: readonly string[]): Promise<Map<string, string>> {
  if (ids.length === 0) return new Map();
  const rows = await db.selectFrom('agencies').select(['id', 'name']).where('id', 'in', [...new Set(ids)]).execute();
  return new Map(rows.map((r) => [r.id, r.name]));
}

/** Records an assertion id; false when it was seen before (a replay). */
export async function recordAssertion(db: Queryable, agencyId: string, jti: string, expiresAt: Date): Promise<boolean> {
  await db.deleteFrom('used_assertions').where('expires_at', '<', new Date(Date.now() - 60_000)).execute();
  const inserted = await db
    .insertInto('used_assertions')
    .values({ agency_id: agencyId, jti, expires_at: expiresAt })
    .onConflict((oc) => oc.columns(['agency_id', 'jti']).doNothing())
    .returning('jti')
    .executeTakeFirst();
  return inserted !== undefined;
}
