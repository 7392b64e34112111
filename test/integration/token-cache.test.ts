import { writeFileSync } from 'node:fs';
import path from 'node:path';
import type { JWK } from 'jose';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { generatePrivateJwk } from '../../server/identity/keys.ts';
import { ENGINES, PEOPLE, person, startServer, type TestAgency, type TestServer } from '../support/server.ts';

const TAX = 'skatteverket.income-tax';

describe.each(ENGINES)('verified access tokens (%s)', (engine) => {
  let server: TestServer;
  let agency: TestAgency;

  beforeAll(async () => {
    server = await startServer(engine, { env: { ACCESS_TOKEN_SECONDS: '30' } });
    agency = await server.agency('skatteverket', [TAX]);
  });
  afterAll(() => server?.close());
  afterEach(() => vi.useRealTimers());

  const ask = (token: string) =>
    agency.check({ agent: person(PEOPLE.maja), principal: person(PEOPLE.anna), service: TAX, permission: 'view-return' }, token);

  it('a token already verified is still refused once it has expired', async () => {
    const token = await agency.token();
    expect((await ask(token)).status).toBe(200);
    expect((await ask(token)).status).toBe(200);
    // Only the clock moves; the server runs in this process and reads the same clock.
    vi.useFakeTimers({ toFake: ['Date'], now: Date.now() + 31_000 });
    const late = await ask(token);
    expect(late.status).toBe(401);
    expect(late.body.detail).toMatch(/expired/);
  });

  it('a token that differs by one character is verified on its own, and refused', async () => {
    const token = await agency.token();
    expect((await ask(token)).status).toBe(200);
    // A character inside the signature, whose every bit counts (unlike the last one's padding).
    const at = token.length - 10;
    const other = token[at] === 'A' ? 'B' : 'A';
    expect((await ask(`${token.slice(0, at)}${other}${token.slice(at + 1)}`)).status).toBe(401);
  });
});

describe.each(ENGINES)('verified access tokens and key withdrawal (%s)', (engine) => {
  let server: TestServer;
  let agency: TestAgency;

  beforeAll(async () => {
    server = await startServer(engine);
    agency = await server.agency('skatteverket', [TAX]);
  });
  afterAll(() => server?.close());

  const ask = (token: string) =>
    agency.check({ agent: person(PEOPLE.maja), principal: person(PEOPLE.anna), service: TAX, permission: 'view-return' }, token);

  it('a token already verified is refused once the key that signed it is withdrawn', async () => {
    const token = await agency.token();
    expect((await ask(token)).status).toBe(200);
    const replacement = await generatePrivateJwk();
    writeFileSync(path.join(server.dataDir, 'signing-keys.json'), JSON.stringify({ keys: [replacement] }));
    for (let attempt = 0; attempt < 100; attempt++) {
      const { body } = await server.anonymous().get('/.well-known/jwks.json');
      if ((body.keys as JWK[]).every((k) => k.kid === replacement.kid)) break;
      await new Promise((r) => setTimeout(r, 50));
    }
    expect((await ask(token)).status).toBe(401);
    expect((await ask(await agency.token())).status).toBe(200);
  });
});
