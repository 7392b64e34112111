import { type Selectable, sql } from 'kysely';
import type { Queryable } from '../db/database.ts';
import type { MandatesTable, RevokedRole } from '../db/schema.ts';

export interface ScopeRow {
  service: string;
  permission: string;
  maxAmount: number | null;
}

export interface ApprovalRow {
  signatoryId: string;
  approvedAt: Date | null;
}

export interface MandateRecord {
  id: string;
  principalId: string;
  mode: 'several' | 'joint';
  mayDelegate: boolean;
  validFrom: Date;
  validTo: Date;
  state: 'pending' | 'active' | 'revoked';
  parentId: string | null;
  createdAt: Date;
  createdBy: string;
  revokedAt: Date | null;
  revokedBy: string | null;
  revokedRole: RevokedRole | null;
  revokeReason: string | null;
  agentIds: string[];
  scopes: ScopeRow[];
  /** Signatories whose approval an organisation's mandate needs; empty for other mandates. */
  approvals: ApprovalRow[];
}

type MandateRow = Selectable<MandatesTable>;

async function hydrate(db: Queryable, rows: MandateRow[]): Promise<MandateRecord[]> {
  if (rows.length === 0) return [];
  const ids = rows.map((r) => r.id);
  const [agents, scopes, approvals] = await Promise.all([
    db.selectFrom('mandate_agents').select(['mandate_id', 'agent_id']).where('mandate_id', 'in', ids).execute(),
    db
      .selectFrom('mandate_scopes')
      .select(['mandate_id', 'service', 'permission', 'max_amount'])
      .where('mandate_id', 'in', ids)
      .orderBy('service')
      .orderBy('permission')
      .execute(),
    db.selectFrom('mandate_approvals').select(['mandate_id', 'signatory_id', 'approved_at']).where('mandate_id', 'in', ids).execute(),
  ]);
  return rows.map((r) => ({
    id: r.id,
    principalId: r.principal_id,
    mode: r.mode,
    mayDelegate: r.may_delegate,
    validFrom: r.valid_from,
    validTo: r.valid_to,
    state: r.state,
    parentId: r.parent_id,
    createdAt: r.created_at,
    createdBy: r.created_by,
    revokedAt: r.revoked_at,
    revokedBy: r.revoked_by,
    revokedRole: r.revoked_role,
    revokeReason: r.revoke_reason,
    agentIds: agents.filter((a) => a.mandate_id === r.id).map((a) => a.agent_id),
    scopes: scopes
      .filter((s) => s.mandate_id === r.id)
      .map((s) => ({ service: s.service, permission: s.permission, maxAmount: s.max_amount })),
    approvals: approvals
      .filter((a) => a.mandate_id === r.id)
      .map((a) => ({ signatoryId: a.signatory_id, approvedAt: a.approved_at })),
  }));
}

export async function insertMandate(trx: Queryable, m: Omit<MandateRecord, 'approvals'> & Partial<Pick<MandateRecord, 'approvals'>>): Promise<void> {
  await trx
    .insertInto('mandates')
    .values({
      id: m.id,
      principal_id: m.principalId,
      mode: m.mode,
      may_delegate: m.mayDelegate,
      valid_from: m.validFrom,
      valid_to: m.validTo,
      state: m.state,
      parent_id: m.parentId,
      created_at: m.createdAt,
      created_by: m.createdBy,
      revoked_at: null,
      revoked_by: null,
      revoked_role: null,
      revoke_reason: null,
    })
    .execute();
  await trx
    .insertInto('mandate_agents')
    .values(m.agentIds.map((agentId) => ({ mandate_id: m.id, agent_id: agentId })))
    .execute();
  await trx
    .insertInto('mandate_scopes')
    .values(m.scopes.map((s) => ({ mandate_id: m.id, service: s.service, permission: s.permission, max_amount: s.maxAmount })))
    .execute();
  if (m.approvals && m.approvals.length > 0) {
    await trx
      .insertInto('mandate_approvals')
      .values(m.approvals.map((a) => ({ mandate_id: m.id, signatory_id: a.signatoryId, approved_at: a.approvedAt })))
      .execute();
  }
}

