import { readFile } from 'node:fs/promises';
import net from 'node:net';
import tls from 'node:tls';
import type { TLSConfig } from '@temporalio/client';
import type { TemporalConnectionSettings } from './config';
import { temporalTlsEnabled } from './config';

/** Where and how to reach the Temporal frontend, with the TLS material and API key read from their files. */
export interface TemporalTarget {
  address: string;
  /** false: plaintext; otherwise TLS with these settings (empty: system roots, host name from the address). */
  tls: TLSConfig | false;
  apiKey?: string;
}

type FileSetting =
  'TEMPORAL_TLS_CA_FILE' | 'TEMPORAL_TLS_CERT_FILE' | 'TEMPORAL_TLS_KEY_FILE' | 'TEMPORAL_API_KEY_FILE';

/** Reads the files the settings name; a file that cannot be read is named by its setting. */
export async function temporalTarget(settings: TemporalConnectionSettings): Promise<TemporalTarget> {
  const read = async (setting: FileSetting): Promise<Buffer | undefined> => {
    const file = settings[setting];
    if (file === undefined) return undefined;
    try {
      return await readFile(file);
    } catch (err) {
      throw new Error(`Cannot read ${setting}=${file}: ${(err as Error).message}`);
    }
  };
  const apiKeyFile = (await read('TEMPORAL_API_KEY_FILE'))?.toString('utf8').trim();
  if (apiKeyFile === '') throw new Error(`TEMPORAL_API_KEY_FILE=${settings.TEMPORAL_API_KEY_FILE} is empty`);
  const apiKey = settings.TEMPORAL_API_KEY ?? apiKeyFile;
  if (!temporalTlsEnabled(settings)) {
    // parseConfig refuses this too; a caller that built its settings by hand must not leak the key.
    if (apiKey) throw new Error('TEMPORAL_TLS=false conflicts with an API key, which is only sent over TLS');
    return { address: settings.TEMPORAL_ADDRESS, tls: false };
  }
  const [ca, crt, key] = await Promise.all([
    read('TEMPORAL_TLS_CA_FILE'),
    read('TEMPORAL_TLS_CERT_FILE'),
    read('TEMPORAL_TLS_KEY_FILE'),
  ]);
  return {
    address: settings.TEMPORAL_ADDRESS,
    tls: {
      ...(settings.TEMPORAL_TLS_SERVER_NAME ? { serverNameOverride: settings.TEMPORAL_TLS_SERVER_NAME } : {}),
      ...(ca ? { serverRootCACertificate: ca } : {}),
      ...(crt && key ? { clientCertPair: { crt, key } } : {}),
    },
    apiKey,
  };
}

/**
 * Connects with `connect` and turns a failure into one line naming TEMPORAL_ADDRESS, with the reason found
 * by trying TCP and TLS directly: the SDK's own errors are `tonic::transport::Error(…)` (worker) or
 * "Failed to connect before the deadline" (client).
 */
export async function connectNamingAddress<T>(
  target: TemporalTarget,
  connect: () => Promise<T>,
  probeTimeoutMs = 5000,
): Promise<T> {
  try {
    return await connect();
  } catch (err) {
    const reason = (await probe(target, probeTimeoutMs)) ?? sdkReason(err, target);
    throw new Error(`Cannot connect to Temporal at TEMPORAL_ADDRESS=${target.address}: ${reason}`, {
      cause: err,
    });
  }
}

