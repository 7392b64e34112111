import type { Queryable } from '../db/database.ts';

export interface Registration {
  mandateId: string;
  officialId: string;
  reason: string;
  documentReference: string;
  registeredAt: Date;
}

export async function insertRegistration(trx: Queryable, r: Registration): Promise<void> {
  await trx
    .insertInto('mandate_registrations')
    .values({
      mandate_id: r.mandateId,
      official_id: r.officialId,
      reason: r.reason,
      document_reference: r.documentReference,
      registered_at: r.registeredAt,
    })
    .execute();
}

/** The registrations of those of `mandateIds` that an official registered. */
export async function findRegistrations(db: Queryable, mandateIds: readonly string[]): Promise<Map<string, Registration>> {
  if (mandateIds.length === 0) return new Map();
  const rows = await db
    .selectFrom('mandate_registrations')
    .selectAll()
    .where('mandate_id', 'in', [...new Set(mandateIds)])
    .execute();
  return new Map(
    rows.map((r) => [
      r.mandate_id,
      {
        mandateId: r.mandate_id,
        officialId: r.official_id,
        reason: r.reason,
        documentReference: r.document_reference,
        registeredAt: r.registered_at,
      },
    ]),
  );
}
