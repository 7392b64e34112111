import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { z } from 'zod';
import { isoDateTime } from '../http/schemas.ts';
import { adulthoodOf } from '../identity/identity-number.ts';
import { organisationNumber, personNumber } from '../parties/schema.ts';
import { type RegisterAdapter, type RegisterBatch, type RegisterEntry, RegisterInputError, type RegisterProblem } from './adapter.ts';

const lineSchema = z.discriminatedUnion('kind', [
  z.strictObject({
    register: z.literal('population'),
    kind: z.literal('guardian'),
    representative: personNumber,
    represented: personNumber,
  }),
  z
    .strictObject({
      register: z.literal('trustee'),
      kind: z.literal('trustee'),
      representative: personNumber,
      represented: personNumber,
      scope: z.array(z.enum(['property', 'rights', 'personal'])).min(1).max(3),
      validFrom: isoDateTime.optional(),
      validTo: isoDateTime.optional(),
    })
    .refine((l) => !l.validFrom || !l.validTo || l.validTo > l.validFrom, { message: 'validTo must be after validFrom', path: ['validTo'] }),
  z.strictObject({
    register: z.literal('company'),
    kind: z.literal('signatory'),
    representative: personNumber,
    represented: organisationNumber,
    rule: z.enum(['alone', 'jointly']),
  }),
]);

function toEntry(line: z.output<typeof lineSchema>, today: Date): RegisterEntry | string {
  if (line.representative === line.represented) return 'a person cannot represent themselves';
  const person = (id: string) => ({ type: 'person' as const, id });
  switch (line.kind) {
    case 'guardian': {
      // Guardianship of a minor ends by itself when the child comes of age.
      const adulthood = adulthoodOf(line.represented);
      if (adulthood.getTime() <= today.getTime()) return 'represented is not a minor';
      return { register: line.register, kind: line.kind, representative: person(line.representative), represented: person(line.represented), scope: [], rule: null, validFrom: null, validTo: adulthood };
    }
    case 'trustee':
      return {
        register: line.register,
        kind: line.kind,
        representative: person(line.representative),
        represented: person(line.represented),
        scope: [...new Set(line.scope)].sort(),
        rule: null,
        validFrom: line.validFrom ?? null,
        validTo: line.validTo ?? null,
      };
    case 'signatory':
      return {
        register: line.register,
        kind: line.kind,
        representative: person(line.representative),
        represented: { type: 'organisation', id: line.represented },
        scope: [],
        rule: line.rule,
        validFrom: null,
        validTo: null,
      };
  }
}

/**
 * Parses a register file, one JSON object a line (blank lines are skipped). Every bad line
 * is reported with its number; one bad line makes the whole file unusable.
 */
export function parseRegisterLines(text: string, today: Date = new Date()): RegisterEntry[] {
  const entries: RegisterEntry[] = [];
  const problems: RegisterProblem[] = [];
  const seen = new Map<string, number>();
  for (const [index, raw] of text.split(/\r?\n/).entries()) {
    const line = index + 1;
    if (raw.trim() === '') continue;
    let json: unknown;
    try {
      json = JSON.parse(raw);
    } catch {
      problems.push({ line, message: 'not valid JSON' });
      continue;
    }
    const parsed = lineSchema.safeParse(json);
    if (!parsed.success) {
      problems.push({ line, message: parsed.error.issues.map((i) => (i.path.length ? `${i.path.join('.')}: ${i.message}` : i.message)).join('; ') });
      continue;
    }
    const entry = toEntry(parsed.data, today);
    if (typeof entry === 'string') {
      problems.push({ line, message: entry });
      continue;
    }
    const key = `${entry.register}/${entry.kind}/${entry.representative.id}/${entry.represented.id}`;
    const first = seen.get(key);
    if (first !== undefined) {
      problems.push({ line, message: `repeats line ${first}` });
      continue;
    }
    seen.set(key, line);
    entries.push(entry);
  }
  if (entries.length === 0 && problems.length === 0) problems.push({ line: 1, message: 'the file has no entries' });
  if (problems.length > 0) throw new RegisterInputError(problems);
  return entries;
}

/** Reads a JSON-lines file; its source name defaults to the file's base name. */
export function fileRegisterAdapter(file: string, source: string = path.basename(file)): RegisterAdapter {
  return {
    source,
    async read(): Promise<RegisterBatch> {
      return { source, entries: parseRegisterLines(await readFile(file, 'utf8')) };
    },
  };
}
