import { z } from 'zod';
import { listAgencyNames } from '../agencies/repository.ts';
import type { Queryable } from '../db/database.ts';
import { findPartiesByIds, type Party } from '../parties/repository.ts';
import { disclosedName } from '../parties/view.ts';
import type { AuditRow } from './repository.ts';
import type { Actor } from './service.ts';

const partyOut = z.object({ type: z.enum(['person', 'organisation']), id: z.string(), name: z.string().optional() });

export const auditItem = z
  .looseObject({
    id: z.uuid(),
    at: z.string(),
    action: z.string(),
    actor: z.looseObject({ type: z.enum(['person', 'agency', 'operator', 'system']) }),
    onBehalfOf: partyOut.optional(),
    mandateId: z.uuid().optional(),
    service: z.string().optional(),
    permission: z.string().optional(),
    decision: z.enum(['permit', 'deny']).optional(),
    agent: partyOut.optional(),
    firms: z.array(partyOut).optional().meta({ description: 'The organisations the agent acted through (an employee of a firm)' }),
  })
  .meta({ id: 'AuditEvent' });

export const auditList = z
  .object({ items: z.array(auditItem), nextBefore: z.number().int().optional().meta({ description: 'Present when older events exist: pass it as before' }) })
  .meta({ id: 'AuditList' });

/** Paging shared by every list of events: newest first, each page older than the previous one's cursor. */
export const eventPageQuery = {
  limit: z.coerce.number().int().min(1).max(500).default(100),
  before: z.coerce.number().int().min(1).optional().meta({ description: 'Page cursor: nextBefore of the previous page' }),
};

/** A full page may have older events behind it; a short one is the last. */
export function nextBefore(rows: readonly AuditRow[], limit: number): { nextBefore?: number } {
  const last = rows.at(-1);
  return rows.length === limit && last ? { nextBefore: last.seq } : {};
}

export type AuditItem = z.infer<typeof auditItem>;

/** Internal keys that are translated or kept back when an event is shown. */
const INTERNAL_KEYS = new Set(['agentId', 'principalId', 'agencyId', 'firmIds']);

function firmIdsOf(data: Record<string, unknown>): string[] {
  return Array.isArray(data.firmIds) ? data.firmIds.filter((id): id is string => typeof id === 'string') : [];
}

/** Turns stored events into what a person sees: national ids and names instead of internal ids. */
export async function viewAuditRows(db: Queryable, rows: readonly AuditRow[], viewerId: string): Promise<AuditItem[]> {
  const partyIds: string[] = [];
  const agencyIds: string[] = [];
  for (const r of rows) {
    const actor = r.actor as Actor;
    if (actor.type === 'person') partyIds.push(actor.partyId);
    if (actor.type === 'agency') agencyIds.push(actor.agencyId);
    const data = r.data as Record<string, unknown>;
    for (const key of ['agentId', 'principalId']) if (typeof data[key] === 'string') partyIds.push(data[key] as string);
    partyIds.push(...firmIdsOf(data));
  }
  const [parties, agencies] = await Promise.all([findPartiesByIds(db, partyIds), listAgencyNames(db, agencyIds)]);
  const show = (id: unknown) => {
    const p: Party | undefined = typeof id === 'string' ? parties.get(id) : undefined;
    if (!p) return undefined;
    const name = disclosedName(p, viewerId);
    return {
      type: p.kind,
      id: p.nationalId,
      ...(name ? { name } : {}),
    };
  };
  return rows.map((r) => {
    const actor = r.actor as Actor;
    const data = r.data as Record<string, unknown>;
    const item: AuditItem = {
      id: r.id,
      at: r.at.toISOString(),
      action: r.action,
      actor:
        actor.type === 'person'
          ? { ...show(actor.partyId), type: 'person' }
          : actor.type === 'agency'
            ? { type: 'agency', id: actor.agencyId, name: agencies.get(actor.agencyId) ?? actor.agencyId }
            : { type: actor.type },
    };
    for (const [key, value] of Object.entries(data)) if (!INTERNAL_KEYS.has(key)) item[key] = value;
    if (r.mandate_id) item.mandateId = r.mandate_id;
    const agent = show(data.agentId);
    const principal = show(data.principalId);
    if (agent) item.agent = agent;
    if (principal) item.onBehalfOf = principal;
    // The firms an agent acted through, by name and organisation number.
    const firms = firmIdsOf(data).flatMap((id) => show(id) ?? []);
    if (firms.length > 0) item.firms = firms;
    return item;
  });
}
