/** The API as the web app sees it: same origin, session cookie, problem+json errors. */

import type { Page, PageRequest } from './paging.ts';

export interface PartyView {
  type: 'person' | 'organisation';
  id: string;
  name?: string;
}

export interface Localised {
  sv: string;
  en: string;
}

export interface Service {
  id: string;
  agency: string;
  agencyName: Localised;
  name: Localised;
  description: Localised;
  permissions: { code: string; name: Localised; description: Localised; amountLimit?: { required: boolean; max: number } }[];
  maxValidityDays: number;
  defaultValidityDays: number;
}

export type MandateStatus = 'pending' | 'active' | 'revoked' | 'expired';

export interface Mandate {
  id: string;
  principal: PartyView;
  agents: PartyView[];
  scopes: { service: string; permissions: string[]; constraints?: { maxAmount?: number } }[];
  validFrom: string;
  validTo: string;
  mode: 'several' | 'joint';
  mayDelegate: boolean;
  parentId: string | null;
  status: MandateStatus;
  createdAt: string;
  revokedAt?: string;
  revokedBy?: PartyView;
  revokedRole?: string;
  revokeReason?: string;
  approvals?: { signatory: PartyView; approvedAt?: string }[];
  registeredBy?: { role: 'official'; reason: string; documentReference: string; at: string };
}

export interface Representation {
  principal: PartyView;
  roles: { kind: 'guardian' | 'trustee' | 'signatory'; scope?: string[]; rule?: 'alone' | 'jointly'; validTo?: string }[];
  mandateIds: string[];
  via: PartyView[];
  scopes: { service: string; permissions: string[] }[];
}

export interface AuditEvent {
  id: string;
  at: string;
  action: string;
  actor: { type: 'person' | 'agency' | 'operator' | 'system'; id?: string; name?: string };
  onBehalfOf?: PartyView;
  agent?: PartyView;
  mandateId?: string;
  service?: string;
  permission?: string;
  decision?: 'permit' | 'deny';
  registeredBy?: 'official';
}

export type EventPage = Page<AuditEvent>;

export interface ActivityFilter {
  kind?: string;
  from?: string;
}

function pageQuery(page: PageRequest): URLSearchParams {
  const query = new URLSearchParams({ limit: String(page.limit) });
  if (page.before !== undefined) query.set('before', String(page.before));
  return query;
}

export interface Me {
  party: PartyView;
  name: string | null;
  roles: string[];
}

export interface DemoPerson {
  personalNumber: string;
  name: string;
  note: Localised;
}

export interface Passkey {
  id: string;
  name: string;
  createdAt: string;
  lastUsedAt: string | null;
}

export interface SessionInfo {
  id: string;
  method: string;
  createdAt: string;
  lastSeenAt: string;
  userAgent: string | null;
  current: boolean;
}

/** An answer other than 2xx, with the API's stable error code. */
export class ApiProblem extends Error {
  override name = 'ApiProblem';
  readonly status: number;
  readonly code: string;
  /** The problem document's other members, such as `retryAfter`. */
  readonly extra: Record<string, unknown>;
  constructor(status: number, code: string, detail: string, extra: Record<string, unknown> = {}) {
    super(detail);
    this.status = status;
    this.code = code;
    this.extra = extra;
  }
}

