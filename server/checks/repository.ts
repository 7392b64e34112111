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
