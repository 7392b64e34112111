import { randomUUID } from 'node:crypto';
import type { Queryable } from '../db/database.ts';
import type { PartyRef, PartyType } from './schema.ts';

export interface Party {
  id: string;
  kind: PartyType;
  nationalId: string;
  name: string | null;
  protectedIdentity: boolean;
}

function toParty(row: {
  id: string;
  kind: PartyType;
  national_id: string;
  name: string | null;
  protected_identity: boolean;
}): Party {
  return {
    id: row.id,
    kind: row.kind,
    nationalId: row.national_id,
    name: row.name,
    protectedIdentity: row.protected_identity,
  };
}

const columns = ['id', 'kind', 'national_id', 'name', 'protected_identity'] as const;

export async function findPartyByRef(db: Queryable, ref: PartyRef): Promise<Party | undefined> {
  const row = await db
    .selectFrom('parties')
    .select(columns)
    .where('national_id', '=', ref.id)
    .where('kind', '=', ref.type)
    .executeTakeFirst();
  return row && toParty(row);
}

export async function findPartiesByIds(db: Queryable, ids: readonly string[]): Promise<Map<string, Party>> {
  if (ids.length === 0) return new Map();
  const rows = await db.selectFrom('parties').select(columns).where('id', 'in', [...new Set(ids)]).execute();
  return new Map(rows.map((r) => [r.id, toParty(r)]));
}

/** Every valid national id is a party; the row is made the first time it is named. */
export async function ensureParty(
  db: Queryable,
  ref: PartyRef,
  details: { name?: string | null; protectedIdentity?: boolean } = {},
): Promise<Party> {
  await db
    .insertInto('parties')
    .values({
      id: randomUUID(),
      kind: ref.type,
      national_id: ref.id,
      name: details.name ?? null,
      protected_identity: details.protectedIdentity ?? false,
    })
    .onConflict((oc) => oc.column('national_id').doNothing())
    .execute();
  const party = await findPartyByRef(db, ref);
  if (!party) throw new Error(`party ${ref.type} could not be stored`);
  return party;
}

export function refOf(party: Party): PartyRef {
  return { type: party.kind, id: party.nationalId };
}
