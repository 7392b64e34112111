import { InvalidIdentityNumberError, parsePersonNumber } from '../../server/identity/identity-number.ts';
import type { Strings } from './i18n/strings.ts';

/** The same check the server makes, so a mistyped number is explained before anything is sent. */
export function checkPersonNumber(raw: string, s: Strings): { value: string } | { error: string } {
  try {
    return { value: parsePersonNumber(raw.trim()).value };
  } catch (e) {
    if (!(e instanceof InvalidIdentityNumberError)) throw e;
    return { error: { format: s.pnrFormat, date: s.pnrDate, 'check-digit': s.pnrCheckDigit }[e.fault] };
  }
}

/** Typed far enough to judge: a personal number has at least 10 digits. */
export function looksComplete(raw: string): boolean {
  return raw.replace(/\D/g, '').length >= 10;
}
