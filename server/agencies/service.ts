import { z } from 'zod';
import { appendAudit } from '../audit/service.ts';
import type { Database } from '../db/database.ts';
import { hashClientSecret, MIN_SECRET_LENGTH } from '../identity/client-secret.ts';
import { organisationNumber } from '../parties/schema.ts';
import type { PolicyEngine } from '../policy/engine.ts';
import { type Agency, upsertAgency } from './repository.ts';

export class AgencyInputError extends Error {
  override name = 'AgencyInputError';
}

/** Scopes an agency may be given: the end-user scopes of the Mina ombud consumer API. */
export const TOKEN_SCOPES = ['user:self', 'user:other', 'user:any'] as const;

const publicJwks = z.object({
  keys: z
    .array(
      z.looseObject({ kty: z.enum(['EC', 'RSA', 'OKP']), kid: z.string().min(1) }).refine((k) => !('d' in k), {
        message: 'a private key was given; register only public keys',
      }),
    )
    .min(1),
});

/** https, or plain http to this machine only (a local agency in development and tests). */
const jwksUrl = z
  .url({ protocol: /^https?$/ })
  .max(2000)
  .refine((u) => u.startsWith('https://') || ['localhost', '127.0.0.1', '[::1]'].includes(new URL(u).hostname), {
    message: 'a JWKS URL must use https',
  });

const agencyInput = z
  .object({
    id: z.string().regex(/^[a-z0-9][a-z0-9-]{1,62}$/, 'lower-case letters, digits and dashes'),
    name: z.string().trim().min(1).max(200),
    services: z.array(z.string()).min(1),
    jwks: publicJwks.optional(),
    jwksUrl: jwksUrl.optional(),
    orgNumber: organisationNumber.optional(),
    clientSecret: z.string().min(MIN_SECRET_LENGTH, `a client secret has at least ${MIN_SECRET_LENGTH} characters`).max(500).optional(),
    tokenScopes: z.array(z.enum(TOKEN_SCOPES)).optional(),
    idTokenIssuer: z.string().min(1).max(500).optional(),
    idTokenAudience: z.string().min(1).max(500).optional(),
  })
  .refine((a) => (a.jwks === undefined) !== (a.jwksUrl === undefined), { message: 'give either jwks or jwksUrl', path: ['jwks'] });

/** Registers an agency (or replaces its name, services and keys) and records it in the audit trail. */
export async function registerAgency(database: Database, policies: PolicyEngine, input: unknown): Promise<Agency> {
  const parsed = agencyInput.safeParse(input);
  if (!parsed.success) {
    throw new AgencyInputError(parsed.error.issues.map((i) => `${i.path.join('.') || 'input'}: ${i.message}`).join('; '));
  }
  const unknown = parsed.data.services.filter((s) => !policies.service(s));
  if (unknown.length > 0) throw new AgencyInputError(`unknown services: ${unknown.join(', ')}`);
  const { orgNumber, clientSecret, tokenScopes, idTokenIssuer, idTokenAudience } = parsed.data;
  const agency: Agency = {
    id: parsed.data.id,
    name: parsed.data.name,
    services: [...new Set(parsed.data.services)].sort(),
    jwks: (parsed.data.jwks ?? { keys: [] }) as Agency['jwks'],
    jwksUrl: parsed.data.jwksUrl ?? null,
    ...(orgNumber !== undefined ? { orgNumber } : {}),
    ...(clientSecret !== undefined ? { clientSecretHash: await hashClientSecret(clientSecret) } : {}),
    ...(tokenScopes !== undefined ? { tokenScopes: [...new Set(tokenScopes)].sort() } : {}),
    ...(idTokenIssuer !== undefined ? { idTokenIssuer } : {}),
    ...(idTokenAudience !== undefined ? { idTokenAudience } : {}),
  };
  await database.transaction(async (trx) => {
    await upsertAgency(trx, agency);
    await appendAudit(trx, [
      {
        action: 'agency.registered',
        actor: { type: 'operator' },
        partyIds: [],
        data: {
          agencyId: agency.id,
          name: agency.name,
          services: agency.services,
          ...(agency.jwksUrl ? { jwksUrl: agency.jwksUrl } : { kids: agency.jwks.keys.map((k) => k.kid) }),
          // Never the secret itself: only that one was set.
          ...(orgNumber !== undefined ? { orgNumber } : {}),
          ...(agency.tokenScopes ? { tokenScopes: agency.tokenScopes } : {}),
          ...(clientSecret !== undefined ? { clientSecretSet: true } : {}),
        },
      },
    ]);
  });
  return agency;
}
