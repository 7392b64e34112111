import { compactVerify, createRemoteJWKSet, jwtVerify } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { verifyAuditChain } from '../../server/audit/service.ts';
import { ENGINES, inDays, PEOPLE, person, startServer, type TestAgency, type TestServer } from '../support/server.ts';

describe.each(ENGINES)('grant → check → revoke over HTTP on %s', (engine) => {
  let server: TestServer;
  let agency: TestAgency;

  beforeAll(async () => {
    server = await startServer(engine);
    agency = await server.agency('skatteverket', ['skatteverket.income-tax']);
  });
  afterAll(() => server?.close());

  it('permits with the mandate as basis, signs the decision, then denies with "revoked" after the revoke', async () => {
    const anna = await server.signIn(PEOPLE.anna);
    const granted = await anna.post('/api/mandates', {
      agents: [person('19680514-4026')],
      scopes: [{ service: 'skatteverket.income-tax', permissions: ['submit-return', 'view-return'] }],
      validTo: inDays(365),
    });
    expect(granted.status).toBe(201);
    expect(granted.body).toMatchObject({
      principal: { type: 'person', id: PEOPLE.anna },
      agents: [{ type: 'person', id: PEOPLE.karin }],
      status: 'active',
      mode: 'several',
      mayDelegate: false,
      parentId: null,
    });
    const mandateId: string = granted.body.id;

    const checkBody = {
      agent: person(PEOPLE.karin),
      principal: person('400321-2380'),
      service: 'skatteverket.income-tax',
      permission: 'submit-return',
    };
    const permit = await agency.check(checkBody);
    expect(permit.status).toBe(200);
    expect(permit.body.decision).toBe('permit');
    expect(permit.body.basis).toEqual([{ kind: 'mandate', mandateId }]);

    // The decision token verifies against the published JWKS and says the same thing.
    const jwks = createRemoteJWKSet(new URL(`${server.url}/.well-known/jwks.json`));
    const { payload, protectedHeader } = await jwtVerify(permit.body.decisionToken, jwks, {
      issuer: server.url,
      audience: agency.id,
      algorithms: ['ES256'],
    });
    expect(protectedHeader.kid).toBeTruthy();
    expect(payload).toMatchObject({ decision: 'permit', checkId: permit.body.checkId, service: 'skatteverket.income-tax' });
    // A changed byte breaks it.
    const forged = `${permit.body.decisionToken.slice(0, -4)}AAAA`;
    await expect(compactVerify(forged, jwks)).rejects.toThrow();

    const revoked = await anna.post(`/api/mandates/${mandateId}/revoke`, { reason: 'Karin har flyttat' });
    expect(revoked.status).toBe(200);
    expect(revoked.body).toMatchObject({ status: 'revoked', revokedRole: 'principal', revokeReason: 'Karin har flyttat' });

    const deny = await agency.check(checkBody);
    expect(deny.body.decision).toBe('deny');
    expect(deny.body.reasons).toEqual([{ code: 'revoked', mandateId }]);
    expect(deny.body.basis).toEqual([]);

    const audit = await anna.get('/api/audit');
    expect(audit.status).toBe(200);
    const actions = audit.body.items.map((e: { action: string }) => e.action);
    // Newest first: the deny, the revoke, the permit, the grant.
    expect(actions.slice(0, 4)).toEqual(['check', 'mandate.revoked', 'check', 'mandate.granted']);
    const check = audit.body.items[2];
    expect(check).toMatchObject({
      actor: { type: 'agency', id: 'skatteverket' },
      decision: 'permit',
      service: 'skatteverket.income-tax',
      permission: 'submit-return',
      mandateId,
      agent: { type: 'person', id: PEOPLE.karin },
      onBehalfOf: { type: 'person', id: PEOPLE.anna },
    });
    expect(check.agentId).toBeUndefined();

    // Karin, the agent, sees the same events about the mandate.
    const karin = await server.signIn(PEOPLE.karin);
    const karinAudit = await karin.get('/api/audit?action=check');
    expect(karinAudit.body.items).toHaveLength(2);

    expect(await verifyAuditChain(server.ctx.database)).toMatchObject({ ok: true });
  });
});
