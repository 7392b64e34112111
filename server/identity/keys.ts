import { KeyObject, sign as signBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import {
  exportJWK,
  FlattenedSign,
  generateKeyPair,
  importJWK,
  type JWK,
  type JWTPayload,
  jwtVerify,
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

interface LoadedKey {
  kid: string;
  privateKey: CryptoKey;
  /** The same private key for node:crypto, which signs synchronously and faster than WebCrypto. */
  signingKey: KeyObject;
  publicKey: CryptoKey;
  publicJwk: JWK;
}

export class KeyFileError extends Error {
  override name = 'KeyFileError';
}

/**
 * The service's signing keys. The first key signs; every key stays published in the JWKS
 * so that what older keys signed still verifies while it lives.
 */
export class KeyRing {
  private constructor(
    private readonly keys: LoadedKey[],
    readonly alg: RingAlg = SIGNING_ALG,
  ) {}

  static async fromJwks(privateJwks: unknown, alg: RingAlg = SIGNING_ALG): Promise<KeyRing> {
    const keys: LoadedKey[] = [];
    if (alg === 'RS256') {
      const parsed = rsaKeyFileSchema.safeParse(privateJwks);
      if (!parsed.success) throw new KeyFileError('The RSA signing key file must hold {"keys": [RSA (2048+ bit) private JWKs with kid]}');
      for (const jwk of parsed.data.keys) {
        const pub = { kty: jwk.kty, n: jwk.n, e: jwk.e };
        keys.push(await loadKey(jwk, pub, jwk.kid, alg));
      }
      return new KeyRing(keys, alg);
    }
    const parsed = keyFileSchema.safeParse(privateJwks);
    if (!parsed.success) throw new KeyFileError('The signing key file must hold {"keys": [EC P-256 private JWKs with kid]}');
    for (const jwk of parsed.data.keys) {
      keys.push(await loadKey(jwk, { kty: jwk.kty, crv: jwk.crv, x: jwk.x, y: jwk.y }, jwk.kid, alg));
    }
    return new KeyRing(keys);
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
    return KeyRing.fromJwks(JSON.parse(readFileSync(file, 'utf8')), alg);
  }

  get currentKid(): string {
    return (this.keys[0] as LoadedKey).kid;
  }

  jwks(): { keys: JWK[] } {
    return { keys: this.keys.map((k) => k.publicJwk) };
  }

  /** A compact JWS JWT; jose verifies it (see `verify`), node:crypto makes the signature. */
  async sign(claims: JWTPayload, options: { typ: string; issuer: string; audience: string; expiresInSeconds: number }) {
    const key = this.keys[0] as LoadedKey;
    const now = Math.floor(Date.now() / 1000);
    const header = base64url({ alg: this.alg, kid: key.kid, typ: options.typ });
    const payload = base64url({ ...claims, iss: options.issuer, aud: options.audience, iat: now, exp: now + options.expiresInSeconds });
    const input = `${header}.${payload}`;
    // ES256 signatures in a JWS are r‖s (IEEE P1363), not DER; RSA keys ignore the option.
    const signature = signBytes('sha256', Buffer.from(input), { key: key.signingKey, dsaEncoding: 'ieee-p1363' });
    return `${input}.${signature.toString('base64url')}`;
  }

  /** Verifies a token we issued: algorithm, kid, issuer, audience and type pinned. */
  async verify(token: string, options: { typ: string; issuer: string; audience: string }) {
    return jwtVerify(
      token,
      async (header) => {
        const key = this.keys.find((k) => k.kid === header.kid);
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
    const key = this.keys[0] as LoadedKey;
    const jws = await new FlattenedSign(payload).setProtectedHeader({ alg: this.alg, kid: key.kid }).sign(key.privateKey);
    return { protected: jws.protected as string, signature: jws.signature };
  }
}

function base64url(value: unknown): string {
  return Buffer.from(JSON.stringify(value)).toString('base64url');
}

async function loadKey(privateJwk: JWK, publicPart: JWK, kid: string, alg: RingAlg): Promise<LoadedKey> {
  const privateKey = (await importJWK({ ...privateJwk, alg }, alg)) as CryptoKey;
  return {
    kid,
    privateKey,
    signingKey: KeyObject.from(privateKey),
    publicKey: (await importJWK({ ...publicPart, alg }, alg)) as CryptoKey,
    publicJwk: { ...publicPart, kid, alg, use: 'sig' },
  };
}

export async function generatePrivateJwk(alg: RingAlg = SIGNING_ALG): Promise<JWK> {
  const { privateKey } = await generateKeyPair(alg, { extractable: true, ...(alg === 'RS256' ? { modulusLength: 2048 } : {}) });
  const jwk = await exportJWK(privateKey);
  return { ...jwk, kid: `ombud-${new Date().toISOString().slice(0, 10)}-${crypto.randomUUID().slice(0, 8)}` };
}
