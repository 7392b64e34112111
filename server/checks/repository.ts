import { sql } from 'kysely';
import type { Queryable } from '../db/database.ts';

export interface Candidate {
  id: string;
  mode: 'several' | 'joint';
  state: 'pending' | 'active' | 'revoked';
  validFrom: Date;
  validTo: Date;
  revokedAt: Date | null;
  parentId: string | null;
  maxAmount: number | null;
  agentIds: string[];
}

/** Every mandate, in any state, from principal to agent that names (service, permission). */
export async function findCandidates(
  db: Queryable,
  principalId: string,
  agentId: string,
  service: string,
  permission: string,
): Promise<Candidate[]> {
  const rows = await db
    .selectFrom('mandate_agents as a')
    .innerJoin('mandates as m', 'm.id', 'a.mandate_id')
    .innerJoin('mandate_scopes as s', (j) =>
      j.onRef('s.mandate_id', '=', 'm.id').on('s.service', '=', service).on('s.permission', '=', permission),
    )
    .select([
      'm.id',
      'm.mode',
      'm.state',
      'm.valid_from',
      'm.valid_to',
      'm.revoked_at',
      'm.parent_id',
      's.max_amount',
      sql<string[]>`(SELECT array_agg(x.agent_id) FROM mandate_agents x WHERE x.mandate_id = m.id)`.as('agent_ids'),
    ])
    .where('a.agent_id', '=', agentId)
    .where('m.principal_id', '=', principalId)
    .execute();
  return rows.map((r) => ({
    id: r.id,
    mode: r.mode,
    state: r.state,
    validFrom: r.valid_from,
    validTo: r.valid_to,
    revokedAt: r.revoked_at,
    parentId: r.parent_id,
    maxAmount: r.max_amount,
    agentIds: r.agent_ids,
  }));
}

export interface ActiveScope {
  principalId: string;
  mandateId: string;
  mode: 'several' | 'joint';
  permission: string;
}

/** The permissions on `service` that active mandates give `agentId` at `at`. */
export async function activeScopesForAgent(db: Queryable, agentId: string, service: string, at: Date): Promise<ActiveScope[]> {
  const rows = await db
    .selectFrom('mandate_agents as a')
    .innerJoin('mandates as m', 'm.id', 'a.mandate_id')
    .innerJoin('mandate_scopes as s', (j) => j.onRef('s.mandate_id', '=', 'm.id').on('s.service', '=', service))
    .select(['m.principal_id', 'm.id', 'm.mode', 's.permission'])
    .where('a.agent_id', '=', agentId)
    .where('m.state', '=', 'active')
    .where('m.valid_from', '<=', at)
    .where('m.valid_to', '>', at)
    .orderBy('m.principal_id')
    .orderBy('s.permission')
    .execute();
  return rows.map((r) => ({ principalId: r.principal_id, mandateId: r.id, mode: r.mode, permission: r.permission }));
}
