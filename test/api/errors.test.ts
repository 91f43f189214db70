import express from 'express';
import pino from 'pino';
import request from 'supertest';
import { errorHandler } from '../../src/api/errors';
import { AppError } from '../../src/domain/errors';
import { DirectoryUnavailableError } from '../../src/directory/port';

// The one error middleware, driven by a route that fails the way a directory adapter does when its server
// is busy or unreachable (the caller gets a 503 to retry, not a 500), and by a rule's refusal that names
// its field.

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

it("names the field a rule's 400 message starts with as its one detail, dotted; other refusals carry none", async () => {
  const app = express();
  app.get('/rule', () => {
    throw new AppError(
      'definition.invalid',
      "stageSettings[1].dependsOn: stage '2' must depend on exactly ['1']",
    );
  });
  app.get('/conflict', () => {
    throw new AppError('review.stage_not_in_progress', 'stageId: not in progress');
  });
  app.get('/plain', () => {
    throw new AppError('request.malformed_json', 'The request body is not valid JSON');
  });
  app.use(errorHandler(pino({ level: 'silent' })));
  const rule = await request(app).get('/rule');
  expect(rule.status).toBe(400);
  expect(rule.body.error).toMatchObject({
    code: 'definition.invalid',
    message: "stageSettings[1].dependsOn: stage '2' must depend on exactly ['1']",
    details: [
      {
        code: 'definition.invalid',
        message: "stage '2' must depend on exactly ['1']",
        target: 'stageSettings.1.dependsOn',
      },
    ],
  });
  expect((await request(app).get('/conflict')).body.error).not.toHaveProperty('details');
  expect((await request(app).get('/plain')).body.error).not.toHaveProperty('details');
});
