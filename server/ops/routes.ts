import { sql } from 'kysely';
import { z } from 'zod';
import { createDocument } from 'zod-openapi';
import type { AppContext } from '../context.ts';
import type { ApiRouter } from '../http/api-router.ts';

export function opsRoutes(api: ApiRouter, ctx: AppContext): void {
  const { database, metrics, config } = ctx;

  api.add(
    {
      method: 'get',
      path: '/healthz',
      summary: 'The process is up',
      tag: 'Operations',
      responses: { 200: { description: 'Up', schema: z.object({ status: z.literal('ok') }) } },
    },
    async (koa) => {
      koa.body = { status: 'ok' };
    },
  );

  api.add(
    {
      method: 'get',
      path: '/readyz',
      summary: 'The database answers and policies are loaded',
      tag: 'Operations',
      responses: {
        200: { description: 'Ready', schema: z.object({ status: z.literal('ready'), services: z.number().int() }) },
        503: { description: 'Not ready' },
      },
    },
    async (koa) => {
      try {
        await sql`SELECT 1`.execute(database.db);
      } catch (err) {
        ctx.logger.warn({ err }, 'readiness: database unreachable');
        koa.status = 503;
        koa.body = { status: 'database unreachable' };
        return;
      }
      koa.body = { status: 'ready', services: ctx.policies.services().length };
    },
  );

  api.add(
    {
      method: 'get',
      path: '/metrics',
      summary: 'Prometheus metrics',
      tag: 'Operations',
      responses: { 200: { description: 'Prometheus text format', schema: z.string(), contentType: 'text/plain' } },
    },
    async (koa) => {
      koa.type = metrics.registry.contentType;
      koa.body = await metrics.registry.metrics();
    },
  );

  let document: unknown;
  api.add(
    {
      method: 'get',
      path: '/openapi.json',
      summary: 'This API as OpenAPI 3.1, generated from the schemas that validate requests',
      tag: 'Operations',
      responses: { 200: { description: 'OpenAPI document' } },
    },
    async (koa) => {
      document ??= createDocument({
        openapi: '3.1.0',
        info: {
          title: 'Ombud',
          version: '1.0.0',
          description: 'Digital power of attorney and representation: mandates, checks and activity.',
        },
        servers: [{ url: config.publicUrl }],
        paths: api.openApiPaths(),
        components: {
          securitySchemes: {
            session: { type: 'apiKey', in: 'cookie', name: 'ombud_session' },
            agency: { type: 'http', scheme: 'bearer', bearerFormat: 'JWT' },
          },
        },
      });
      koa.body = document;
    },
  );
}
