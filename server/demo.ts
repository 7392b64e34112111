import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { exportJWK, generateKeyPair, type JWK } from 'jose';
import { registerAgency } from './agencies/service.ts';
import { generateClientSecret } from './identity/client-secret.ts';
import type { AppContext } from './context.ts';
import { DEMO_PEOPLE } from './demo-people.ts';
import { listMandatesByPrincipal } from './mandates/repository.ts';
import { grantMandate } from './mandates/service.ts';
import { adulthoodOf } from './identity/identity-number.ts';
import { ensureParty, findPartyByRef } from './parties/repository.ts';
import type { PartyRef } from './parties/schema.ts';
import type { RegisterBatch, RegisterEntry } from './registers/adapter.ts';
import { applyRegisterBatch } from './registers/service.ts';

export { DEMO_PEOPLE } from './demo-people.ts';

export const DEMO_ORGANISATION = { id: '5566778899', name: 'Exempelbyrån AB' };
/** A company whose two signatories sign jointly: its grants wait for both. */
export const DEMO_JOINT_COMPANY = { id: '5599001129', name: 'Andersson Fastigheter AB' };
export const DEMO_AGENCY_ID = 'demo-agency';
export const DEMO_AGENCY_KEY_FILE = 'demo-agency-key.json';

const person = (id: string) => ({ type: 'person' as const, id });

/**
 * Demo register facts: Erik is Maja's guardian, Karin her mother Anna's trustee for property
 * (förvaltare), Tolvan signs alone for Exempelbyrån, Erik and Karin jointly for the other company.
 */
function demoRegisterBatch(): RegisterBatch {
  const [anna, karin, erik, maja, , tolvan] = DEMO_PEOPLE.map((p) => person(p.id)) as [PartyRef, PartyRef, PartyRef, PartyRef, PartyRef, PartyRef];
  const base = { scope: [], rule: null, validFrom: null, validTo: null };
  const signatory = (representative: PartyRef, id: string, rule: 'alone' | 'jointly'): RegisterEntry => ({
    ...base,
    register: 'company',
    kind: 'signatory',
    representative,
    represented: { type: 'organisation', id },
    rule,
  });
  return {
    source: 'demo',
    entries: [
      { ...base, register: 'population', kind: 'guardian', representative: erik, represented: maja, validTo: adulthoodOf(maja.id) },
      { ...base, register: 'trustee', kind: 'trustee', representative: karin, represented: anna, scope: ['property'] },
      signatory(tolvan, DEMO_ORGANISATION.id, 'alone'),
      signatory(erik, DEMO_JOINT_COMPANY.id, 'jointly'),
      signatory(karin, DEMO_JOINT_COMPANY.id, 'jointly'),
    ],
  };
}

/** The demo agency as a Mina ombud "tredje man": its organisation number and client secret file. */
export const DEMO_AGENCY_ORG_NUMBER = '2021000001';
export const DEMO_AGENCY_SECRET_FILE = 'demo-agency-client-secret.txt';

/**
 * Development only: demo people, an organisation and a demo agency that owns every demo
 * service. The agency's private key is written to the data dir so a newcomer can try a check.
 */
export async function seedDemo(ctx: AppContext): Promise<{ agencyKeyFile: string }> {
  const { database, policies, config } = ctx;
  await database.transaction(async (trx) => {
    for (const p of DEMO_PEOPLE) {
      await ensureParty(trx, { type: 'person', id: p.id }, { name: p.name, protectedIdentity: 'protectedIdentity' in p });
    }
    for (const org of [DEMO_ORGANISATION, DEMO_JOINT_COMPANY]) await ensureParty(trx, { type: 'organisation', id: org.id }, { name: org.name });
  });
  await applyRegisterBatch(database, demoRegisterBatch());
  const keyFile = path.join(config.dataDir, DEMO_AGENCY_KEY_FILE);
  let privateJwk: JWK;
  if (existsSync(keyFile)) {
    privateJwk = JSON.parse(readFileSync(keyFile, 'utf8')) as JWK;
  } else {
    const { privateKey } = await generateKeyPair('ES256', { extractable: true });
    privateJwk = { ...(await exportJWK(privateKey)), kid: `${DEMO_AGENCY_ID}-1`, alg: 'ES256' };
    writeFileSync(keyFile, JSON.stringify(privateJwk, null, 2), { mode: 0o600 });
  }
  const { d: _d, ...publicJwk } = privateJwk;
  const secretFile = path.join(config.dataDir, DEMO_AGENCY_SECRET_FILE);
  if (!existsSync(secretFile)) writeFileSync(secretFile, generateClientSecret(), { mode: 0o600 });
  await registerAgency(database, policies, {
    id: DEMO_AGENCY_ID,
    name: 'Demo agency',
    services: policies.services().map((s) => s.id),
    jwks: { keys: [publicJwk] },
    orgNumber: DEMO_AGENCY_ORG_NUMBER,
    tokenScopes: ['user:any', 'user:other', 'user:self'],
    clientSecret: readFileSync(secretFile, 'utf8').trim(),
  });
  // Anna has let her daughter Karin handle her tax return, so the first demo check is a permit.
  const anna = await findPartyByRef(database.db, { type: 'person', id: DEMO_PEOPLE[0].id });
  if (anna && (await listMandatesByPrincipal(database.db, anna.id)).length === 0) {
    await grantMandate(database, policies, anna, {
      agents: [{ type: 'person', id: DEMO_PEOPLE[1].id }],
      scopes: [{ service: 'skatteverket.income-tax', permissions: ['view-return', 'submit-return'] }],
      validTo: new Date(Date.now() + 365 * 86_400_000),
      mode: 'several',
      mayDelegate: false,
    });
  }
  return { agencyKeyFile: keyFile };
}
