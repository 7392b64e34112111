import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
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