async function request<T>(method: string, path: string, body?: unknown, signal?: AbortSignal): Promise<T> {
  const res = await fetch(path, {
    method,
    credentials: 'same-origin',
    ...(signal ? { signal } : {}),
    headers: body === undefined ? { accept: 'application/json' } : { accept: 'application/json', 'content-type': 'application/json' },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  if (!res.ok) {
    const problem = (await res.json().catch(() => ({}))) as { code?: string; detail?: string } & Record<string, unknown>;
    throw new ApiProblem(res.status, problem.code ?? 'unknown', problem.detail ?? res.statusText, problem);
  }
  if (res.status === 204) return undefined as T;
  return (await res.json()) as T;
}

let services: Promise<Service[]> | undefined;

export const api = {
  me: () => request<Me>('GET', '/api/me'),
  signInMethods: () => request<{ eid: boolean; passkey: boolean; dev: boolean }>('GET', '/auth/methods'),
  demoPeople: async () => (await request<{ items: DemoPerson[] }>('GET', '/auth/dev/people')).items,
  devSignIn: (personalNumber: string) => request<void>('POST', '/auth/dev/login', { personalNumber }),
  signOut: () => request<void>('POST', '/auth/logout'),
  services: () => (services ??= request<Service[]>('GET', '/api/services').catch((e: unknown) => {
    services = undefined;
    throw e;
  })),
  mandates: async (as: 'principal' | 'agent' | 'signatory') => (await request<{ items: Mandate[] }>('GET', `/api/mandates?as=${as}`)).items,
  mandate: (id: string) => request<Mandate>('GET', `/api/mandates/${encodeURIComponent(id)}`),
  mandateActivity: (id: string, page: PageRequest, signal?: AbortSignal) =>
    request<EventPage>('GET', `/api/mandates/${encodeURIComponent(id)}/activity?${pageQuery(page)}`, undefined, signal),
  representations: async () => (await request<{ items: Representation[] }>('GET', '/api/representations')).items,
  approve: (id: string) => request<Mandate>('POST', `/api/mandates/${encodeURIComponent(id)}/approve`),
  grant: (body: unknown) => request<Mandate>('POST', '/api/mandates', body),
  revoke: (id: string, reason: string | undefined) =>
    request<Mandate>('POST', `/api/mandates/${encodeURIComponent(id)}/revoke`, reason ? { reason } : {}),
  activity: (filter: ActivityFilter, page: PageRequest, signal?: AbortSignal) => {
    const query = pageQuery(page);
    if (filter.kind) query.set('kind', filter.kind);
    if (filter.from) query.set('from', filter.from);
    return request<EventPage>('GET', `/api/audit?${query}`, undefined, signal);
  },
  passkeys: async () => (await request<{ items: Passkey[] }>('GET', '/api/passkeys')).items,
  renamePasskey: (id: string, name: string) => request<Passkey>('PATCH', `/api/passkeys/${encodeURIComponent(id)}`, { name }),
  removePasskey: (id: string) => request<void>('DELETE', `/api/passkeys/${encodeURIComponent(id)}`),
  passkeyRegistrationOptions: () => request<unknown>('POST', '/auth/passkeys/registration/options', {}),
  passkeyRegistrationVerify: (response: object, name: string) =>
    request<Passkey>('POST', '/auth/passkeys/registration/verify', { ...response, name }),
  passkeyAuthenticationOptions: () => request<unknown>('POST', '/auth/passkeys/authentication/options', {}),
  passkeyAuthenticationVerify: (response: unknown) => request<void>('POST', '/auth/passkeys/authentication/verify', response),
  sessions: async () => (await request<{ items: SessionInfo[] }>('GET', '/api/sessions')).items,
  endSession: (id: string) => request<void>('DELETE', `/api/sessions/${encodeURIComponent(id)}`),
  signOutEverywhere: () => request<void>('POST', '/auth/logout-everywhere'),
  registerAsOfficial: (body: unknown) => request<Mandate>('POST', '/api/officials/mandates', body),
};

// ---- requests: an agent asks a person for a power of attorney

export type RequestStatus = 'open' | 'approved' | 'declined' | 'withdrawn' | 'expired';

export interface MandateRequest {
  id: string;
  requester: PartyView;
  principal: PartyView;
  scopes: Mandate['scopes'];
  validFrom?: string;
  validTo: string;
  mayDelegate: boolean;
  message?: string;
  status: RequestStatus;
  createdAt: string;
  expiresAt: string;
  decidedAt?: string;
  declineReason?: string;
  mandateId?: string;
}

export interface RequestInput {
  principal: PartyView;
  scopes: Mandate['scopes'];
  validTo: string;
  mayDelegate?: boolean;
  message?: string;
}

/** Left out, a field is approved as asked; given, it may only narrow the request. */
export interface ApproveInput {
  scopes?: Mandate['scopes'];
  validTo?: string;
  mayDelegate?: boolean;
}

const requestPath = (id: string, action = '') => `/api/requests/${encodeURIComponent(id)}${action}`;

export const requestsApi = {
  list: async (as: 'principal' | 'agent') => (await request<{ items: MandateRequest[] }>('GET', `/api/requests?as=${as}`)).items,
  get: (id: string) => request<MandateRequest>('GET', requestPath(id)),
  create: (body: RequestInput) => request<MandateRequest>('POST', '/api/requests', body),
  approve: (id: string, body: ApproveInput) => request<{ request: MandateRequest; mandate: Mandate }>('POST', requestPath(id, '/approve'), body),
  decline: (id: string, reason: string | undefined) => request<MandateRequest>('POST', requestPath(id, '/decline'), reason ? { reason } : {}),
  withdraw: (id: string) => request<MandateRequest>('POST', requestPath(id, '/withdraw')),
};
