import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import {
  exportJWK,
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
  private constructor(private readonly keys: LoadedKey[]) {}

  static async fromJwks(privateJwks: unknown): Promise<KeyRing> {
    const parsed = keyFileSchema.safeParse(privateJwks);
    if (!parsed.success) throw new KeyFileError('The signing key file must hold {"keys": [EC P-256 private JWKs with kid]}');
    const keys: LoadedKey[] = [];
    for (const jwk of parsed.data.keys) {
      const { d: _d, ...pub } = jwk;
      keys.push({
        kid: jwk.kid,
        privateKey: (await importJWK({ ...jwk, alg: SIGNING_ALG }, SIGNING_ALG)) as CryptoKey,
        publicKey: (await importJWK({ ...pub, alg: SIGNING_ALG }, SIGNING_ALG)) as CryptoKey,
        publicJwk: { kty: pub.kty, crv: pub.crv, x: pub.x, y: pub.y, kid: jwk.kid, alg: SIGNING_ALG, use: 'sig' },
      });
    }
    return new KeyRing(keys);
  }

  /** Production reads the configured file; development makes one in the data dir once. */
  static async load(options: { file: string | undefined; dataDir: string; generate: boolean }): Promise<KeyRing> {
    const file = options.file ?? path.join(options.dataDir, 'signing-keys.json');
    if (!existsSync(file)) {
      if (!options.generate) throw new KeyFileError(`Signing key file ${file} is missing`);
      mkdirSync(path.dirname(file), { recursive: true });
      writeFileSync(file, JSON.stringify({ keys: [await generatePrivateJwk()] }, null, 2), { mode: 0o600 });
    }
    return KeyRing.fromJwks(JSON.parse(readFileSync(file, 'utf8')));
  }

  get currentKid(): string {
    return (this.keys[0] as LoadedKey).kid;
  }

  jwks(): { keys: JWK[] } {
    return { keys: this.keys.map((k) => k.publicJwk) };
  }

  async sign(claims: JWTPayload, options: { typ: string; issuer: string; audience: string; expiresInSeconds: number }) {
    const key = this.keys[0] as LoadedKey;
    return new SignJWT(claims)
      .setProtectedHeader({ alg: SIGNING_ALG, kid: key.kid, typ: options.typ })
      .setIssuer(options.issuer)
      .setAudience(options.audience)
      .setIssuedAt()
      .setExpirationTime(`${options.expiresInSeconds}s`)
      .sign(key.privateKey);
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
      { algorithms: [SIGNING_ALG], issuer: options.issuer, audience: options.audience, typ: options.typ },
    );
  }
}

export async function generatePrivateJwk(): Promise<JWK> {
  const { privateKey } = await generateKeyPair(SIGNING_ALG, { extractable: true });
  const jwk = await exportJWK(privateKey);
  return { ...jwk, kid: `ombud-${new Date().toISOString().slice(0, 10)}-${crypto.randomUUID().slice(0, 8)}` };
}
