import { randomUUID } from 'node:crypto';
import type { Socket } from 'node:net';
import type { ErrorCode } from '../domain/error-codes';
import { ERROR_CODES } from '../domain/error-codes';
import { errorBody } from './errors';

/** Request headers (URL included) accepted before a request is refused with 431. */
export const MAX_HEADER_BYTES = 64 * 1024;

const REASONS: Record<number, string> = { 400: 'Bad Request', 431: 'Request Header Fields Too Large' };

/**
 * Answers a request Node's HTTP parser refused before Express saw it (headers or URL too large, bytes
 * that are not HTTP) in the same Graph error shape as every other error, instead of Node's empty reply.
 */
export function answerClientError(err: Error & { code?: string }, socket: Socket): void {
  if (!socket.writable) {
    socket.destroy();
    return;
  }
  const code: ErrorCode =
    err.code === 'HPE_HEADER_OVERFLOW' ? 'request.headers_too_large' : 'request.malformed_http';
  const status = ERROR_CODES[code].status;
  const message =
    code === 'request.headers_too_large'
      ? `The request's URL and headers are larger than ${MAX_HEADER_BYTES / 1024} KiB`
      : 'The request is not valid HTTP';
  const requestId = randomUUID();
  const body = JSON.stringify(
    errorBody(code, message, {
      'request-id': requestId,
      'client-request-id': requestId,
      date: new Date().toISOString().replace(/\.\d+Z$/, 'Z'),
    }),
  );
  socket.end(
    `HTTP/1.1 ${status} ${REASONS[status] ?? 'Error'}\r\n` +
      'Content-Type: application/json; charset=utf-8\r\n' +
      `Content-Length: ${Buffer.byteLength(body)}\r\n` +
      `request-id: ${requestId}\r\n` +
      'Connection: close\r\n\r\n' +
      body,
  );
}
