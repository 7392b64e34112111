import type { Logger } from 'pino';
import { appendAudit } from '../audit/service.ts';
import type { Metrics } from '../context.ts';
import type { Database } from '../db/database.ts';
import { ApiError, type ErrorCode } from '../http/errors.ts';

/** What went wrong in a refused sign-in; stable names for log queries and the audit trail. */
export type SecurityEventKind =
  | 'oidc-flow-missing'
  | 'oidc-state-mismatch'
  | 'oidc-nonce-mismatch'
  | 'oidc-provider-error'
  | 'oidc-code-rejected'
  | 'id-token-forged'
  | 'id-token-expired'
  | 'id-token-wrong-issuer'
  | 'id-token-wrong-audience'
  | 'id-token-invalid'
  | 'id-token-claim-missing'
  | 'webauthn-challenge-unknown'
  | 'webauthn-unknown-credential'
  | 'webauthn-mismatch'
  | 'webauthn-counter-regressed';

export interface SecurityEvent {
  kind: SecurityEventKind;
  method: 'oidc' | 'passkey';
  /** The person the attempt was about, only when that is proven (a verified signature or a registered credential). */
  partyId?: string;
  /** Non-secret particulars: a claim name, a credential id; never a token, code or signature. */
  data?: Record<string, string>;
}

export interface SecurityDeps {
  database: Database;
  logger: Logger;
  metrics: Pick<Metrics, 'signInRefused'>;
}

/**
 * Records a refused sign-in: always in the log, and in the person's audit trail when the
 * attempt can be tied to them. Returns the public error to throw, so that callers write
 * `throw await refuse(...)`.
 */
export async function refuse(
  deps: SecurityDeps,
  event: SecurityEvent,
  error: { status: number; code?: ErrorCode; detail: string },
): Promise<ApiError> {
  deps.metrics.signInRefused.inc({ kind: event.kind });
  deps.logger.warn({ securityEvent: event.kind, method: event.method, partyId: event.partyId, ...event.data }, 'sign-in refused');
  const { partyId } = event;
  if (partyId) {
    await deps.database.transaction((trx) =>
      appendAudit(trx, [
        {
          action: 'sign-in-refused',
          actor: { type: 'system' },
          partyIds: [partyId],
          data: { kind: event.kind, method: event.method, ...event.data },
        },
      ]),
    );
  }
  return new ApiError(error.status, error.code ?? 'sign-in-failed', error.detail);
}
