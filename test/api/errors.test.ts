import express from 'express';
import pino from 'pino';
import request from 'supertest';
import { errorHandler } from '../../src/api/errors';
import { DirectoryUnavailableError } from '../../src/directory/port';

// The one error middleware, driven by a route that fails the way a directory adapter does when its server
// is busy or unreachable: the caller gets a 503 to retry, not a 500.

it('answers a directory that cannot be reached with 503 directory.unavailable and Retry-After', async () => {
  const lines: { level: number; msg: string }[] = [];
  const logger = pino({ level: 'warn' }, { write: (line: string) => lines.push(JSON.parse(line)) });
  const app = express();
  app.get('/boom', () => {
    throw new DirectoryUnavailableError('State file x is locked by another writer');
  });
  app.use(errorHandler(logger));
  const res = await request(app).get('/boom');
  expect(res.status).toBe(503);
  expect(res.headers['retry-after']).toBe('5');
  expect(res.body.error).toMatchObject({ code: 'directory.unavailable' });
  expect(JSON.stringify(res.body)).not.toContain('locked by another writer');
  expect(lines.some((l) => l.msg === 'directory unavailable')).toBe(true);
});
