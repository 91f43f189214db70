import type { Server } from 'node:http';
import { connect } from 'node:net';
import { MAX_HEADER_BYTES } from '../../src/api/client-errors';
import { listen } from '../../src/runtime';
import { portOf } from '../helpers/process-stack';

/** Sends raw bytes and returns the whole reply. */
function raw(port: number, bytes: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1', () => socket.write(bytes));
    let reply = '';
    socket.on('data', (d: Buffer) => (reply += d.toString('utf8')));
    socket.on('end', () => resolve(reply));
    socket.on('error', reject);
  });
}

const bodyOf = (reply: string) =>
  JSON.parse(reply.slice(reply.indexOf('\r\n\r\n') + 4)) as {
    error: { code: string; message: string; innerError: Record<string, string> };
  };

describe('requests Node refuses before the app sees them', () => {
  let server: Server;
  let port: number;
  beforeAll(async () => {
    server = await listen((_req, res) => res.end('ok'), 0, '127.0.0.1');
    port = portOf(server);
  });
  afterAll(() => new Promise((resolve) => server.close(resolve)));

  it('accepts a URL of long query options below the limit', async () => {
    const reply = await raw(
      port,
      `GET /x?$filter=${'a'.repeat(40_000)} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n`,
    );
    expect(reply).toMatch(/^HTTP\/1\.1 200/);
  });

  it('answers a URL and headers over the limit with 431 in the Graph error shape', async () => {
    const reply = await raw(
      port,
      `GET /x?$filter=${'%F0%9F%98%80'.repeat(MAX_HEADER_BYTES / 12 + 10)} HTTP/1.1\r\nHost: x\r\n\r\n`,
    );
    expect(reply).toMatch(/^HTTP\/1\.1 431 /);
    expect(reply).toMatch(/content-type: application\/json/i);
    const { error } = bodyOf(reply);
    expect(error.code).toBe('request.headers_too_large');
    expect(error.innerError['request-id']).toMatch(/^[0-9a-f-]{36}$/);
    expect(reply).toContain(`request-id: ${error.innerError['request-id']}`);
  });

  it('answers bytes that are not HTTP with 400 request.malformed_http', async () => {
    const reply = await raw(port, 'NOT HTTP AT ALL\r\n\r\n');
    expect(reply).toMatch(/^HTTP\/1\.1 400 /);
    expect(bodyOf(reply).error.code).toBe('request.malformed_http');
  });
});
