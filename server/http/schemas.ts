import { z } from 'zod';

/** Free text from people: bounded, and without control characters (they cannot be stored in JSON columns). */
export function freeText(max: number) {
  return z
    .string()
    .trim()
    .max(max)
    // eslint-disable-next-line no-control-regex -- rejecting control characters is the point
    .refine((s) => !/[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f]/.test(s), 'Control characters are not allowed.');
}

/** An ISO 8601 timestamp with a zone offset. */
export const isoDateTime = z.iso.datetime({ offset: true }).transform((s) => new Date(s));

/** A path id that is not a UUID cannot name anything; it is answered like a missing one. */
export const idParam = z.object({ id: z.string() });

export const UUID_PATTERN = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
