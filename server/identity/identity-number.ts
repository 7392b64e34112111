/**
 * Swedish identity numbers: personnummer, samordningsnummer and organisationsnummer.
 * Persons normalise to 12 digits `YYYYMMDDNNNC`, organisations to 10 digits; both are
 * Luhn-checked over their last ten digits.
 */

export type IdentityKind = 'personnummer' | 'samordningsnummer' | 'organisationsnummer';

export interface IdentityNumber {
  kind: IdentityKind;
  /** Normalised form: 12 digits for persons, 10 for organisations. */
  value: string;
}

/** What is wrong with a number, so a form can say it in the reader's own language. */
export type IdentityNumberFault = 'format' | 'date' | 'check-digit';

export class InvalidIdentityNumberError extends Error {
  override name = 'InvalidIdentityNumberError';
  readonly fault: IdentityNumberFault;
  constructor(message: string, fault: IdentityNumberFault = 'format') {
    super(message);
    this.fault = fault;
  }
}

export function luhnValid(digits: string): boolean {
  let sum = 0;
  for (let i = 0; i < digits.length; i++) {
    let d = digits.charCodeAt(digits.length - 1 - i) - 48;
    if (i % 2 === 1) {
      d *= 2;
      if (d > 9) d -= 9;
    }
    sum += d;
  }
  return sum % 10 === 0;
}

/** The check digit that makes `nineDigits + digit` pass the Luhn test. */
export function luhnCheckDigit(nineDigits: string): string {
  for (let d = 0; d <= 9; d++) {
    if (luhnValid(nineDigits + d)) return String(d);
  }
  throw new Error('unreachable: some digit always satisfies Luhn');
}

function isRealDate(year: number, month: number, day: number): boolean {
  if (month < 1 || month > 12 || day < 1) return false;
  const last = new Date(Date.UTC(year, month, 0)).getUTCDate();
  return day <= last;
}

const PERSON_12 = /^(\d{4})(\d{2})(\d{2})-?(\d{4})$/;
const PERSON_10 = /^(\d{2})(\d{2})(\d{2})([-+]?)(\d{4})$/;

/**
 * Parses a person's number in any common written form (`YYYYMMDDNNNC`, `YYYYMMDD-NNNC`,
 * `YYMMDD-NNNC`, `YYMMDDNNNC`, `YYMMDD+NNNC` for people aged 100 or more).
 * A two-digit year takes the latest century that does not put the birth in the future
 * (relative to `today`), one century earlier with `+`.
 */
export function parsePersonNumber(input: string, today: Date = new Date()): IdentityNumber {
  const text = input.trim();
  let year: number;
  let month: number;
  let day: number;
  let tail: string;
  const long = PERSON_12.exec(text);
  const short = long ? null : PERSON_10.exec(text);
  if (long) {
    year = Number(long[1]);
    month = Number(long[2]);
    day = Number(long[3]);
    tail = long[4] as string;
  } else if (short) {
    const yy = Number(short[1]);
    month = Number(short[2]);
    day = Number(short[3]);
    tail = short[5] as string;
    const thisYear = today.getUTCFullYear();
    if (short[4] === '+') {
      // "+" is written from the calendar year a person turns 100, birthday or not.
      year = Math.floor((thisYear - 100) / 100) * 100 + yy;
      if (year > thisYear - 100) year -= 100;
    } else {
      year = Math.floor(thisYear / 100) * 100 + yy;
      const birthdayThisYear = Date.UTC(year, month - 1, day > 60 ? day - 60 : day);
      if (birthdayThisYear > today.getTime()) year -= 100;
    }
  } else {
    throw new InvalidIdentityNumberError('A personal identity number has 10 or 12 digits, e.g. 19121212-1212.');
  }
  const coordination = day > 60;
  const realDay = coordination ? day - 60 : day;
  if (!isRealDate(year, month, realDay)) {
    throw new InvalidIdentityNumberError('The date in the personal identity number does not exist.', 'date');
  }
  const yy = String(year % 100).padStart(2, '0');
  const mm = String(month).padStart(2, '0');
  const dd = String(day).padStart(2, '0');
  const ten = `${yy}${mm}${dd}${tail}`;
  if (!luhnValid(ten)) {
    throw new InvalidIdentityNumberError('The check digit of the personal identity number is wrong.', 'check-digit');
  }
  return {
    kind: coordination ? 'samordningsnummer' : 'personnummer',
    value: `${String(year).padStart(4, '0')}${mm}${dd}${tail}`,
  };
}

const ORG = /^(?:16)?(\d{6})-?(\d{4})$/;

/** Parses an organisation number (`NNNNNN-NNNN`, `NNNNNNNNNN`, optionally prefixed `16`). */
export function parseOrganisationNumber(input: string): IdentityNumber {
  const m = ORG.exec(input.trim());
  if (!m) {
    throw new InvalidIdentityNumberError('An organisation number has 10 digits, e.g. 556016-0680.');
  }
  const value = `${m[1]}${m[2]}`;
  // The third digit is at least 2 for legal entities; that is what tells them from birth dates.
  if (Number(value[2]) < 2) {
    throw new InvalidIdentityNumberError('This is not an organisation number (the third digit must be 2 or more).');
  }
  if (!luhnValid(value)) {
    throw new InvalidIdentityNumberError('The check digit of the organisation number is wrong.');
  }
  return { kind: 'organisationsnummer', value };
}

/** Birth date of a person from a normalised 12-digit number (coordination day offset removed). */
export function birthDateOf(personNumber: string): Date {
  const year = Number(personNumber.slice(0, 4));
  const month = Number(personNumber.slice(4, 6));
  const rawDay = Number(personNumber.slice(6, 8));
  return new Date(Date.UTC(year, month - 1, rawDay > 60 ? rawDay - 60 : rawDay));
}

/** The instant the person turns 18 (midnight UTC of the 18th birthday). */
export function adulthoodOf(personNumber: string): Date {
  const birth = birthDateOf(personNumber);
  return new Date(Date.UTC(birth.getUTCFullYear() + 18, birth.getUTCMonth(), birth.getUTCDate()));
}

/** Whether the person is under 18 at `at`. */
export function isMinorAt(personNumber: string, at: Date): boolean {
  return at.getTime() < adulthoodOf(personNumber).getTime();
}
