import { readFileSync } from 'node:fs';

/** One statement auto_explain logged: how long it took and its plan (with the query text). */
export interface SlowStatement {
  ms: number;
  plan: string;
}

/** Slow statements of one kind (the same query text): how many, the slowest, and its plan. */
export interface SlowStatementGroup {
  count: number;
  maxMs: number;
  query: string;
  plan: string;
}

/**
 * The plans auto_explain wrote to PostgreSQL's log (`LOG:  duration: 12.3 ms  plan:` and the indented
 * lines after it), grouped by query text, slowest first.
 */
export function slowPlans(logFile: string): SlowStatementGroup[] {
  let text = '';
  try {
    text = readFileSync(logFile, 'utf8');
  } catch {
    return [];
  }
  const statements: SlowStatement[] = [];
  let current: SlowStatement | undefined;
  for (const line of text.split('\n')) {
    const head = /LOG:\s+duration: ([\d.]+) ms\s+plan:/.exec(line);
    if (head) {
      current = { ms: Number(head[1]), plan: '' };
      statements.push(current);
    } else if (current && /^\s/.test(line)) {
      current.plan += `${line}\n`;
    } else {
      current = undefined;
    }
  }
  const groups = new Map<string, SlowStatementGroup>();
  for (const s of statements) {
    const query = /Query Text: (.*)/.exec(s.plan)?.[1]?.trim() ?? '(no query text)';
    const g = groups.get(query);
    if (!g) groups.set(query, { count: 1, maxMs: s.ms, query, plan: s.plan });
    else {
      g.count++;
      if (s.ms > g.maxMs) Object.assign(g, { maxMs: s.ms, plan: s.plan });
    }
  }
  return [...groups.values()].sort((a, b) => b.maxMs - a.maxMs);
}
