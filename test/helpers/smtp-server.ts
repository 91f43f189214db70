import { SmtpMailer } from '../../src/notifications/smtp';
import { EventEmitter } from 'node:events';
import fs from 'node:fs';
import type { AddressObject, ParsedMail } from 'mailparser';
import { simpleParser } from 'mailparser';
import type { SMTPServerOptions } from 'smtp-server';
import { SMTPServer } from 'smtp-server';
import type { TestPki } from './tls-certs';
import { createTestPki } from './tls-certs';

// A real SMTP server (the smtp-server package) on a random loopback port; what arrives is parsed with
// mailparser, as a mail client would show it.

/** One message as the server received and parsed it. */
export interface ReceivedMail {
  /** The envelope: MAIL FROM and RCPT TO, as the client sent them. */
  envelope: { from: string; to: string[] };
  /** The To and From headers' addresses. */
  to: { address: string; name: string }[];
  from: { address: string; name: string } | undefined;
  subject: string;
  text: string;
  html: string;
  messageId: string;
  /** Header names in lower case; structured values as mailparser gives them. */
  headers: Map<string, unknown>;
  /** Whether the session was encrypted (STARTTLS) and who signed in. */
  secure: boolean;
  user: string | undefined;
}

/** Options of the test SMTP server. */
export interface SmtpServerOptions {
  /** Require AUTH PLAIN/LOGIN with these credentials (otherwise AUTH is not offered). */
  auth?: { user: string; pass: string };
  /** Offer STARTTLS with a certificate for 127.0.0.1 and localhost from a throwaway CA (`caFile`). */
  tls?: boolean;
  /** Recipients answered with 550 (mailbox unavailable). */
  rejectRecipients?: (address: string) => boolean;
  /** Recipients answered with 450 (try again later). */
  deferRecipients?: (address: string) => boolean;
  /** Milliseconds each message waits before it is accepted (a slow server: a send of many takes a while). */
  delayMs?: number;
}

/** The running server, its received messages, and switches for outages. */
export interface SmtpTestServer {
  host: string;
  port: number;
  /** The CA that signed the STARTTLS certificate (with `tls: true`). */
  caFile: string | undefined;
  messages: ReceivedMail[];
  /** Resolves once `count` messages have arrived in all; rejects after `timeoutMs`. */
  waitFor(count: number, timeoutMs?: number): Promise<ReceivedMail[]>;
  clear(): void;
  /** Stops listening and drops open connections: new connections are refused until `up()`. */
  down(): Promise<void>;
  /** Listens again on the same port. */
  up(): Promise<void>;
  stop(): Promise<void>;
}

const addresses = (field: AddressObject | AddressObject[] | undefined) =>
  (Array.isArray(field) ? field : field ? [field] : [])
    .flatMap((a) => a.value)
    .map((a) => ({ address: a.address ?? '', name: a.name }));

function received(parsed: ParsedMail, envelope: ReceivedMail['envelope'], secure: boolean, user?: string) {
  const from = addresses(parsed.from)[0];
  return {
    envelope,
    to: addresses(parsed.to),
    from,
    subject: parsed.subject ?? '',
    text: parsed.text ?? '',
    html: typeof parsed.html === 'string' ? parsed.html : '',
    messageId: parsed.messageId ?? '',
    headers: parsed.headers as Map<string, unknown>,
    secure,
    user,
  };
}

const smtpError = (message: string, responseCode: number) =>
  Object.assign(new Error(message), { responseCode });

/** Starts the server on 127.0.0.1 and a free port. */
export async function startSmtpServer(options: SmtpServerOptions = {}): Promise<SmtpTestServer> {
  const pki: TestPki | undefined = options.tls
    ? createTestPki({ serverAltNames: 'IP:127.0.0.1,DNS:localhost' })
    : undefined;
  const messages: ReceivedMail[] = [];
  const arrivals = new EventEmitter();
  const config: SMTPServerOptions = {
    logger: false,
    // Without a certificate of ours the package would upgrade with its own (expired) one: no STARTTLS at all.
    hideSTARTTLS: !pki,
    ...(pki ? { key: fs.readFileSync(pki.serverKey), cert: fs.readFileSync(pki.serverCert) } : {}),
    authOptional: !options.auth,
    disabledCommands: [...(options.auth ? [] : ['AUTH']), ...(pki ? [] : ['STARTTLS'])],
    allowInsecureAuth: !pki,
    closeTimeout: 100,
    onAuth(auth, _session, callback) {
      const ok = auth.username === options.auth?.user && auth.password === options.auth?.pass;
      if (!ok) return callback(smtpError('Invalid username or password', 535));
      callback(null, { user: auth.username });
    },
    onRcptTo(address, _session, callback) {
      if (options.rejectRecipients?.(address.address)) {
        return callback(smtpError(`No such mailbox: ${address.address}`, 550));
      }
      if (options.deferRecipients?.(address.address)) {
        return callback(smtpError('Mailbox busy, try again later', 450));
      }
      callback();
    },
    onData(stream, session, callback) {
      const envelope = {
        from: session.envelope.mailFrom ? session.envelope.mailFrom.address : '',
        to: session.envelope.rcptTo.map((r) => r.address),
      };
      const secure = session.secure;
      const user = typeof session.user === 'string' ? session.user : undefined;
      simpleParser(stream)
        .then(async (parsed) => {
          if (options.delayMs) await new Promise((r) => setTimeout(r, options.delayMs));
          messages.push(received(parsed, envelope, secure, user));
          arrivals.emit('message');
          callback();
        })
        .catch((err: Error) => callback(err));
    },
  };
  // A client that goes away mid-session (a worker SIGKILLed while it sends) resets its connection; the
  // server reports that as an 'error' event, which would otherwise throw out of the test process.
  const connectionErrors: Error[] = [];
  const create = () => new SMTPServer(config).on('error', (err: Error) => void connectionErrors.push(err));
  let server = create();
  const listen = (port: number) =>
    new Promise<number>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, '127.0.0.1', () => {
        server.off('error', reject);
        resolve((server.server.address() as { port: number }).port);
      });
    });
  const close = () => new Promise<void>((resolve) => server.close(() => resolve()));
  const port = await listen(0);
  let running = true;
  return {
    host: '127.0.0.1',
    port,
    caFile: pki?.caCert,
    messages,
    waitFor(count, timeoutMs = 10_000) {
      return new Promise((resolve, reject) => {
        const check = () => {
          if (messages.length < count) return;
          cleanup();
          resolve(messages.slice());
        };
        const timer = setTimeout(() => {
          cleanup();
          reject(new Error(`${messages.length} of ${count} messages arrived within ${timeoutMs} ms`));
        }, timeoutMs);
        const cleanup = () => {
          clearTimeout(timer);
          arrivals.off('message', check);
        };
        arrivals.on('message', check);
        check();
      });
    },
    clear: () => void messages.splice(0),
    async down() {
      if (!running) return;
      running = false;
      await close();
    },
    async up() {
      if (running) return;
      server = create();
      await listen(port);
      running = true;
    },
    async stop() {
      if (running) await close();
      running = false;
      pki?.remove();
    },
  };
}

/** A SmtpMailer for a test server: plain SMTP on loopback, no sign-in. */
export const mailerFor = (server: SmtpTestServer, from = 'reviews@contoso.test'): SmtpMailer =>
  new SmtpMailer({
    host: server.host,
    port: server.port,
    secure: false,
    requireTls: false,
    from: { address: from, name: 'Stagecoach' },
    timeoutMs: 5000,
    maxConnections: 2,
  });
