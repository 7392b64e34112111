import type { Queryable } from '../db/database.ts';
import type { RegisterRow } from '../registers/repository.ts';

/** One mandate as a check sees it, narrowed to the (service, permission) asked about. */
export interface Link {
  id: string;
  principalId: string;
  mode: 'several' | 'joint';
  mayDelegate: boolean;
  state: 'pending' | 'active' | 'revoked';
  validFrom: Date;
  validTo: Date;
  revokedAt: Date | null;
  parentId: string | null;
  createdBy: string;
  /** Whether the mandate names the permission; an ancestor that does not cannot carry it. */
  hasScope: boolean;
  maxAmount: number | null;
  agentIds: string[];
}

export interface Candidate extends Link {
  /** Parent first, up to the root. */
  ancestors: Link[];
}

export interface CheckCandidates {
  /** Mandates from the principal naming the agent, or naming an organisation the agent acts for. */
  mandates: Candidate[];
  /** Mandates from an organisation to the agent: how an employee acts for a firm that is an agent. */
  organisationLinks: Candidate[];
  /** Register facts (guardian, trustee, signatory) connecting agent and principal. */
  registers: RegisterRow[];
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
