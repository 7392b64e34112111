import { listAgencyNames } from '../agencies/repository.ts';
import { appendAudit } from '../audit/service.ts';
import type { Database } from '../db/database.ts';
import { ApiError } from '../http/errors.ts';
import { UUID_PATTERN } from '../http/schemas.ts';
import type { AgencyPrincipal } from '../identity/agency-tokens.ts';
import { findMandate } from '../mandates/repository.ts';
import { notify } from '../notifications/service.ts';
import { findInvalidations, insertInvalidations, type Invalidation } from './repository.ts';

export interface InvalidationView {
  mandateId: string;
  invalidations: Array<{ service: string; agency: string; reason: string; invalidatedAt: string }>;
}

/** A mandate that covers none of the agency's services is none of its business: it does not exist for it. */
const notFound = () => new ApiError(404, 'not-found', 'There is no such power of attorney among your services.');

/**
 * An agency declares a mandate invalid for its own services (all of them that the mandate
 * covers, or those named). The mandate stays as it is everywhere else; checks on those services
 * deny with `invalidated-by-agency`. Idempotent per service.
 */
export async function invalidateMandate(
  database: Database,
  agency: AgencyPrincipal,
  id: string,
  input: { reason: string; services?: string[] | undefined },
): Promise<InvalidationView> {
  if (!UUID_PATTERN.test(id)) throw notFound();
  for (const service of input.services ?? []) {
    if (!agency.services.includes(service)) {
      throw new ApiError(403, 'service-not-owned', `Your agency may not invalidate for ${service}.`);
    }
  }
  const agencyName = (await listAgencyNames(database.db, [agency.id])).get(agency.id) ?? agency.id;
  const current = await database.transaction(async (trx) => {
    const m = await findMandate(trx, id, { lock: true });
    if (!m) throw notFound();
    const covered = [...new Set(m.scopes.map((s) => s.service))].filter((s) => agency.services.includes(s));
    if (covered.length === 0) throw notFound();
    const wanted = input.services ? [...new Set(input.services)] : covered;
    const outside = wanted.find((s) => !covered.includes(s));
    if (outside) throw new ApiError(400, 'invalid-request', `The power of attorney does not cover ${outside}.`);
    const existing = await findInvalidations(trx, m.id);
    const now = new Date();
    const fresh: Invalidation[] = wanted
      .filter((s) => !existing.some((e) => e.service === s))
      .map((service) => ({ mandateId: m.id, service, agencyId: agency.id, reason: input.reason, invalidatedAt: now }));
    if (fresh.length > 0) {
      const services = fresh.map((f) => f.service);
      await insertInvalidations(trx, fresh);
      await appendAudit(trx, [
        {
          action: 'mandate.invalidated',
          actor: { type: 'agency', agencyId: agency.id },
          partyIds: [m.principalId, ...m.agentIds],
          mandateId: m.id,
          at: now,
          data: { agencyId: agency.id, services, reason: input.reason },
        },
      ]);
      await notify(
        trx,
        {
          kind: 'mandate.invalidated',
          recipientIds: [m.principalId, ...m.agentIds],
          data: { mandateId: m.id, agency: agencyName, services, reason: input.reason },
        },
        now,
      );
    }
    return [...existing, ...fresh].filter((i) => agency.services.includes(i.service));
  });
  return {
    mandateId: id,
    invalidations: current
      .sort((a, b) => a.service.localeCompare(b.service))
      .map((i) => ({ service: i.service, agency: i.agencyId, reason: i.reason, invalidatedAt: i.invalidatedAt.toISOString() })),
  };
}
