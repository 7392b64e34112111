import type { RegisterKind, RegisterName, SigningRule } from '../db/schema.ts';
import type { PartyRef } from '../parties/schema.ts';

/** One fact from a register: `representative` may represent `represented` on this basis. */
export interface RegisterEntry {
  register: RegisterName;
  kind: RegisterKind;
  representative: PartyRef;
  represented: PartyRef;
  /** A trustee's scope ("property", "rights", "personal"); empty for other kinds. */
  scope: string[];
  /** A company signatory's signing rule; null for other kinds. */
  rule: SigningRule | null;
  validFrom: Date | null;
  validTo: Date | null;
}

/** Everything one source currently says; it replaces what that source said before. */
export interface RegisterBatch {
  source: string;
  entries: RegisterEntry[];
}

/**
 * A register system Ombud reads legal representation from (population register, trustee
 * register, company register). The file import is one; a live integration is another.
 * `read` throws `RegisterInputError` when the source's data is not usable as a whole.
 */
export interface RegisterAdapter {
  readonly source: string;
  read(): Promise<RegisterBatch>;
}

export interface RegisterProblem {
  line: number;
  message: string;
}

export class RegisterInputError extends Error {
  override name = 'RegisterInputError';
  constructor(readonly problems: readonly RegisterProblem[]) {
    super(`Nothing was imported; the file has ${problems.length} bad line(s):\n  ${problems.map((p) => `line ${p.line}: ${p.message}`).join('\n  ')}`);
  }
}
