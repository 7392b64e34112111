import type { JSONWebKeySet } from 'jose';
import type { Queryable } from '../db/database.ts';

export interface Agency {
  id: string;
  name: string;
  services: string[];
  jwks: JSONWebKeySet;
}

export async function findAgency(db: Queryable, id: string): Promise<Agency | undefined> {
  const row = await db.selectFrom('agencies').select(['id', 'name', 'services', 'jwks']).where('id', '=', id).executeTakeFirst();
  return row && { id: row.id, name: row.name, services: row.services, jwks: row.jwks as JSONWebKeySet };
}

export async function upsertAgency(db: Queryable, agency: Agency): Promise<void> {
  const values = { id: agency.id, name: agency.name, services: agency.services, jwks: JSON.stringify(agency.jwks) };
  await db
    .insertInto('agencies')
    .values(values)
    .onConflict((oc) => oc.column('id').doUpdateSet({ name: values.name, services: values.services, jwks: values.jwks }))
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
