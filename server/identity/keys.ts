import { existsSync, mkdirSync, readFileSync, renameSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import {
  exportJWK,
  FlattenedSign,
  generateKeyPair,
  importJWK,
  type JWK,
  type JWTPayload,
  jwtVerify,
  SignJWT,
  type CryptoKey,
} from 'jose';
import { z } from 'zod';

/** Our tokens are signed with ES256 only; verification accepts nothing else. */
export const SIGNING_ALG = 'ES256';

/**
 * A ring signs with one algorithm. ES256 is ours; RS256 exists for clients that verify
 * nothing else (Mina ombud's consumer API signs its answers with RSA).
 */
export type RingAlg = typeof SIGNING_ALG | 'RS256';

const rsaKeyFileSchema = z.object({
  keys: z
    .array(
      z.looseObject({
        kid: z.string().min(1),
        kty: z.literal('RSA'),
        n: z.string().min(342, 'RSA keys have at least 2048 bits'),
        e: z.string().min(1),
        d: z.string().min(1),
      }),
    )
    .min(1),
});

const keyFileSchema = z.object({
  keys: z
    .array(
      z.looseObject({
        kid: z.string().min(1),
        kty: z.literal('EC'),
        crv: z.literal('P-256'),
        d: z.string().min(1),
        x: z.string(),
        y: z.string(),
      }),
    )
    .min(1),
});

/**
 * Optional bookkeeping beside each private JWK: when it was made, and when it stopped signing.
 * A retired key stays published until what it signed has expired (see `retainSeconds`).
 */
const keyMeta = z.object({ createdAt: z.iso.datetime().optional(), retiredAt: z.iso.datetime().optional() });

interface LoadedKey {
  kid: string;
  retiredAt: Date | undefined;
  privateKey: CryptoKey;
  publicKey: CryptoKey;
  publicJwk: JWK;
}

export class KeyFileError extends Error {
  override name = 'KeyFileError';
}

/** Where a ring was loaded from, so that a rotation by the admin command is picked up while running. */
interface KeySource {
  file: string;
  mtimeMs: number;
  checkedAt: number;
}

/** A running server looks at the key file's modification time at most this often. */
const RELOAD_CHECK_MS = 250;

/**
 * How long a retired key stays published: the longest life of anything it signed (access tokens
 * live at most an hour, decision tokens five minutes), plus the JWKS cache lifetime we announce
 * (five minutes) and a minute of clock skew.
 */
export const DEFAULT_RETAIN_SECONDS = 3600 + 300 + 60;

/**
 * The service's signing keys. The first key signs; every key stays published in the JWKS
 * so that what older keys signed still verifies while it lives. A key retired longer ago than
 * `retainSeconds` is no longer published nor accepted.
 */
export class KeyRing {
  private source: KeySource | undefined;

  private constructor(
    private keys: LoadedKey[],
    readonly alg: RingAlg = SIGNING_ALG,
    private readonly retainSeconds = DEFAULT_RETAIN_SECONDS,
  ) {}

  static async fromJwks(privateJwks: unknown, alg: RingAlg = SIGNING_ALG, retainSeconds = DEFAULT_RETAIN_SECONDS): Promise<KeyRing> {
    return new KeyRing(await loadKeys(privateJwks, alg), alg, retainSeconds);
  }

  /**
   * Production reads the configured file; development makes one in the data dir once.
   * `fileName` and `alg` choose another ring than the default ES256 one.
   */
  static async load(options: { file: string | undefined; dataDir: string; generate: boolean; fileName?: string; alg?: RingAlg }): Promise<KeyRing> {
    const alg = options.alg ?? SIGNING_ALG;
    const file = options.file ?? path.join(options.dataDir, options.fileName ?? 'signing-keys.json');
    if (!existsSync(file)) {
      if (!options.generate) throw new KeyFileError(`Signing key file ${file} is missing`);
      mkdirSync(path.dirname(file), { recursive: true });
      writeFileSync(file, JSON.stringify({ keys: [await generatePrivateJwk(alg)] }, null, 2), { mode: 0o600 });
    }
    const ring = await KeyRing.fromJwks(JSON.parse(readFileSync(file, 'utf8')), alg);
    ring.source = { file, mtimeMs: statSync(file).mtimeMs, checkedAt: Date.now() };
    return ring;
  }

  /**
   * Picks up a rotation done by `admin keys rotate` while the server runs. A file that cannot be
   * read or parsed leaves the loaded keys in place: signing goes on with what is known good.
   */
  async reloadIfChanged(): Promise<void> {
    const source = this.source;
    if (!source || Date.now() - source.checkedAt < RELOAD_CHECK_MS) return;
    source.checkedAt = Date.now();
    try {
      const mtimeMs = statSync(source.file).mtimeMs;
      if (mtimeMs === source.mtimeMs) return;
      this.keys = await loadKeys(JSON.parse(readFileSync(source.file, 'utf8')), this.alg);
      source.mtimeMs = mtimeMs;
    } catch {
      // Keep the keys in hand; the next check tries again.
    }
  }

  /** Keys still published: the signing key and those retired less than `retainSeconds` ago. */
  private live(): LoadedKey[] {
    const cutoff = Date.now() - this.retainSeconds * 1000;
    return this.keys.filter((k, i) => i === 0 || !k.retiredAt || k.retiredAt.getTime() > cutoff);
  }

  get currentKid(): string {
    return (this.keys[0] as LoadedKey).kid;
  }

  jwks(): { keys: JWK[] } {
    return { keys: this.live().map((k) => k.publicJwk) };
  }

  async sign(claims: JWTPayload, options: { typ: string; issuer: string; audience: string; expiresInSeconds: number }) {
    await this.reloadIfChanged();
    const key = this.keys[0] as LoadedKey;
    return new SignJWT(claims)
      .setProtectedHeader({ alg: this.alg, kid: key.kid, typ: options.typ })
      .setIssuer(options.issuer)
      .setAudience(options.audience)
      .setIssuedAt()
      .setExpirationTime(`${options.expiresInSeconds}s`)
      .sign(key.privateKey);
  }

  /** Verifies a token we issued: algorithm, kid, issuer, audience and type pinned. */
  async verify(token: string, options: { typ: string; issuer: string; audience: string }) {
    await this.reloadIfChanged();
    return jwtVerify(
      token,
      async (header) => {
        const key = this.live().find((k) => k.kid === header.kid);
        if (!key) throw new KeyFileError('unknown kid');
        return key.publicKey;
      },
      { algorithms: [this.alg], issuer: options.issuer, audience: options.audience, typ: options.typ },
    );
  }

  /**
   * A JWS with detached payload (RFC 7515 appendix F) over `payload`: the protected header
   * names only `alg` and `kid`, and the answer carries the header and signature, not the payload.
   */
  async signDetached(payload: Uint8Array): Promise<{ protected: string; signature: string }> {
    await this.reloadIfChanged();
    const key = this.keys[0] as LoadedKey;
    const jws = await new FlattenedSign(payload).setProtectedHeader({ alg: this.alg, kid: key.kid }).sign(key.privateKey);
    return { protected: jws.protected as string, signature: jws.signature };
  }
}


async function loadKeys(privateJwks: unknown, alg: RingAlg): Promise<LoadedKey[]> {
  const keys: LoadedKey[] = [];
  if (alg === 'RS256') {
    const parsed = rsaKeyFileSchema.safeParse(privateJwks);
    if (!parsed.success) throw new KeyFileError('The RSA signing key file must hold {"keys": [RSA (2048+ bit) private JWKs with kid]}');
    for (const jwk of parsed.data.keys) {
      const pub = { kty: jwk.kty, n: jwk.n, e: jwk.e };
      keys.push(await loadKey(jwk, pub, jwk.kid, alg, retiredAt(jwk)));
    }
    return keys;
  }
  const parsed = keyFileSchema.safeParse(privateJwks);
  if (!parsed.success) throw new KeyFileError('The signing key file must hold {"keys": [EC P-256 private JWKs with kid]}');
  for (const jwk of parsed.data.keys) {
    keys.push(await loadKey(jwk, { kty: jwk.kty, crv: jwk.crv, x: jwk.x, y: jwk.y }, jwk.kid, alg, retiredAt(jwk)));
  }
  return keys;
}

function retiredAt(jwk: Record<string, unknown>): Date | undefined {
  const meta = keyMeta.safeParse(jwk);
  return meta.success && meta.data.retiredAt ? new Date(meta.data.retiredAt) : undefined;
}

async function loadKey(privateJwk: JWK, publicPart: JWK, kid: string, alg: RingAlg, retired: Date | undefined): Promise<LoadedKey> {
  return {
    kid,
    retiredAt: retired,
    privateKey: (await importJWK({ ...privateJwk, alg }, alg)) as CryptoKey,
    publicKey: (await importJWK({ ...publicPart, alg }, alg)) as CryptoKey,
    publicJwk: { ...publicPart, kid, alg, use: 'sig' },
  };
}

/** A new private key with its kid and the time it was made (bookkeeping that importers ignore). */
export async function generatePrivateJwk(alg: RingAlg = SIGNING_ALG): Promise<JWK & { createdAt: string }> {
  const { privateKey } = await generateKeyPair(alg, { extractable: true, ...(alg === 'RS256' ? { modulusLength: 2048 } : {}) });
  const jwk = await exportJWK(privateKey);
  return {
    ...jwk,
    kid: `ombud-${new Date().toISOString().slice(0, 10)}-${crypto.randomUUID().slice(0, 8)}`,
    createdAt: new Date().toISOString(),
  };
}

export interface KeyListing {
  kid: string;
  state: 'signing' | 'published' | 'expired';
  createdAt: string | undefined;
  retiredAt: string | undefined;
  /** Until when a retired key stays published. */
  publishedUntil: string | undefined;
}

function readKeyFile(file: string): { keys: Array<JWK & { createdAt?: string; retiredAt?: string }> } {
  if (!existsSync(file)) throw new KeyFileError(`Signing key file ${file} is missing`);
  const parsed = JSON.parse(readFileSync(file, 'utf8')) as { keys?: unknown };
  if (!Array.isArray(parsed.keys) || parsed.keys.length === 0) throw new KeyFileError(`${file} holds no keys`);
  return parsed as { keys: Array<JWK & { createdAt?: string; retiredAt?: string }> };
}

export function listKeyFile(file: string, retainSeconds = DEFAULT_RETAIN_SECONDS, now = new Date()): KeyListing[] {
  return readKeyFile(file).keys.map((k, i) => {
    const until = k.retiredAt ? new Date(new Date(k.retiredAt).getTime() + retainSeconds * 1000) : undefined;
    return {
      kid: k.kid as string,
      state: i === 0 ? 'signing' : until && until <= now ? 'expired' : 'published',
      createdAt: k.createdAt,
      retiredAt: k.retiredAt,
      publishedUntil: until?.toISOString(),
    };
  });
}

/**
 * Rotation with overlap: a new key signs from now on; the one it replaces is marked retired and
 * stays published until what it signed has expired; keys past that are dropped from the file.
 * The file is replaced atomically, so a running server never reads half of it.
 */
export async function rotateKeyFile(
  file: string,
  alg: RingAlg = SIGNING_ALG,
  retainSeconds = DEFAULT_RETAIN_SECONDS,
  now = new Date(),
): Promise<{ kid: string; retired: string; dropped: string[] }> {
  const { keys } = readKeyFile(file);
  const fresh = { ...(await generatePrivateJwk(alg)), createdAt: now.toISOString() };
  const [current, ...older] = keys as [JWK & { retiredAt?: string }, ...Array<JWK & { retiredAt?: string }>];
  const cutoff = now.getTime() - retainSeconds * 1000;
  const kept = older.filter((k) => !k.retiredAt || new Date(k.retiredAt).getTime() > cutoff);
  const dropped = older.filter((k) => !kept.includes(k)).map((k) => k.kid as string);
  const next = { keys: [fresh, { ...current, retiredAt: now.toISOString() }, ...kept] };
  // Prove the new file loads before it replaces the old one.
  await loadKeys(next, alg);
  const temporary = `${file}.${process.pid}.tmp`;
  writeFileSync(temporary, JSON.stringify(next, null, 2), { mode: 0o600 });
  renameSync(temporary, file);
  return { kid: fresh.kid as string, retired: current.kid as string, dropped };
}
