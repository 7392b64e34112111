import { sql } from 'kysely';
import type { Queryable } from '../db/database.ts';
import type { RegisterKind } from '../db/schema.ts';
import { findRegisterRows, type RegisterRow } from '../registers/repository.ts';

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

export interface CheckKey {
  principalId: string;
  agentId: string;
  service: string;
  permission: string;
  /** The register bases the service accepts; none, and the registers are not read. */
  registerKinds: readonly RegisterKind[];
}

export interface CheckCandidates {
  /** Mandates from the principal naming the agent, or naming an organisation the agent acts for. */
  mandates: Candidate[];
  /** Mandates from an organisation to the agent: how an employee acts for a firm that is an agent. */
  organisationLinks: Candidate[];
  /** Register facts (guardian, trustee, signatory) connecting agent and principal. */
  registers: RegisterRow[];
}

type Row = {
  id: string;
  principal_id: string;
  mode: 'several' | 'joint';
  may_delegate: boolean;
  state: 'pending' | 'active' | 'revoked';
  valid_from: Date;
  valid_to: Date;
  revoked_at: Date | null;
  parent_id: string | null;
  created_by: string;
  has_scope: boolean;
  max_amount: number | null;
  agent_ids: string[];
};

function toLink(r: Row): Link {
  return {
    id: r.id,
    principalId: r.principal_id,
    mode: r.mode,
    mayDelegate: r.may_delegate,
    state: r.state,
    validFrom: r.valid_from,
    validTo: r.valid_to,
    revokedAt: r.revoked_at,
    parentId: r.parent_id,
    createdBy: r.created_by,
    hasScope: r.has_scope,
    maxAmount: r.max_amount,
    agentIds: r.agent_ids,
  };
}

const agentIdsOf = sql<string[]>`(SELECT array_agg(x.agent_id) FROM mandate_agents x WHERE x.mandate_id = m.id)`;

/**
 * Everything a check needs, in any state, for one (principal, agent, service, permission):
 * the mandates, each with its delegation chain, the organisation links and register facts.
 * Judging them (states, windows, chains, policy) is the service's work.
 */
export async function findCandidates(db: Queryable, key: CheckKey): Promise<CheckCandidates> {
  const scoped = (q: Queryable) =>
    q
      .selectFrom('mandates as m')
      .innerJoin('mandate_agents as a', 'a.mandate_id', 'm.id')
      .innerJoin('mandate_scopes as s', (j) =>
        j.onRef('s.mandate_id', '=', 'm.id').on('s.service', '=', key.service).on('s.permission', '=', key.permission),
      )
      .select([
        'm.id',
        'm.principal_id',
        'm.mode',
        'm.may_delegate',
        'm.state',
        'm.valid_from',
        'm.valid_to',
        'm.revoked_at',
        'm.parent_id',
        'm.created_by',
        sql<boolean>`true`.as('has_scope'),
        's.max_amount',
        agentIdsOf.as('agent_ids'),
        'a.agent_id',
      ]);

  // The agent's own mandates from the principal and from any organisation: the latter are the
  // organisation links through which an employee acts for a firm.
  const named = await scoped(db)
    .innerJoin('parties as p', 'p.id', 'm.principal_id')
    .where('a.agent_id', '=', key.agentId)
    .where((eb) => eb.or([eb('m.principal_id', '=', key.principalId), eb('p.kind', '=', 'organisation')]))
    .execute();
  const direct = named.filter((r) => r.principal_id === key.principalId);
  const links = named.filter((r) => r.principal_id !== key.principalId);
  const firmIds = [...new Set(links.map((r) => r.principal_id))];
  const throughFirms =
    firmIds.length > 0
      ? await scoped(db).where('m.principal_id', '=', key.principalId).where('a.agent_id', 'in', firmIds).execute()
      : [];

  // A mandate naming both the agent and a firm it works for, or two such firms, is one candidate.
  const fromPrincipal = [...new Map([...direct, ...throughFirms].map((r) => [r.id, r])).values()];
  const leaves = [...fromPrincipal, ...links];
  const parentIds = [...new Set(leaves.flatMap((r) => (r.parent_id ? [r.parent_id] : [])))];
  const ancestors = new Map<string, Link>();
  if (parentIds.length > 0) {
    const rows = await sql<Row>`
      WITH RECURSIVE chain AS (
        SELECT * FROM mandates WHERE id = ANY(${parentIds}::uuid[])
        UNION
        SELECT p.* FROM mandates p JOIN chain c ON p.id = c.parent_id
      )
      SELECT m.id, m.principal_id, m.mode, m.may_delegate, m.state, m.valid_from, m.valid_to, m.revoked_at,
             m.parent_id, m.created_by, (s.mandate_id IS NOT NULL) AS has_scope, s.max_amount,
             ${agentIdsOf} AS agent_ids
      FROM chain m
      LEFT JOIN mandate_scopes s ON s.mandate_id = m.id AND s.service = ${key.service} AND s.permission = ${key.permission}
    `.execute(db);
    for (const r of rows.rows) ancestors.set(r.id, toLink(r));
  }
  const withChain = (r: Row): Candidate => {
    const chain: Link[] = [];
    const seen = new Set([r.id]);
    for (let id = r.parent_id, link = id ? ancestors.get(id) : undefined; link; id = link.parentId, link = id ? ancestors.get(id) : undefined) {
      if (seen.has(link.id)) break;
      seen.add(link.id);
      chain.push(link);
    }
    return { ...toLink(r), ancestors: chain };
  };

  return {
    mandates: fromPrincipal.map(withChain),
    organisationLinks: links.map(withChain),
    registers: key.registerKinds.length > 0 ? await findRegisterRows(db, key.agentId, key.principalId, key.registerKinds) : [],
  };
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
