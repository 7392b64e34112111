import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { newPerson } from '../support/people.ts';
import { importRegister, signatory } from '../support/registers.ts';
import { type Client, ENGINES, inDays, PEOPLE, person, startServer, type TestAgency, type TestServer } from '../support/server.ts';

const TAX = 'skatteverket.income-tax';
const BANK = 'exempelbanken.accounts';
/** A company whose signatory signs alone, one whose two sign jointly, and an accounting firm. */
const SOLO = '5560123456';
const JOINT = '5599001129';
const FIRM = '5566778899';
const organisation = (id: string) => ({ type: 'organisation' as const, id });
const taxScope = { service: TAX, permissions: ['view-return'] };

describe.each(ENGINES)('organisations on %s', (engine) => {
  let server: TestServer;
  let tax: TestAgency;
  let bank: TestAgency;
  let tolvan: Client;
  let erik: Client;
  let karin: Client;

  beforeAll(async () => {
    server = await startServer(engine);
    tax = await server.agency('skatteverket', [TAX]);
    bank = await server.agency('exempelbanken', [BANK]);
    await importRegister(server, [
      signatory(PEOPLE.tolvan, SOLO, 'alone'),
      signatory(PEOPLE.erik, JOINT, 'jointly'),
      signatory(PEOPLE.karin, JOINT, 'jointly'),
      signatory(PEOPLE.tolvan, FIRM, 'alone'),
    ]);
    tolvan = await server.signIn(PEOPLE.tolvan);
    erik = await server.signIn(PEOPLE.erik);
    karin = await server.signIn(PEOPLE.karin);
  });
  afterAll(() => server?.close());

  it('grants through a signatory who signs alone: active at once, listed for the signatory', async () => {
    const res = await tolvan.post('/api/mandates', {
      principal: organisation('556012-3456'),
      agents: [person(PEOPLE.anna)],
      scopes: [{ service: BANK, permissions: ['view-accounts'] }],
      validTo: inDays(30),
    });
    expect(res.status).toBe(201);
    expect(res.body).toMatchObject({ principal: organisation(SOLO), status: 'active' });
    expect(res.body.approvals).toBeUndefined();
    const check = await bank.check({ agent: person(PEOPLE.anna), principal: organisation(SOLO), service: BANK, permission: 'view-accounts', assurance: 'high' });
    expect(check.body).toMatchObject({ decision: 'permit', basis: [{ kind: 'mandate', mandateId: res.body.id }] });
    const listed = await tolvan.get('/api/mandates?as=signatory');
    expect(listed.body.items.map((m: { id: string }) => m.id)).toContain(res.body.id);
    // The signatory may revoke it for the company.
    const revoked = await tolvan.post(`/api/mandates/${res.body.id}/revoke`, { reason: 'Uppdraget är slut' });
    expect(revoked.body).toMatchObject({ status: 'revoked', revokedRole: 'principal' });
  });

  it('refuses a grant for an organisation by someone who does not sign for it (403 problem+json)', async () => {
    const anna = await server.signIn(PEOPLE.anna);
    const res = await anna.post('/api/mandates', { principal: organisation(SOLO), agents: [person(PEOPLE.karin)], scopes: [taxScope], validTo: inDays(30) });
    expect(res.status).toBe(403);
    expect(res.headers.get('content-type')).toMatch(/application\/problem\+json/);
    expect(res.body.code).toBe('not-a-signatory');
    const unknownOrg = await anna.post('/api/mandates', { principal: organisation('8024567896'), agents: [person(PEOPLE.karin)], scopes: [taxScope], validTo: inDays(30) });
    expect(unknownOrg.body.code).toBe('not-a-signatory');
  });

  it('keeps a joint-signing grant pending until every required signatory has approved', async () => {
    const res = await erik.post('/api/mandates', {
      principal: organisation(JOINT),
      agents: [person(PEOPLE.anna)],
      scopes: [{ service: BANK, permissions: ['view-accounts'] }],
      validTo: inDays(30),
    });
    expect(res.status).toBe(201);
    expect(res.body.status).toBe('pending');
    expect(res.body.approvals).toEqual(
      expect.arrayContaining([
        { signatory: person(PEOPLE.erik), approvedAt: expect.any(String) },
        { signatory: person(PEOPLE.karin) },
      ]),
    );
    const ask = () => bank.check({ agent: person(PEOPLE.anna), principal: organisation(JOINT), service: BANK, permission: 'view-accounts', assurance: 'high' });
    expect((await ask()).body).toMatchObject({ decision: 'deny', reasons: [{ code: 'pending', mandateId: res.body.id }] });

    // Only a required signatory may approve; anyone else finds nothing there.
    const sara = await server.signIn(PEOPLE.sara);
    expect((await sara.post(`/api/mandates/${res.body.id}/approve`)).status).toBe(404);
    expect((await erik.post(`/api/mandates/${res.body.id}/approve`)).body.status).toBe('pending');
    const pendingForKarin = await karin.get('/api/mandates?as=signatory');
    expect(pendingForKarin.body.items.find((m: { id: string }) => m.id === res.body.id)?.status).toBe('pending');

    const approved = await karin.post(`/api/mandates/${res.body.id}/approve`);
    expect(approved.status).toBe(200);
    expect(approved.body.status).toBe('active');
    expect((await ask()).body.decision).toBe('permit');
    const events = (await karin.get('/api/audit')).body.items.filter((e: { mandateId?: string }) => e.mandateId === res.body.id);
    expect(events.map((e: { action: string }) => e.action)).toEqual(expect.arrayContaining(['mandate.granted', 'mandate.activated']));
  });

  it('lets an employee act for a client through a mandate from the firm; the check names the person acting', async () => {
    const anna = await server.signIn(PEOPLE.anna);
    const toFirm = await anna.post('/api/mandates', { agents: [organisation(FIRM)], scopes: [{ service: TAX, permissions: ['view-return', 'submit-return'] }], validTo: inDays(60) });
    expect(toFirm.status).toBe(201);
    const ask = (permission = 'view-return') =>
      tax.check({ agent: person(PEOPLE.sara), principal: person(PEOPLE.anna), service: TAX, permission, assurance: 'substantial' });
    // Not yet an employee acting for the firm.
    expect((await ask()).body).toMatchObject({ decision: 'deny', reasons: [{ code: 'no-basis' }] });

    // The firm, through its signatory, lets its employee Sara act for it on returns it may view.
    const employee = await tolvan.post('/api/mandates', { principal: organisation(FIRM), agents: [person(PEOPLE.sara)], scopes: [taxScope], validTo: inDays(30) });
    expect(employee.status).toBe(201);
    const permitted = await ask();
    expect(permitted.body).toMatchObject({
      decision: 'permit',
      basis: [{ kind: 'mandate', mandateId: toFirm.body.id, via: { organisation: organisation(FIRM), mandateId: employee.body.id } }],
    });
    // The firm's mandate to Sara does not cover filing, so she may not file even though the firm may.
    expect((await ask('submit-return')).body.decision).toBe('deny');

    // Anna sees that the tax agency checked Sara, acting for the firm.
    const seen = (await anna.get('/api/audit?action=check')).body.items.find((e: { checkId?: string }) => e.checkId === permitted.body.checkId);
    expect(seen).toMatchObject({ agent: person(PEOPLE.sara), onBehalfOf: person(PEOPLE.anna) });

    // When the firm takes its mandate back, the employee can no longer act for the client.
    await tolvan.post(`/api/mandates/${employee.body.id}/revoke`, {});
    expect((await ask()).body).toMatchObject({ decision: 'deny', reasons: [{ code: 'revoked', mandateId: employee.body.id }] });
  });

  it('answers once per mandate that names both the employee and the firm', async () => {
    const client = await server.signIn(newPerson());
    const me = (await client.get('/api/me')).body.party.id as string;
    const { body: m } = await client.post('/api/mandates', { agents: [organisation(FIRM), person(PEOPLE.maja)], scopes: [taxScope], validTo: inDays(30) });
    await tolvan.post('/api/mandates', { principal: organisation(FIRM), agents: [person(PEOPLE.maja)], scopes: [taxScope], validTo: inDays(30) });
    const res = await tax.check({ agent: person(PEOPLE.maja), principal: person(me), service: TAX, permission: 'view-return', assurance: 'substantial' });
    expect(res.body).toMatchObject({ decision: 'permit', basis: [{ kind: 'mandate', mandateId: m.id }] });
    expect(res.body.basis).toHaveLength(1);
  });
});
