import pino from 'pino';
import type { Logger } from 'pino';

/** One kind of message the API logged: how often, and where it was first seen. */
export interface LoggedMessage {
  level: string;
  message: string;
  count: number;
  firstAt: string;
}

const LEVELS: Record<number, string> = {
  10: 'trace',
  20: 'debug',
  30: 'info',
  40: 'warn',
  50: 'error',
  60: 'fatal',
};

/**
 * A pino logger for the API whose output is counted instead of printed: the API answers an engine
 * failure with a generic 500, and its log holds the cause (e.g. Temporal's "exceeded workflow
 * execution limit for signal events"), which the report needs.
 */
export class LogCollector {
  private readonly messages = new Map<string, LoggedMessage>();

  logger(level = 'warn'): Logger {
    return pino(
      { level, redact: ['req.headers.authorization', 'authorization', 'access_token', 'token'] },
      { write: (line: string) => this.write(line) },
    );
  }

  private write(line: string): void {
    let entry: { level?: number; msg?: string; err?: { message?: string; type?: string } };
    try {
      entry = JSON.parse(line) as typeof entry;
    } catch {
      return;
    }
    const level = LEVELS[entry.level ?? 0] ?? String(entry.level);
    const text = entry.err?.message ? `${entry.msg ?? ''}: ${entry.err.message}` : (entry.msg ?? '');
    const key = `${level} ${text}`;
    const seen = this.messages.get(key);
    if (seen) seen.count++;
    else
      this.messages.set(key, {
        level,
        message: text.slice(0, 1000),
        count: 1,
        firstAt: new Date().toISOString(),
      });
  }

  /** Everything logged, most frequent first. */
  summary(): LoggedMessage[] {
    return [...this.messages.values()].sort((a, b) => b.count - a.count);
  }
}
