import { createHash } from 'node:crypto';
import { canonicalJson } from './canonical-json.ts';

export const GENESIS_HASH = '0'.repeat(64);

/** What the chain covers of one event; every stored column but the hashes themselves. */
export interface ChainedEvent {
  seq: number;
  id: string;
  at: Date;
  action: string;
  actor: unknown;
  partyIds: readonly string[];
  mandateId: string | null;
  data: unknown;
}

/** sha256 over the previous hash and the RFC 8785 canonical JSON of the event. */
export function chainHash(prevHash: string, event: ChainedEvent): string {
  const body = canonicalJson({
    seq: event.seq,
    id: event.id,
    at: event.at.toISOString(),
    action: event.action,
    actor: event.actor,
    partyIds: event.partyIds,
    mandateId: event.mandateId,
    data: event.data,
  });
  return createHash('sha256').update(prevHash).update('\n').update(body ?? '').digest('hex');
}
