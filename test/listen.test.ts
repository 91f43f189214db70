import type { Server } from 'node:http';
import express from 'express';
import { listen } from '../src/runtime';
import { portOf } from './helpers/process-stack';

describe('listening for HTTP', () => {
  const servers: Server[] = [];
  afterEach(async () => {
    await Promise.all(servers.splice(0).map((s) => new Promise((r) => s.close(r))));
  });

  it('answers once the port is bound', async () => {
    const app = express().get('/ping', (_req, res) => void res.send('pong'));
    const server = await listen(app, 0, '127.0.0.1');
    servers.push(server);
    const res = await fetch(`http://127.0.0.1:${portOf(server)}/ping`);
    expect(await res.text()).toBe('pong');
  });

  it('rejects, naming HOST and PORT, when the port is already taken', async () => {
    const first = await listen(express(), 0, '127.0.0.1');
    servers.push(first);
    const port = portOf(first);
    const second = listen(express(), port, '127.0.0.1');
    // Express 5 passes the EADDRINUSE error to the listen callback; a second server must not look started.
    second.then((s) => servers.push(s)).catch(() => undefined);
    await expect(second).rejects.toThrow(
      `Cannot listen on HOST=127.0.0.1 PORT=${port}: listen EADDRINUSE: address already in use 127.0.0.1:${port}`,
    );
  });

  it('names the setting it was given, for listeners other than the API', async () => {
    const first = await listen(express(), 0, '127.0.0.1');
    servers.push(first);
    const port = portOf(first);
    await expect(listen(express(), port, '127.0.0.1', 'WORKER_HEALTH_PORT')).rejects.toThrow(
      `Cannot listen on HOST=127.0.0.1 WORKER_HEALTH_PORT=${port}: `,
    );
  });
});
