import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { namnIdentitet } from '../../server/minaombud/view.ts';
import { ensureParty } from '../../server/parties/repository.ts';
import { guardian, importRegister } from '../support/registers.ts';
import { type Client, ENGINES, inDays, PEOPLE, person, startServer, type TestAgency, type TestServer } from '../support/server.ts';

const TAX = 'skatteverket.income-tax';
const PHARMACY = 'apoteket.prescriptions';
const SARA = 'Sara Ek';
/** A child with protected identity. */
const CHILD = { id: '201503222463', name: 'Maja Lindqvist' };

describe.each(ENGINES)('protected identity on %s', (engine) => {
  let server: TestServer;
  let tax: TestAgency;
  let pharmacy: TestAgency;
  let sara: Client;
  let karin: Client;
  let anna: Client;

  beforeAll(async () => {
    server = await startServer(engine);
    const db = server.ctx.database.db;
    await ensureParty(db, person(PEOPLE.sara), { name: SARA, protectedIdentity: true });
    await ensureParty(db, person(CHILD.id), { name: CHILD.name, protectedIdentity: true });
    await ensureParty(db, person(PEOPLE.karin), { name: 'Karin Andersson' });
    await ensureParty(db, person(PEOPLE.anna), { name: 'Anna Andersson' });
    tax = await server.agency('skatteverket', [TAX]);
    pharmacy = await server.agency('apoteket', [PHARMACY]);
    [sara, karin, anna] = await Promise.all([server.signIn(PEOPLE.sara), server.signIn(PEOPLE.karin), server.signIn(PEOPLE.anna)]);
  });
  afterAll(() => server?.close());

  it('never shows the name to the other party of a mandate, only to the person themselves', async () => {
    const { body: given } = await sara.post('/api/mandates', { agents: [person(PEOPLE.karin)], scopes: [{ service: TAX, permissions: ['view-return'] }], validTo: inDays(30) });
    expect(given.principal).toEqual({ type: 'person', id: PEOPLE.sara, name: SARA });
    expect(given.agents).toEqual([{ type: 'person', id: PEOPLE.karin, name: 'Karin Andersson' }]);
    const asAgent = await karin.get(`/api/mandates/${given.id}`);
    expect(asAgent.body.principal).toEqual({ type: 'person', id: PEOPLE.sara });
    expect((await karin.get('/api/mandates?as=agent')).text).not.toContain(SARA);

    const { body: toSara } = await anna.post('/api/mandates', { agents: [person(PEOPLE.sara)], scopes: [{ service: TAX, permissions: ['view-return'] }], validTo: inDays(30) });
    expect(toSara.agents).toEqual([{ type: 'person', id: PEOPLE.sara }]);
    const returned = await sara.post(`/api/mandates/${toSara.id}/revoke`, {});
    expect(returned.body.revokedBy).toEqual({ type: 'person', id: PEOPLE.sara, name: SARA });
    const seenByAnna = await anna.get(`/api/mandates/${toSara.id}`);
    expect(seenByAnna.body.revokedBy).toEqual({ type: 'person', id: PEOPLE.sara });
    expect((await anna.get('/api/audit')).text).not.toContain(SARA);
    expect((await karin.get('/api/audit')).text).not.toContain(SARA);
    expect((await sara.get('/api/audit')).text).toContain(SARA);
  });

  it('still answers checks about the person, and tells the agency nothing but the number', async () => {
    const ask = (assurance: string) =>
      tax.check({ agent: person(PEOPLE.karin), principal: person(PEOPLE.sara), service: TAX, permission: 'view-return', assurance });
    const permitted = await ask('substantial');
    expect(permitted.body.decision).toBe('permit');
    expect(permitted.text).not.toContain(SARA);
    expect((await ask('low')).body.reasons.map((r: { code: string }) => r.code)).toEqual(['protected-identity-requires-substantial-assurance']);
    const listing = await server.anonymous().send('GET', `/api/v1/representations?agent=${PEOPLE.karin}&service=${TAX}`, {
      headers: { authorization: `Bearer ${await tax.token()}` },
    });
    expect(listing.body.items).toContainEqual(expect.objectContaining({ principal: person(PEOPLE.sara) }));
    expect(listing.text).not.toContain(SARA);
  });

  it('lets a guardian act for a protected child from the register without the child being named', async () => {
    await importRegister(server, [guardian(PEOPLE.erik, CHILD.id)]);
    const res = await pharmacy.check({ agent: person(PEOPLE.erik), principal: person(CHILD.id), service: PHARMACY, permission: 'view-prescriptions' });
    expect(res.body).toMatchObject({ decision: 'permit', basis: [{ kind: 'guardian' }] });
    expect(res.text).not.toContain(CHILD.name);
  });

  it('gives agencies of the Mina ombud API the number but never the name', () => {
    const party = { id: 'x', kind: 'person' as const, nationalId: PEOPLE.sara, name: SARA, protectedIdentity: true };
    expect(namnIdentitet(party)).toEqual({ id: PEOPLE.sara, typ: 'pnr' });
    expect(namnIdentitet({ ...party, protectedIdentity: false })).toMatchObject({ fornamn: 'Sara', namn: 'Ek' });
  });
});
