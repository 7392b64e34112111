import { z } from 'zod';
import { withCode } from '../http/api-router.ts';
import { freeText, isoDateTime } from '../http/schemas.ts';
import { mandateView, scopeInput } from '../mandates/schema.ts';
import { partyRef } from '../parties/schema.ts';

const validityOrder = {
  message: 'validTo must be after validFrom.',
  path: ['validTo'],
  ...withCode('invalid-validity'),
};

export const requestBody = z
  .strictObject({
    principal: partyRef,
    scopes: z.array(scopeInput).min(1).max(50),
    validFrom: isoDateTime.optional(),
    validTo: isoDateTime,
    mayDelegate: z.boolean().default(false),
    message: freeText(1000).optional().meta({ description: 'A note to the principal, shown with the request' }),
  })
  .refine((b) => !b.validFrom || b.validTo > b.validFrom, validityOrder)
  .meta({ id: 'MandateRequestInput' });

export type RequestInput = z.output<typeof requestBody>;

export const approveBody = z
  .strictObject({
    scopes: z.array(scopeInput).min(1).max(50).optional(),
    validFrom: isoDateTime.optional(),
    validTo: isoDateTime.optional(),
    mayDelegate: z.boolean().optional(),
  })
  .refine((b) => !b.validFrom || !b.validTo || b.validTo > b.validFrom, validityOrder)
  .meta({ id: 'ApproveRequest', description: 'Anything left out is approved as requested; what is given may only narrow it' });

export type ApproveInput = z.output<typeof approveBody>;

export const declineBody = z.strictObject({ reason: freeText(500).optional() }).meta({ id: 'DeclineRequest' });

export const requestListQuery = z.strictObject({ as: z.enum(['principal', 'agent']).default('principal') });

const partyView = z.object({ type: z.enum(['person', 'organisation']), id: z.string(), name: z.string().optional() });

export const requestView = z
  .object({
    id: z.uuid(),
    requester: partyView,
    principal: partyView,
    scopes: mandateView.shape.scopes,
    validFrom: z.string().optional(),
    validTo: z.string(),
    mayDelegate: z.boolean(),
    message: z.string().optional(),
    status: z.enum(['open', 'approved', 'declined', 'withdrawn', 'expired']),
    createdAt: z.string(),
    expiresAt: z.string(),
    decidedAt: z.string().optional(),
    declineReason: z.string().optional(),
    mandateId: z.uuid().optional(),
  })
  .meta({ id: 'MandateRequest' });

export type RequestView = z.infer<typeof requestView>;

export const requestList = z.object({ items: z.array(requestView) }).meta({ id: 'MandateRequestList' });

export const approveResponse = z
  .object({ request: requestView, mandate: mandateView })
  .meta({ id: 'ApprovedRequest' });
