import { execFile } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import path from 'node:path';
import { promisify } from 'node:util';
import { decodeProtectedHeader, exportJWK, generateKeyPair, type JWK, type CryptoKey } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { registerAgency } from '../../server/agencies/service.ts';
import { requestAccessToken, signClientAssertion } from '../../server/agencies/token-client.ts';
import { ENGINES, PEOPLE, person, startServer, type TestServer } from '../support/server.ts';

const run = promisify(execFile);
const check = { agent: person(PEOPLE.karin), principal: person(PEOPLE.anna), service: 'skatteverket.income-tax', permission: 'view-return' };

describe.each(ENGINES)('signing key rotation on %s', (engine) => {
  let server: TestServer;
  const keyFile = () => path.join(server.dataDir, 'signing-keys.json');
  const jwksKids = async () => ((await server.anonymous().get('/.well-known/jwks.json')).body.keys as JWK[]).map((k) => k.kid as string);

  beforeAll(async () => {
    server = await startServer(engine);
  });
  afterAll(() => server?.close());

  function admin(...args: string[]) {
    return run('npx', ['tsx', 'server/cli/admin.ts', ...args], {
      env: { ...process.env, NODE_ENV: 'test', DATA_DIR: server.dataDir, LOG_LEVEL: 'silent' },
    });
  }

  /** Asks until the running server shows `kid` first in its JWKS; it looks at the key file by itself. */
  async function untilPublished(kid: string): Promise<string[]> {
    for (let attempt = 0; attempt < 100; attempt++) {
      const kids = await jwksKids();
      if (kids.includes(kid)) return kids;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    throw new Error(`${kid} never published`);
  }

  it('signs with the new key at once, keeps the old one verifying, and drops it when what it signed has expired', async () => {
    const agency = await server.agency('rotating-agency', ['skatteverket.income-tax']);
    const before = await agency.token();
    const oldKid = decodeProtectedHeader(before).kid as string;
    expect(await jwksKids()).toEqual([oldKid]);

    const rotated = await admin('keys', 'rotate');
    const newKid = /New signing key (\S+);/.exec(rotated.stdout)?.[1] as string;
    expect(newKid).toBeTruthy();
    expect(await untilPublished(newKid)).toEqual([newKid, oldKid]);

    const after = await agency.token();
    expect(decodeProtectedHeader(after).kid).toBe(newKid);
    expect((await agency.check(check, before)).status).toBe(200);
    expect((await agency.check(check, after)).status).toBe(200);

    const listed = (await admin('keys', 'list')).stdout;
    expect(listed).toMatch(new RegExp(`${newKid}\\s+signing`));
    expect(listed).toMatch(new RegExp(`${oldKid}\\s+published`));

    // Time passes beyond the longest token life: the old key is marked retired long ago.
    const file = JSON.parse(readFileSync(keyFile(), 'utf8')) as { keys: Array<JWK & { retiredAt?: string }> };
    (file.keys[1] as { retiredAt?: string }).retiredAt = new Date(Date.now() - 2 * 3600_000).toISOString();
    writeFileSync(keyFile(), JSON.stringify(file));
    for (let attempt = 0; attempt < 100 && (await jwksKids()).includes(oldKid); attempt++) {
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    expect(await jwksKids()).toEqual([newKid]);
    const refused = await agency.check(check, before);
    expect(refused.status).toBe(401);
    expect(refused.body.code).toBe('invalid-token');
    expect((await agency.check(check, after)).status).toBe(200);
    expect((await admin('keys', 'list')).stdout).toMatch(new RegExp(`${oldKid}\\s+expired`));
  });
});

describe.each(ENGINES)('agency keys from a JWKS URL on %s', (engine) => {
  let server: TestServer;
  let published: { keys: JWK[] } = { keys: [] };
  let fetches = 0;
  let jwksServer: Server;
  let jwksUrl: string;

  beforeAll(async () => {
    jwksServer = createServer((req, res) => {
      fetches += 1;
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(published));
    });
    await new Promise<void>((resolve) => jwksServer.listen(0, '127.0.0.1', resolve));
    jwksUrl = `http://127.0.0.1:${(jwksServer.address() as { port: number }).port}/jwks.json`;
    // No cooldown, so that the test need not wait between a rotation and the refetch it causes.
    server = await startServer(engine, { env: { JWKS_REFRESH_COOLDOWN_SECONDS: '0' } });
  });
  afterAll(async () => {
    await server?.close();
    jwksServer?.closeAllConnections();
    await new Promise<void>((resolve) => (jwksServer ? jwksServer.close(() => resolve()) : resolve()));
  });

  async function key(kid: string) {
    const pair = await generateKeyPair('ES256');
    return { kid, privateKey: pair.privateKey, jwk: { ...(await exportJWK(pair.publicKey)), kid, alg: 'ES256' } };
  }

  async function token(agencyId: string, kid: string, privateKey: CryptoKey) {
    const tokenUrl = `${server.url}/oauth/token`;
    const res = await requestAccessToken(tokenUrl, await signClientAssertion(tokenUrl, { agencyId, kid, privateKey }));
    return { status: res.status, body: (await res.json()) as Record<string, unknown> };
  }

  it('fetches the set once, then again only for an unknown kid', async () => {
    const first = await key('k1');
    published = { keys: [first.jwk] };
    await registerAgency(server.ctx.database, server.ctx.policies, {
      id: 'published-keys',
      name: 'Agency with a JWKS URL',
      services: ['skatteverket.income-tax'],
      jwksUrl,
    });
    fetches = 0;
    expect((await token('published-keys', first.kid, first.privateKey)).status).toBe(200);
    expect((await token('published-keys', first.kid, first.privateKey)).status).toBe(200);
    expect(fetches).toBe(1);

    const second = await key('k2');
    published = { keys: [second.jwk, first.jwk] };
    expect((await token('published-keys', second.kid, second.privateKey)).status).toBe(200);
    expect(fetches).toBe(2);

    const stranger = await key('k3');
    const refused = await token('published-keys', stranger.kid, stranger.privateKey);
    expect(refused.status).toBe(401);
    expect(refused.body.code).toBe('invalid-client');
  });

  it('fails closed with a 401 when the set cannot be fetched', async () => {
    const lost = await key('k1');
    await registerAgency(server.ctx.database, server.ctx.policies, {
      id: 'unreachable-keys',
      name: 'Agency whose keys are gone',
      services: ['skatteverket.income-tax'],
      jwksUrl: 'http://127.0.0.1:9/jwks.json',
    });
    const res = await token('unreachable-keys', lost.kid, lost.privateKey);
    expect(res.status).toBe(401);
    expect(res.body.detail).toMatch(/could not be fetched/);
  });

  it('accepts only https JWKS URLs beyond this machine', async () => {
    await expect(
      registerAgency(server.ctx.database, server.ctx.policies, {
        id: 'plain-http',
        name: 'x',
        services: ['skatteverket.income-tax'],
        jwksUrl: 'http://agency.example/jwks.json',
      }),
    ).rejects.toThrow(/https/);
  });
});
