import { z } from 'zod';
import {
  InvalidIdentityNumberError,
  parseOrganisationNumber,
  parsePersonNumber,
} from '../identity/identity-number.ts';
import { withCode } from '../http/api-router.ts';

export type PartyType = 'person' | 'organisation';

/** A party as the API names it: the normalised national id, never the internal UUID. */
export interface PartyRef {
  type: PartyType;
  id: string;
}

/** Normalises a national id of the given type, or throws `InvalidIdentityNumberError`. */
export function normaliseNationalId(type: PartyType, id: string): string {
  return type === 'person' ? parsePersonNumber(id).value : parseOrganisationNumber(id).value;
}

/** A zod string that a national-id parser normalises; a bad one is a 400 with a stable code. */
function nationalId(parse: (value: string) => { value: string }) {
  return z
    .string()
    .max(20)
    .transform((value, ctx) => {
      try {
        return parse(value).value;
      } catch (err) {
        if (!(err instanceof InvalidIdentityNumberError)) throw err;
        ctx.addIssue({ code: 'custom', message: err.message, ...withCode('invalid-identity-number') });
        return z.NEVER;
      }
    });
}

export const personNumber = nationalId(parsePersonNumber).meta({
  description: 'Personal identity or co-ordination number in any common written form',
  example: '19121212-1212',
});

export const organisationNumber = nationalId(parseOrganisationNumber).meta({
  description: 'Organisation number in any common written form',
  example: '556677-8899',
});

export const partyRef = z
  .strictObject({
    type: z.enum(['person', 'organisation']),
    id: z.string().max(20).meta({ example: '191212121212' }),
  })
  .transform((value, ctx): PartyRef => {
    try {
      return { type: value.type, id: normaliseNationalId(value.type, value.id) };
    } catch (err) {
      if (!(err instanceof InvalidIdentityNumberError)) throw err;
      ctx.addIssue({ code: 'custom', message: err.message, path: ['id'], ...withCode('invalid-identity-number') });
      return z.NEVER;
    }
  })
  .meta({ id: 'PartyRef' });

/** A national id in a query string: a person if it looks like one, otherwise an organisation. */
export const partyIdParam = z
  .string()
  .max(20)
  .transform((value, ctx): PartyRef => {
    for (const type of ['person', 'organisation'] as const) {
      try {
        return { type, id: normaliseNationalId(type, value) };
      } catch (err) {
        if (!(err instanceof InvalidIdentityNumberError)) throw err;
      }
    }
    ctx.addIssue({
      code: 'custom',
      message: 'Not a valid personal identity or organisation number.',
      ...withCode('invalid-identity-number'),
    });
    return z.NEVER;
  });
