import { randomUUID } from 'node:crypto';
import type { Queryable } from '../db/database.ts';
import type { RegisterKind, RegisterName, SigningRule } from '../db/schema.ts';

export interface RegisterRow {
  representativeId: string;
  representedId: string;
  kind: RegisterKind;
  scope: string[];
  rule: SigningRule | null;
  validFrom: Date | null;
  validTo: Date | null;
}

/** Replaces what one source said in one register. */
export async function replaceRegisterRows(
  trx: Queryable,
  register: RegisterName,
  source: string,
  rows: readonly RegisterRow[],
  at: Date,
): Promise<number> {
  const removed = await trx.deleteFrom('register_entries').where('register', '=', register).where('source', '=', source).executeTakeFirst();
  if (rows.length > 0) {
    await trx
      .insertInto('register_entries')
      .values(
        rows.map((r) => ({
          id: randomUUID(),
          register,
          source,
          kind: r.kind,
          representative_id: r.representativeId,
          represented_id: r.representedId,
          scope: r.scope,
          signing_rule: r.rule,
          valid_from: r.validFrom,
          valid_to: r.validTo,
          imported_at: at,
        })),
      )
      .execute();
  }
  return Number(removed.numDeletedRows);
}

const columns = ['representative_id', 'represented_id', 'kind', 'scope', 'signing_rule', 'valid_from', 'valid_to'] as const;

function toRow(r: {
  representative_id: string;
  represented_id: string;
  kind: RegisterKind;
  scope: string[];
  signing_rule: SigningRule | null;
  valid_from: Date | null;
  valid_to: Date | null;
}): RegisterRow {
  return {
    representativeId: r.representative_id,
    representedId: r.represented_id,
    kind: r.kind,
    scope: r.scope,
    rule: r.signing_rule,
    validFrom: r.valid_from,
    validTo: r.valid_to,
  };
}

/** The signatories of an organisation in force at `at`. */
export async function findSignatories(db: Queryable, organisationId: string, at: Date): Promise<RegisterRow[]> {
  const rows = await db
    .selectFrom('register_entries')
    .select(columns)
    .where('represented_id', '=', organisationId)
    .where('kind', '=', 'signatory')
    .where((eb) => eb.or([eb('valid_from', 'is', null), eb('valid_from', '<=', at)]))
    .where((eb) => eb.or([eb('valid_to', 'is', null), eb('valid_to', '>', at)]))
    .execute();
  return rows.map(toRow);
}

/** What a person represents at `at` by the registers, optionally of one kind only. */
export async function findRepresentedBy(db: Queryable, representativeId: string, at: Date, kind?: RegisterKind): Promise<RegisterRow[]> {
  let q = db
    .selectFrom('register_entries')
    .select(columns)
    .where('representative_id', '=', representativeId)
    .where((eb) => eb.or([eb('valid_from', 'is', null), eb('valid_from', '<=', at)]))
    .where((eb) => eb.or([eb('valid_to', 'is', null), eb('valid_to', '>', at)]));
  if (kind) q = q.where('kind', '=', kind);
  return (await q.execute()).map(toRow);
}
