import fs from 'node:fs';
import http2 from 'node:http2';
import { portOf } from './process-stack';

// A TLS-terminating gRPC proxy in front of a plaintext Temporal dev server, standing in for a Temporal
// cluster with TLS (optionally mTLS) or for Temporal Cloud's API-key check: HTTP/2 streams are passed on
// one by one, so the proxy sees each request's `authorization` header.

export interface GrpcTlsProxyOptions {
  /** host:port of the plaintext Temporal frontend. */
  upstream: string;
  certFile: string;
  keyFile: string;
  /** Require a client certificate signed by this CA (mTLS). */
  clientCaFile?: string;
  /** Answer UNAUTHENTICATED unless a request carries `authorization: Bearer <apiKey>`. */
  apiKey?: string;
}

export interface GrpcTlsProxy {
  port: number;
  /** Requests passed on to Temporal, and requests refused for a missing or wrong API key. */
  counts: { passed: number; refused: number };
  close(): Promise<void>;
}

const GRPC_UNAUTHENTICATED = '16';

/** Starts the proxy on a random loopback port. */
export async function startGrpcTlsProxy(options: GrpcTlsProxyOptions): Promise<GrpcTlsProxy> {
  const upstream = http2.connect(`http://${options.upstream}`);
  upstream.on('error', () => undefined); // surfaces on the streams that use it
  const counts = { passed: 0, refused: 0 };
  const server = http2.createSecureServer({
    cert: fs.readFileSync(options.certFile),
    key: fs.readFileSync(options.keyFile),
    ...(options.clientCaFile
      ? { ca: fs.readFileSync(options.clientCaFile), requestCert: true, rejectUnauthorized: true }
      : {}),
  });
  server.on('stream', (stream, headers) => {
    stream.on('error', () => undefined);
    if (options.apiKey !== undefined && headers.authorization !== `Bearer ${options.apiKey}`) {
      counts.refused++;
      stream.respond(
        {
          ':status': 200,
          'content-type': 'application/grpc',
          'grpc-status': GRPC_UNAUTHENTICATED,
          'grpc-message': 'missing or wrong API key',
        },
        { endStream: true },
      );
      return;
    }
    counts.passed++;
    const forwarded = Object.fromEntries(
      Object.entries(headers).filter(([name]) => name !== ':scheme' && name !== ':authority'),
    );
    const request = upstream.request(forwarded);
    request.on('error', () => stream.close(http2.constants.NGHTTP2_INTERNAL_ERROR));
    stream.on('close', () => request.close());
    stream.pipe(request);
    let trailers: http2.OutgoingHttpHeaders = {};
    request.on('trailers', (received) => (trailers = received));
    request.on('response', (response) => {
      if ('grpc-status' in response) {
        // Trailers-only answer (an error before any message): nothing follows.
        stream.respond(response, { endStream: true });
        return;
      }
      stream.respond(response, { waitForTrailers: true });
      stream.on('wantTrailers', () => stream.sendTrailers(trailers));
      request.pipe(stream);
    });
  });
  server.on('sessionError', () => undefined);
  const sessions = new Set<http2.ServerHttp2Session>();
  server.on('session', (session) => {
    sessions.add(session);
    session.once('close', () => sessions.delete(session));
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  return {
    port: portOf(server),
    counts,
    close: () =>
      new Promise<void>((resolve) => {
        upstream.close();
        server.close(() => resolve());
        // Open sessions (a worker's long polls) would keep close waiting.
        for (const session of sessions) session.destroy();
      }),
  };
}
