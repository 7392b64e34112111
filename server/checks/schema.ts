import { z } from 'zod';
import { isoDateTime } from '../http/schemas.ts';
import { partyIdParam, partyRef } from '../parties/schema.ts';

export const checkBody = z
  .strictObject({
    agent: partyRef,
    principal: partyRef,
    service: z.string().min(1).max(100),
    permission: z.string().min(1).max(64),
    at: isoDateTime.optional(),
    coAgents: z.array(partyRef).max(10).optional(),
    assurance: z
      .enum(['low', 'substantial', 'high'])
      .optional()
      .meta({ description: "The agent's sign-in assurance level as the agency knows it" }),
    amount: z.number().int().min(0).max(1_000_000_000).optional().meta({ description: 'Amount in whole kronor' }),
  })
  .meta({ id: 'CheckRequest' });

export type CheckInput = z.output<typeof checkBody>;

const partyOut = z.object({ type: z.enum(['person', 'organisation']), id: z.string() });

const basisKind = z.enum(['mandate', 'guardian', 'trustee', 'signatory']);

export const basisView = z.object({
  kind: basisKind,
  mandateId: z.uuid().optional(),
  via: z
    .object({ organisation: partyOut, mandateId: z.uuid() })
    .optional()
    .meta({ description: 'The organisation named in the mandate that the agent acts for, and its mandate to the agent' }),
  scope: z.array(z.string()).optional().meta({ description: "A trustee's scope from the register" }),
  rule: z.enum(['alone', 'jointly']).optional().meta({ description: "A company signatory's signing rule" }),
});

export const checkResponse = z
  .object({
    decision: z.enum(['permit', 'deny']),
    reasons: z.array(z.object({ code: z.string(), mandateId: z.uuid().optional(), basis: basisKind.optional() })),
    basis: z.array(basisView),
    checkId: z.uuid(),
    decisionToken: z.string().meta({ description: 'JWS (ES256) over the decision; keys at /.well-known/jwks.json' }),
  })
  .meta({ id: 'CheckResponse' });

export type CheckResponse = z.infer<typeof checkResponse>;

export const representationsQuery = z.strictObject({
  agent: partyIdParam,
  service: z.string().min(1).max(100),
});

export const representationsResponse = z
  .object({
    items: z.array(
      z.object({
        principal: partyOut,
        permissions: z.array(z.string()),
        basis: z.array(basisView.extend({ mode: z.enum(['several', 'joint']).optional() })),
      }),
    ),
  })
  .meta({ id: 'Representations' });

export const myRepresentationsResponse = z
  .object({
    items: z.array(
      z.object({
        principal: z.object({ type: z.enum(['person', 'organisation']), id: z.string(), name: z.string().optional() }),
        roles: z
          .array(
            z.object({
              kind: z.enum(['guardian', 'trustee', 'signatory']),
              scope: z.array(z.string()).optional(),
              rule: z.enum(['alone', 'jointly']).optional(),
              validTo: z.string().optional(),
            }),
          )
          .meta({ description: 'Legal representation from the registers: guardian of a minor, trustee (with scope), company signatory (with rule)' }),
        mandateIds: z.array(z.uuid()).meta({ description: 'The active mandates that name me' }),
        via: z
          .array(z.object({ type: z.enum(['person', 'organisation']), id: z.string(), name: z.string().optional() }))
          .meta({ description: 'Organisations named in a mandate from the principal, through whose own mandate I act' }),
        scopes: z
          .array(z.object({ service: z.string(), permissions: z.array(z.string()) }))
          .meta({ description: 'What I may do now for the principal on each service, by any of the above' }),
      }),
    ),
  })
  .meta({ id: 'MyRepresentations' });
