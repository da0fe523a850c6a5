import pino, { type Logger } from 'pino';

/**
 * Personal data (names, phones, marks, message texts) must never reach logs at info level.
 * Log ids, not people: code logs `personId`, `schoolId`, `updateId`; the paths below are
 * redacted in case a payload slips through.
 */
export const REDACTED_PATHS = [
  'name',
  '*.name',
  'firstName',
  '*.firstName',
  'lastName',
  '*.lastName',
  'phone',
  '*.phone',
  'text',
  '*.text',
  'value',
  '*.value',
  'update.message',
  'update.callback_query.from',
  'token',
  '*.token',
  'botToken',
];

export function createLogger(level: string, destination?: pino.DestinationStream): Logger {
  return pino(
    {
      level,
      redact: { paths: REDACTED_PATHS, censor: '[redacted]' },
      base: { service: 'school-journal-bot' },
    },
    destination,
  );
}

export type { Logger };
