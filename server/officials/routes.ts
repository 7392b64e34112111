import { z } from 'zod';
import type { AppContext } from '../context.ts';
import type { ApiRouter } from '../http/api-router.ts';
import { ApiError } from '../http/errors.ts';
import { freeText } from '../http/schemas.ts';
import { requireSameOrigin, requireSession, requireStepUp, sessionOf } from '../identity/sessions.ts';
import { grantBody, mandateView } from '../mandates/schema.ts';
import { grantMandate } from '../mandates/service.ts';
import { ensureParty, findPartiesByIds } from '../parties/repository.ts';
import { partyRef } from '../parties/schema.ts';

const registrationBody = grantBody
  .safeExtend({
    principal: partyRef,
    reason: freeText(500).pipe(z.string().min(1)).meta({ description: 'Why an official registers it, e.g. "visit at the service office"' }),
    documentReference: freeText(200)
      .pipe(z.string().min(1))
      .meta({ description: 'Reference of the signed form or the case file the registration rests on' }),
  })
  .meta({ id: 'OfficialRegistration' });

/**
 * Assisted registration: a person in the `official` role (OFFICIALS) registers a mandate for a
 * principal who came to an office or sent a signed paper form. A reason and a document reference
 * are required; the principal is told by letter; the mandate shows who registered it.
 */
export function officialRoutes(api: ApiRouter, ctx: AppContext): void {
  const { database, config, policies } = ctx;
  const officials = new Set(config.officials);

  api.add(
    {
      method: 'post',
      path: '/api/officials/mandates',
      summary: 'Register a mandate for a principal, as an official, with a reason and a document reference',
      tag: 'Officials',
      security: 'session',
      body: registrationBody,
      use: [requireSameOrigin(config), requireSession(database.db, config), requireStepUp(config)],
      responses: { 201: { description: 'The registered mandate', schema: mandateView } },
    },
    async (koa, { body }) => {
      const { partyId } = sessionOf(koa);
      const official = (await findPartiesByIds(database.db, [partyId])).get(partyId);
      if (!official || official.kind !== 'person' || !officials.has(official.nationalId)) {
        throw new ApiError(403, 'not-an-official', 'Only an official may register a power of attorney for someone else.');
      }
      if (body.principal.type !== 'person') {
        throw new ApiError(400, 'invalid-request', 'An official registers powers of attorney for persons only.', {
          errors: [{ in: 'body', path: 'principal.type', message: 'must be person' }],
        });
      }
      const named = [body.principal, ...body.agents];
      if (named.some((p) => p.type === 'person' && p.id === official.nationalId)) {
        throw new ApiError(400, 'official-is-party', 'An official may not register a power of attorney that names themselves.');
      }
      const principal = await ensureParty(database.db, body.principal);
      const { reason, documentReference, principal: _principal, ...grant } = body;
      koa.status = 201;
      koa.body = await grantMandate(database, policies, principal, grant, {
        registeredBy: { official, reason, documentReference },
      });
    },
  );
}
