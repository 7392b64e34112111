import { describe, expect, it } from 'vitest';
import { generateClientSecret, hashClientSecret, verifyClientSecret } from '../../server/identity/client-secret.ts';
import { uuidV5 } from '../../server/minaombud/codes.ts';
import { lastDay, swedishDate, timestamp } from '../../server/minaombud/view.ts';

describe('behörighet codes', () => {
  it('are RFC 9562 version 5 UUIDs (the RFC test vector)', () => {
    expect(uuidV5('www.example.com', '6ba7b810-9dad-11d1-80b4-00c04fd430c8')).toBe('2ed6657d-e927-568b-95e1-2665a8aea6a2');
  });

  it('depend on the name only', () => {
    expect(uuidV5('skatteverket.income-tax/submit-return')).toBe(uuidV5('skatteverket.income-tax/submit-return'));
    expect(uuidV5('skatteverket.income-tax/submit-return')).not.toBe(uuidV5('skatteverket.income-tax/view-return'));
  });
});

describe('client secrets', () => {
  it('verify against their own hash only, and never against a missing or malformed one', async () => {
    const secret = generateClientSecret();
    const hash = await hashClientSecret(secret);
    expect(hash).toMatch(/^scrypt\$16384\$8\$1\$[A-Za-z0-9_-]+\$[A-Za-z0-9_-]+$/);
    expect(hash).not.toContain(secret);
    expect(await verifyClientSecret(secret, hash)).toBe(true);
    expect(await verifyClientSecret(`${secret}x`, hash)).toBe(false);
    expect(await verifyClientSecret(secret, null)).toBe(false);
    expect(await verifyClientSecret(secret, 'scrypt$1$1$1$abc')).toBe(false);
    expect(await hashClientSecret(secret)).not.toBe(hash);
  });
});

describe('times and dates as the consumer API writes them', () => {
  it('trims the fraction of a timestamp the way Java writes it back', () => {
    expect(timestamp(new Date('2022-09-07T12:24:30.120Z'))).toBe('2022-09-07T12:24:30.12Z');
    expect(timestamp(new Date('2022-09-07T12:24:30.000Z'))).toBe('2022-09-07T12:24:30Z');
    expect(timestamp(new Date('2022-09-07T12:24:30.123Z'))).toBe('2022-09-07T12:24:30.123Z');
  });

  it('gives Swedish calendar dates, and the last day a validity holds', () => {
    expect(swedishDate(new Date('2024-03-31T22:30:00Z'))).toBe('2024-04-01');
    // Valid until midnight Swedish time: the last day is the day before.
    expect(lastDay(new Date('2024-09-06T22:00:00Z'))).toBe('2024-09-06');
    expect(lastDay(new Date('2024-09-07T22:00:00Z'))).toBe('2024-09-07');
  });
});
