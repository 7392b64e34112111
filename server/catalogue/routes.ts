import { z } from 'zod';
import type { AppContext } from '../context.ts';
import type { ApiRouter } from '../http/api-router.ts';

const localised = z.object({ sv: z.string(), en: z.string() });

const serviceView = z
  .object({
    id: z.string(),
    agency: z.string(),
    agencyName: localised,
    name: localised,
    description: localised,
    permissions: z.array(
      z.object({
        code: z.string(),
        name: localised,
        description: localised,
        amountLimit: z.object({ required: z.boolean(), max: z.number().int() }).optional(),
      }),
    ),
    maxValidityDays: z.number().int(),
    defaultValidityDays: z.number().int(),
    acceptedBases: z.array(z.string()),
  })
  .meta({ id: 'Service' });

export function catalogueRoutes(api: ApiRouter, ctx: AppContext): void {
  api.add(
    {
      method: 'get',
      path: '/api/services',
      summary: 'The catalogue: services, their permissions and limits',
      tag: 'Catalogue',
      responses: { 200: { description: 'Services', schema: z.array(serviceView) } },
    },
    async (koa) => {
      koa.body = ctx.policies.services();
    },
  );
}
