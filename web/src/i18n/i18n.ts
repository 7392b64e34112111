import { CATALOGUE, type Language, type Strings } from './strings.ts';

const STORAGE_KEY = 'ombud.language';
const LOCALES: Record<Language, string> = { sv: 'sv-SE', en: 'en-GB' };

/** Swedish unless the person chose English on this device. */
let current: Language = localStorage.getItem(STORAGE_KEY) === 'en' ? 'en' : 'sv';
const changes = new EventTarget();

export function language(): Language {
  return current;
}

export function t(): Strings {
  return CATALOGUE[current];
}

export function setLanguage(next: Language): void {
  current = next;
  localStorage.setItem(STORAGE_KEY, next);
  document.documentElement.lang = next;
  changes.dispatchEvent(new Event('change'));
}

export function onLanguageChange(listener: () => void): () => void {
  changes.addEventListener('change', listener);
  return () => changes.removeEventListener('change', listener);
}

/** A day as people write it: "23 november 2027" / "23 November 2027". */
export function formatDate(iso: string | Date): string {
  return new Intl.DateTimeFormat(LOCALES[current], { dateStyle: 'long' }).format(new Date(iso));
}

export function formatDateTime(iso: string | Date): string {
  return new Intl.DateTimeFormat(LOCALES[current], { dateStyle: 'long', timeStyle: 'short' }).format(new Date(iso));
}

export function formatNumber(n: number): string {
  return new Intl.NumberFormat(LOCALES[current]).format(n);
}

/** "a, b och c" / "a, b and c". */
export function formatList(items: readonly string[]): string {
  return new Intl.ListFormat(LOCALES[current], { type: 'conjunction' }).format(items);
}

/** Picks the reader's language from a catalogue text that carries both. */
export function localised(text: { sv: string; en: string }): string {
  return text[current];
}

document.documentElement.lang = current;