export async function findMandate(db: Queryable, id: string, options: { lock?: boolean } = {}): Promise<MandateRecord | undefined> {
  let q = db.selectFrom('mandates').selectAll().where('id', '=', id);
  if (options.lock) q = q.forUpdate();
  const row = await q.executeTakeFirst();
  return row ? (await hydrate(db, [row]))[0] : undefined;
}

export async function listMandatesByPrincipal(db: Queryable, principalId: string): Promise<MandateRecord[]> {
  const rows = await db
    .selectFrom('mandates')
    .selectAll()
    .where('principal_id', '=', principalId)
    .orderBy('created_at', 'desc')
    .execute();
  return hydrate(db, rows);
}

export async function listMandatesByAgent(db: Queryable, agentId: string): Promise<MandateRecord[]> {
  const rows = await db
    .selectFrom('mandates')
    .selectAll('mandates')
    .innerJoin('mandate_agents', 'mandate_agents.mandate_id', 'mandates.id')
    .where('mandate_agents.agent_id', '=', agentId)
    .orderBy('mandates.created_at', 'desc')
    .execute();
  return hydrate(db, rows);
}

/** Mandates whose principal is one of `principalIds` (an organisation a signatory signs for). */
export async function listMandatesOfPrincipals(db: Queryable, principalIds: readonly string[]): Promise<MandateRecord[]> {
  if (principalIds.length === 0) return [];
  const rows = await db
    .selectFrom('mandates')
    .selectAll()
    .where('principal_id', 'in', [...principalIds])
    .orderBy('created_at', 'desc')
    .execute();
  return hydrate(db, rows);
}

/** Mandates an agent passed on to others. */
export async function listMandatesDelegatedBy(db: Queryable, delegatorId: string): Promise<MandateRecord[]> {
  const rows = await db
    .selectFrom('mandates')
    .selectAll()
    .where('created_by', '=', delegatorId)
    .where('parent_id', 'is not', null)
    .orderBy('created_at', 'desc')
    .execute();
  return hydrate(db, rows);
}

/** Every mandate passed on, directly or further down, from `id`. */
export async function findDescendants(db: Queryable, id: string): Promise<MandateRecord[]> {
  const { rows } = await sql<{ id: string }>`
    WITH RECURSIVE subtree AS (
      SELECT id FROM mandates WHERE parent_id = ${id}
      UNION
      SELECT m.id FROM mandates m JOIN subtree t ON m.parent_id = t.id
    )
    SELECT id FROM subtree
  `.execute(db);
  return findMandatesByIds(db, rows.map((r) => r.id));
}

export async function recordApproval(trx: Queryable, mandateId: string, signatoryId: string, at: Date): Promise<void> {
  await trx
    .updateTable('mandate_approvals')
    .set({ approved_at: at })
    .where('mandate_id', '=', mandateId)
    .where('signatory_id', '=', signatoryId)
    .execute();
}

export async function markActive(trx: Queryable, id: string): Promise<void> {
  await trx.updateTable('mandates').set({ state: 'active' }).where('id', '=', id).where('state', '=', 'pending').execute();
}

export async function markRevoked(
  trx: Queryable,
  id: string,
  revocation: { at: Date; by: string; role: RevokedRole; reason: string | null },
): Promise<void> {
  await trx
    .updateTable('mandates')
    .set({
      state: 'revoked',
      revoked_at: revocation.at,
      revoked_by: revocation.by,
      revoked_role: revocation.role,
      revoke_reason: revocation.reason,
    })
    .where('id', '=', id)
    .execute();
}

/** Several mandates by id, in no particular order; ids that name nothing are left out. */
export async function findMandatesByIds(db: Queryable, ids: readonly string[]): Promise<MandateRecord[]> {
  if (ids.length === 0) return [];
  const rows = await db.selectFrom('mandates').selectAll().where('id', 'in', [...new Set(ids)]).execute();
  return hydrate(db, rows);
}
