import { z } from 'zod';
import type { AppContext } from '../context.ts';
import type { ApiRouter } from '../http/api-router.ts';
import { freeText, idParam } from '../http/schemas.ts';
import { agencyOf, requireAgency } from '../identity/agency-tokens.ts';
import { invalidateMandate } from './service.ts';

const invalidateBody = z
  .strictObject({
    reason: freeText(500).pipe(z.string().min(1)),
    services: z
      .array(z.string().min(1).max(100))
      .min(1)
      .max(50)
      .optional()
      .meta({ description: 'Your services to invalidate it for; all of yours that it covers when left out' }),
  })
  .meta({ id: 'InvalidateMandate' });

const invalidationView = z
  .object({
    mandateId: z.uuid(),
    invalidations: z.array(z.object({ service: z.string(), agency: z.string(), reason: z.string(), invalidatedAt: z.string() })),
  })
  .meta({ id: 'MandateInvalidations' });

export function invalidationRoutes(api: ApiRouter, ctx: AppContext): void {
  api.add(
    {
      method: 'post',
      path: '/api/v1/mandates/:id/invalidate',
      summary: 'Declare a mandate invalid for your own services, with a reason; checks on them then deny',
      tag: 'Agencies',
      security: 'agency',
      params: idParam,
      body: invalidateBody,
      use: [requireAgency(ctx.config, ctx.keys)],
      responses: { 200: { description: "The mandate's invalidations for your services", schema: invalidationView } },
    },
    async (koa, { params, body }) => {
      koa.body = await invalidateMandate(ctx.database, agencyOf(koa), params.id, body);
    },
  );
}
