import { z } from 'zod';
import { withCode } from '../http/api-router.ts';
import { freeText, isoDateTime } from '../http/schemas.ts';
import { partyRef } from '../parties/schema.ts';

const serviceId = z.string().min(1).max(100);
const permissionCode = z.string().min(1).max(64);

export const scopeInput = z.strictObject({
  service: serviceId,
  permissions: z.array(permissionCode).min(1).max(50),
  constraints: z
    .strictObject({
      maxAmount: z.number().int().min(1).max(1_000_000_000).meta({ description: 'Money limit per payment, whole kronor' }),
    })
    .optional(),
});

export const grantBody = z
  .strictObject({
    agents: z.array(partyRef).min(1).max(10),
    scopes: z.array(scopeInput).min(1).max(50),
    validFrom: isoDateTime.optional(),
    validTo: isoDateTime,
    mode: z.enum(['several', 'joint']).default('several'),
    mayDelegate: z.boolean().default(false),
    principal: partyRef.optional().meta({ description: 'An organisation you sign for; leave out to grant for yourself' }),
    parentId: z.uuid().optional().meta({ description: 'Pass on this mandate, which you hold as agent (same or narrower scopes and window)' }),
  })
  .refine((b) => !b.validFrom || b.validTo > b.validFrom, {
    message: 'validTo must be after validFrom.',
    path: ['validTo'],
    ...withCode('invalid-validity'),
  })
  .meta({ id: 'GrantRequest' });

export type GrantInput = z.output<typeof grantBody>;

export const revokeBody = z.strictObject({ reason: freeText(500).optional() }).meta({ id: 'RevokeRequest' });

export const listQuery = z.strictObject({
  as: z
    .enum(['principal', 'agent', 'signatory', 'delegator'])
    .default('principal')
    .meta({ description: 'signatory: mandates of the organisations you sign for; delegator: mandates you passed on' }),
});

const partyView = z.object({
  type: z.enum(['person', 'organisation']),
  id: z.string(),
  name: z.string().optional(),
});

export const mandateView = z
  .object({
    id: z.uuid(),
    principal: partyView,
    agents: z.array(partyView),
    scopes: z.array(
      z.object({
        service: z.string(),
        permissions: z.array(z.string()),
        constraints: z.object({ maxAmount: z.number().int().optional() }).optional(),
      }),
    ),
    validFrom: z.string(),
    validTo: z.string(),
    mode: z.enum(['several', 'joint']),
    mayDelegate: z.boolean(),
    parentId: z.uuid().nullable(),
    status: z.enum(['pending', 'active', 'revoked', 'expired']),
    createdAt: z.string(),
    revokedAt: z.string().optional(),
    revokedBy: partyView.optional(),
    revokedRole: z.string().optional(),
    revokeReason: z.string().optional(),
    delegatedBy: partyView.optional().meta({ description: 'The agent who passed this mandate on' }),
    approvals: z
      .array(z.object({ signatory: partyView, approvedAt: z.string().optional() }))
      .optional()
      .meta({ description: "The signatories an organisation's mandate needs; it stays pending until all have approved" }),
    registeredBy: z
      .object({ role: z.literal('official'), reason: z.string(), documentReference: z.string(), at: z.string() })
      .optional()
      .meta({ description: 'Present when an official registered the mandate for the principal' }),
  })
  .meta({ id: 'Mandate' });

export type MandateView = z.infer<typeof mandateView>;
export type PartyView = z.infer<typeof partyView>;

export const mandateList = z.object({ items: z.array(mandateView) }).meta({ id: 'MandateList' });