/** Why a TCP connection or TLS handshake to the target fails, or undefined when both succeed. */
async function probe(target: TemporalTarget, timeoutMs: number): Promise<string | undefined> {
  const { host, port } = hostAndPort(target.address);
  return new Promise((resolve) => {
    const done = (reason: string | undefined) => {
      clearTimeout(timer);
      socket.destroy();
      resolve(reason);
    };
    const timer = setTimeout(() => done(`no answer within ${timeoutMs} ms`), timeoutMs);
    const socket = target.tls
      ? tls.connect({
          host,
          port,
          servername: target.tls.serverNameOverride ?? (net.isIP(host) ? undefined : host),
          ca: target.tls.serverRootCACertificate
            ? [Buffer.from(target.tls.serverRootCACertificate)]
            : undefined,
          cert: target.tls.clientCertPair ? Buffer.from(target.tls.clientCertPair.crt) : undefined,
          key: target.tls.clientCertPair ? Buffer.from(target.tls.clientCertPair.key) : undefined,
          ALPNProtocols: ['h2'],
        })
      : net.connect({ host, port });
    socket.once('error', (err: NodeJS.ErrnoException) => done(tlsHint(err)));
    if (!target.tls) {
      socket.once('connect', () => done(undefined));
      return;
    }
    // With TLS 1.3 the server checks the client certificate after the client's handshake is done, so only
    // its first HTTP/2 frame (or its alert) tells whether it accepted us.
    socket.once('secureConnect', () => socket.write(HTTP2_PREFACE_AND_SETTINGS));
    socket.once('data', () => done(undefined));
    socket.once('close', () => done('the server closed the TLS connection'));
  });
}

const HTTP2_PREFACE_AND_SETTINGS = Buffer.concat([
  Buffer.from('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n'),
  Buffer.from([0, 0, 0, 4, 0, 0, 0, 0, 0]),
]);

/** The error message, and which settings to look at for the usual TLS mistakes. */
function tlsHint(err: NodeJS.ErrnoException & { reason?: string }): string {
  const code = err.code ?? '';
  // OpenSSL errors carry a readable `reason` beside a multi-line message full of source paths.
  const message = err.reason ?? err.message.split('\n')[0]!;
  if (/CERT|SELF_SIGNED|ALTNAME|UNABLE_TO/.test(code) && !/ALERT/.test(code)) {
    return `${message} (server certificate not trusted: check TEMPORAL_TLS_CA_FILE and TEMPORAL_TLS_SERVER_NAME)`;
  }
  if (
    /ALERT_CERTIFICATE_REQUIRED|ALERT_HANDSHAKE_FAILURE|ALERT_BAD_CERTIFICATE|ALERT_UNKNOWN_CA/.test(code)
  ) {
    return `${message} (the server refused the client certificate: check TEMPORAL_TLS_CERT_FILE and TEMPORAL_TLS_KEY_FILE)`;
  }
  if (/WRONG_VERSION_NUMBER|PACKET_LENGTH_TOO_LONG/.test(code)) {
    return `${message} (the server does not speak TLS: check TEMPORAL_TLS)`;
  }
  return message;
}

/** The SDK's reason when TCP and TLS are fine: a gRPC status (e.g. a refused API key) or its message. */
function sdkReason(err: unknown, target: TemporalTarget): string {
  for (let e: unknown = err; e instanceof Error; e = e.cause) {
    const details = (e as { details?: unknown }).details;
    if (typeof details === 'string' && details) return withApiKeyHint(details, e, target);
  }
  const message = err instanceof Error ? err.message : String(err);
  // Native errors end with the server's message: `…code: 'Unauthenticated…', message: "bad key"`.
  const native = /message: "([^"]+)"/.exec(message)?.[1];
  const reason = native && native !== 'transport error' ? native : message.split('\n')[0]!;
  return withApiKeyHint(
    target.tls ? reason : `${reason} (if the server expects TLS, set TEMPORAL_TLS=true)`,
    err,
    target,
  );
}

function withApiKeyHint(reason: string, err: unknown, target: TemporalTarget): string {
  const unauthenticated =
    (err as { code?: unknown }).code === 16 ||
    /authentication credentials|unauthenticated/i.test(String(err));
  if (!unauthenticated) return reason;
  return target.apiKey
    ? `${reason} (check TEMPORAL_API_KEY or TEMPORAL_API_KEY_FILE)`
    : `${reason} (the server wants credentials: set TEMPORAL_API_KEY or TEMPORAL_API_KEY_FILE)`;
}

function hostAndPort(address: string): { host: string; port: number } {
  const at = address.lastIndexOf(':');
  const host = address.slice(0, at).replace(/^\[|\]$/g, '');
  return { host: host || 'localhost', port: Number(address.slice(at + 1)) || 7233 };
}
