import { appendAudit } from '../audit/service.ts';
import type { Database } from '../db/database.ts';
import type { RegisterName } from '../db/schema.ts';
import { ensureParty } from '../parties/repository.ts';
import type { RegisterBatch } from './adapter.ts';
import { type RegisterRow, replaceRegisterRows } from './repository.ts';

export interface ImportResult {
  source: string;
  /** Per register: rows now held from this source and rows they replaced. */
  registers: Array<{ register: RegisterName; rows: number; replaced: number }>;
}

/**
 * Applies one batch in one transaction with its audit event: every register the batch names
 * has its rows from this source replaced. A batch that fails part-way applies nothing.
 */
export async function applyRegisterBatch(database: Database, batch: RegisterBatch): Promise<ImportResult> {
  return database.transaction(async (trx) => {
    const now = new Date();
    const byRegister = new Map<RegisterName, RegisterRow[]>();
    for (const e of batch.entries) {
      const representative = await ensureParty(trx, e.representative);
      const represented = await ensureParty(trx, e.represented);
      const rows = byRegister.get(e.register) ?? [];
      rows.push({ representativeId: representative.id, representedId: represented.id, kind: e.kind, scope: e.scope, rule: e.rule, validFrom: e.validFrom, validTo: e.validTo });
      byRegister.set(e.register, rows);
    }
    const registers: ImportResult['registers'] = [];
    for (const [register, rows] of byRegister) {
      const replaced = await replaceRegisterRows(trx, register, batch.source, rows, now);
      registers.push({ register, rows: rows.length, replaced });
    }
    await appendAudit(trx, [
      {
        action: 'registers.imported',
        actor: { type: 'operator' },
        // A register file may name a whole population; the rows themselves say who is concerned.
        partyIds: [],
        at: now,
        data: { source: batch.source, registers },
      },
    ]);
    return { source: batch.source, registers };
  });
}
