/** What a notification says, in Swedish and English. Names are never included: a recipient may
 * not know, or may not be allowed to learn, the other party's name (protected identity). */
export interface Message {
  subject: { sv: string; en: string };
  text: { sv: string; en: string };
}

export type NotificationKind =
  | 'mandate.granted'
  | 'mandate.registered-by-official'
  | 'mandate.revoked'
  | 'mandate.returned'
  | 'mandate.invalidated'
  | 'mandate.expiring'
  | 'request.received'
  | 'request.approved'
  | 'request.declined';

const str = (v: unknown): string => (typeof v === 'string' || typeof v === 'number' ? String(v) : '');

function day(v: unknown): string {
  const d = new Date(str(v));
  return Number.isNaN(d.getTime()) ? '' : d.toISOString().slice(0, 10);
}

function list(v: unknown): string {
  return Array.isArray(v) ? v.map(str).join(', ') : '';
}

export function render(kind: string, data: Record<string, unknown>): Message {
  const ref = str(data.mandateId);
  const request = str(data.requestId);
  switch (kind as NotificationKind) {
    case 'mandate.granted':
      return {
        subject: { sv: 'En fullmakt har registrerats', en: 'A power of attorney has been registered' },
        text: {
          sv: `Fullmakt ${ref} gäller ${list(data.services)} till ${day(data.validTo)}.`,
          en: `Power of attorney ${ref} covers ${list(data.services)} until ${day(data.validTo)}.`,
        },
      };
    case 'mandate.registered-by-official':
      return {
        subject: {
          sv: 'En handläggare har registrerat en fullmakt åt dig',
          en: 'An official has registered a power of attorney for you',
        },
        text: {
          sv: `Fullmakt ${ref} för ${list(data.services)} till ${day(data.validTo)} registrerades utifrån ${str(data.documentReference)}. Kontakta oss om du inte känner igen den.`,
          en: `Power of attorney ${ref} for ${list(data.services)} until ${day(data.validTo)} was registered from ${str(data.documentReference)}. Contact us if you do not recognise it.`,
        },
      };
    case 'mandate.revoked':
      return {
        subject: { sv: 'En fullmakt har återkallats', en: 'A power of attorney has been revoked' },
        text: { sv: `Fullmakt ${ref} gäller inte längre.`, en: `Power of attorney ${ref} is no longer valid.` },
      };
    case 'mandate.returned':
      return {
        subject: { sv: 'En fullmakt har lämnats tillbaka', en: 'A power of attorney has been returned' },
        text: {
          sv: `Ombudet har lämnat tillbaka fullmakt ${ref}; den gäller inte längre.`,
          en: `The agent has returned power of attorney ${ref}; it is no longer valid.`,
        },
      };
    case 'mandate.invalidated':
      return {
        subject: {
          sv: 'En myndighet godtar inte längre en fullmakt',
          en: 'An agency no longer accepts a power of attorney',
        },
        text: {
          sv: `${str(data.agency)} har förklarat fullmakt ${ref} ogiltig för ${list(data.services)}. Skäl: ${str(data.reason)}`,
          en: `${str(data.agency)} has declared power of attorney ${ref} invalid for ${list(data.services)}. Reason: ${str(data.reason)}`,
        },
      };
    case 'mandate.expiring':
      return {
        subject: {
          sv: `En fullmakt upphör om ${str(data.days)} dagar`,
          en: `A power of attorney ends in ${str(data.days)} days`,
        },
        text: {
          sv: `Fullmakt ${ref} upphör ${day(data.validTo)}. Ge en ny fullmakt om den ska fortsätta gälla.`,
          en: `Power of attorney ${ref} ends on ${day(data.validTo)}. Grant a new one if it should continue.`,
        },
      };
    case 'request.received':
      return {
        subject: { sv: 'Någon ber dig om en fullmakt', en: 'Someone asks you for a power of attorney' },
        text: {
          sv: `Förfrågan ${request} gäller ${list(data.services)}. Godkänn eller avböj den i Ombud; den upphör ${day(data.expiresAt)}.`,
          en: `Request ${request} is for ${list(data.services)}. Approve or decline it in Ombud; it expires on ${day(data.expiresAt)}.`,
        },
      };
    case 'request.approved':
      return {
        subject: { sv: 'Din förfrågan om fullmakt har godkänts', en: 'Your request for a power of attorney was approved' },
        text: {
          sv: `Förfrågan ${request} godkändes; fullmakt ${str(data.mandateId)} gäller ${list(data.services)}.`,
          en: `Request ${request} was approved; power of attorney ${str(data.mandateId)} covers ${list(data.services)}.`,
        },
      };
    case 'request.declined':
      return {
        subject: { sv: 'Din förfrågan om fullmakt har avböjts', en: 'Your request for a power of attorney was declined' },
        text: { sv: `Förfrågan ${request} avböjdes.`, en: `Request ${request} was declined.` },
      };
    default:
      return { subject: { sv: 'Meddelande från Ombud', en: 'Message from Ombud' }, text: { sv: kind, en: kind } };
  }
}
