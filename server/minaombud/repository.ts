import type { Queryable } from '../db/database.ts';

export interface VisibleFilter {
  /** The agency's services: a mandate is visible when it names at least one of them. */
  services: readonly string[];
  agentId?: string;
  principalId?: string;
  /** `null`: only mandates given directly by the principal; an id: only those passed on from it. */
  parentId?: string | null;
}

/** Ids of registered (not pending) mandates that an agency may see, narrowed by the parties. */
export async function findVisibleMandateIds(db: Queryable, filter: VisibleFilter): Promise<string[]> {
  if (filter.services.length === 0) return [];
  let q = db
    .selectFrom('mandates as m')
    .select('m.id')
    .where('m.state', '<>', 'pending')
    .where((eb) =>
      eb.exists(
        eb
          .selectFrom('mandate_scopes as s')
          .select('s.mandate_id')
          .whereRef('s.mandate_id', '=', 'm.id')
          .where('s.service', 'in', [...filter.services]),
      ),
    );
  if (filter.principalId !== undefined) q = q.where('m.principal_id', '=', filter.principalId);
  if (filter.agentId !== undefined) {
    const agentId = filter.agentId;
    q = q.where((eb) =>
      eb.exists(
        eb.selectFrom('mandate_agents as a').select('a.mandate_id').whereRef('a.mandate_id', '=', 'm.id').where('a.agent_id', '=', agentId),
      ),
    );
  }
  if (filter.parentId === null) q = q.where('m.parent_id', 'is', null);
  else if (filter.parentId !== undefined) q = q.where('m.parent_id', '=', filter.parentId);
  return (await q.execute()).map((r) => r.id);
}

/** Which of `ids` have been passed on (sub-delegated) at least once. */
export async function findPassedOn(db: Queryable, ids: readonly string[]): Promise<Set<string>> {
  if (ids.length === 0) return new Set();
  const rows = await db
    .selectFrom('mandates')
    .select('parent_id')
    .distinct()
    .where('parent_id', 'in', [...new Set(ids)])
    .where('state', '<>', 'pending')
    .execute();
  return new Set(rows.map((r) => r.parent_id).filter((id): id is string => id !== null));
}
