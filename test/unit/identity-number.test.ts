import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  InvalidIdentityNumberError,
  isMinorAt,
  luhnCheckDigit,
  luhnValid,
  parseOrganisationNumber,
  parsePersonNumber,
} from '../../server/identity/identity-number.ts';

const TODAY = new Date('2026-11-23T12:00:00Z');

/** Valid person numbers, built from a real date and a serial with the right check digit. */
const personArb = fc
  .record({
    date: fc.date({ min: new Date('1900-01-01T00:00:00Z'), max: new Date('2026-11-22T00:00:00Z'), noInvalidDate: true }),
    serial: fc.integer({ min: 0, max: 999 }),
    coordination: fc.boolean(),
  })
  .map(({ date, serial, coordination }) => {
    const y = date.getUTCFullYear();
    const mm = String(date.getUTCMonth() + 1).padStart(2, '0');
    const dd = String(date.getUTCDate() + (coordination ? 60 : 0)).padStart(2, '0');
    const nine = `${String(y % 100).padStart(2, '0')}${mm}${dd}${String(serial).padStart(3, '0')}`;
    return { full: `${y}${mm}${dd}${nine.slice(6)}${luhnCheckDigit(nine)}`, coordination, year: y };
  });

describe('personal identity numbers', () => {
  it('accepts the common written forms of the test number 19121212-1212', () => {
    const forms: Array<[string, string]> = [
      ['191212121212', '191212121212'],
      ['19121212-1212', '191212121212'],
      [' 19121212-1212 ', '191212121212'],
      ['121212+1212', '191212121212'],
      // Without "+", a two-digit year means the most recent such year: 2012.
      ['121212-1212', '201212121212'],
      ['1212121212', '201212121212'],
    ];
    for (const [form, normalised] of forms) expect(parsePersonNumber(form, TODAY).value, form).toBe(normalised);
  });

  it('puts a two-digit year in the latest century that is not in the future, and one earlier with +', () => {
    expect(parsePersonNumber('400321-2380', TODAY).value).toBe('194003212380');
    expect(parsePersonNumber('400321+2380', TODAY).value).toBe('184003212380');
    // "+" from the calendar year of the 100th birthday, even before the birthday itself.
    expect(parsePersonNumber('261231+0009', TODAY).value).toBe('192612310009');
    expect(parsePersonNumber('150322-2463', TODAY).value).toBe('201503222463');
  });

  it('round-trips every valid number through its 12-digit, dashed and 10-digit forms', () => {
    fc.assert(
      fc.property(personArb, ({ full, coordination, year }) => {
        const parsed = parsePersonNumber(full, TODAY);
        expect(parsed.value).toBe(full);
        expect(parsed.kind).toBe(coordination ? 'samordningsnummer' : 'personnummer');
        expect(parsePersonNumber(`${full.slice(0, 8)}-${full.slice(8)}`, TODAY).value).toBe(full);
        const short = `${full.slice(2, 8)}${TODAY.getUTCFullYear() - year >= 100 ? '+' : '-'}${full.slice(8)}`;
        expect(parsePersonNumber(short, TODAY).value).toBe(full);
      }),
    );
  });

  it('rejects any single wrong digit (Luhn)', () => {
    fc.assert(
      fc.property(personArb, fc.integer({ min: 2, max: 11 }), fc.integer({ min: 1, max: 9 }), ({ full }, pos, delta) => {
        const digit = (Number(full[pos]) + delta) % 10;
        const changed = `${full.slice(0, pos)}${digit}${full.slice(pos + 1)}`;
        expect(() => parsePersonNumber(changed, TODAY)).toThrow(InvalidIdentityNumberError);
      }),
    );
  });

  it('rejects dates that do not exist and anything that is not a number', () => {
    for (const bad of ['19900230-0000', '19901301-0000', '', 'abc', '1212121212121', '19121212_1212', '19121212--1212', '１９１２１２１２１２１２']) {
      expect(() => parsePersonNumber(bad, TODAY), bad).toThrow(InvalidIdentityNumberError);
    }
  });

  it('knows when a person is a minor', () => {
    expect(isMinorAt('201503222463', TODAY)).toBe(true);
    expect(isMinorAt('201503222463', new Date('2033-03-22T00:00:00Z'))).toBe(false);
    expect(isMinorAt('201503222463', new Date('2033-03-21T23:59:59Z'))).toBe(true);
    expect(isMinorAt('194003212380', TODAY)).toBe(false);
  });
});

describe('organisation numbers', () => {
  it('accepts 10 digits with or without dash and the 16 prefix', () => {
    for (const form of ['556677-8899', '5566778899', '165566778899', '16556677-8899']) {
      expect(parseOrganisationNumber(form)).toEqual({ kind: 'organisationsnummer', value: '5566778899' });
    }
  });

  it('rejects a birth-date-like number and a wrong check digit', () => {
    expect(() => parseOrganisationNumber('121212-1212')).toThrow(/third digit/);
    expect(() => parseOrganisationNumber('556677-8898')).toThrow(/check digit/);
  });

  it('every valid organisation number built with the check digit parses to itself', () => {
    fc.assert(
      fc.property(fc.integer({ min: 2, max: 9 }), fc.integer({ min: 0, max: 9_999_999 }), fc.integer({ min: 1, max: 9 }), (third, rest, first) => {
        const nine = `${first}${(rest % 10)}${third}${String(rest).padStart(7, '0').slice(0, 6)}`;
        const value = nine + luhnCheckDigit(nine);
        expect(luhnValid(value)).toBe(true);
        expect(parseOrganisationNumber(value).value).toBe(value);
      }),
    );
  });
});
