import type { Queryable } from '../db/database.ts';

export interface Invalidation {
  mandateId: string;
  service: string;
  agencyId: string;
  reason: string;
  invalidatedAt: Date;
}

export async function findInvalidations(db: Queryable, mandateId: string): Promise<Invalidation[]> {
  const rows = await db.selectFrom('mandate_invalidations').selectAll().where('mandate_id', '=', mandateId).orderBy('service').execute();
  return rows.map((r) => ({
    mandateId: r.mandate_id,
    service: r.service,
    agencyId: r.agency_id,
    reason: r.reason,
    invalidatedAt: r.invalidated_at,
  }));
}

export async function insertInvalidations(trx: Queryable, items: readonly Invalidation[]): Promise<void> {
  if (items.length === 0) return;
  await trx
    .insertInto('mandate_invalidations')
    .values(
      items.map((i) => ({
        mandate_id: i.mandateId,
        service: i.service,
        agency_id: i.agencyId,
        reason: i.reason,
        invalidated_at: i.invalidatedAt,
      })),
    )
    .execute();
}

/** Those of `mandateIds` that an agency has declared invalid for `service`. */
export async function invalidatedForService(db: Queryable, mandateIds: readonly string[], service: string): Promise<Set<string>> {
  if (mandateIds.length === 0) return new Set();
  const rows = await db
    .selectFrom('mandate_invalidations')
    .select('mandate_id')
    .where('service', '=', service)
    .where('mandate_id', 'in', [...new Set(mandateIds)])
    .execute();
  return new Set(rows.map((r) => r.mandate_id));
}
