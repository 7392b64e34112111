import pino, { type Logger } from 'pino';

/** Structured logs; anything that could carry a credential is redacted at the source. */
export function createLogger(level: string): Logger {
  return pino({
    level,
    base: { service: 'ombud' },
    redact: {
      paths: [
        'req.headers.authorization',
        'req.headers.cookie',
        'res.headers["set-cookie"]',
        '*.client_assertion',
        '*.access_token',
        '*.decisionToken',
        '*.password',
        '*.token',
      ],
      censor: '[redacted]',
    },
  });
}
