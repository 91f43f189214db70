// OData $filter and $orderby as plain data: parsed once by the API, evaluated by the API over in-memory
// lists and by the review workflows' decision query (so this file is deterministic and imports nothing).

/** A literal in a $filter expression. */
export type FilterLiteral = string | number | boolean | null;

/** A parsed $filter: JSON-serialisable, so it travels inside a workflow query unchanged. */
export type Filter =
  | { kind: 'and' | 'or'; left: Filter; right: Filter }
  | { kind: 'not'; operand: Filter }
  | { kind: 'compare'; op: 'eq' | 'ne' | 'gt' | 'ge' | 'lt' | 'le'; path: string[]; value: FilterLiteral }
  | { kind: 'call'; fn: 'contains' | 'startswith' | 'endswith'; path: string[]; value: string };

/** One `$orderby` key. */
export interface OrderKey {
  path: string[];
  desc: boolean;
}

/** Why a $filter or $orderby cannot be served; the API turns it into a 400. */
export class ODataSyntaxError extends Error {
  override readonly name = 'ODataSyntaxError';
}

type Token =
  | { t: 'str'; v: string }
  | { t: 'num'; v: number }
  | { t: 'word'; v: string }
  | { t: 'lit'; v: string }
  | { t: '(' | ')' | ',' };

const DATE_TIME = /^\d{4}-\d{2}-\d{2}(T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2}))?/;
const GUID = /^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}/;
const WORD = /^[A-Za-z_][\w.]*(\/[A-Za-z_@][\w.]*)*/;
const NUMBER = /^-?\d+(\.\d+)?/;
const COMPARISONS = new Set(['eq', 'ne', 'gt', 'ge', 'lt', 'le']);
const FUNCTIONS = new Set(['contains', 'startswith', 'endswith']);

function tokenize(text: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  while (i < text.length) {
    const c = text[i]!;
    if (c === ' ' || c === '\t') {
      i++;
      continue;
    }
    if (c === '(' || c === ')' || c === ',') {
      tokens.push({ t: c });
      i++;
      continue;
    }
    if (c === "'") {
      let v = '';
      i++;
      for (;;) {
        if (i >= text.length) throw new ODataSyntaxError('a string literal is not closed');
        if (text[i] === "'") {
          if (text[i + 1] === "'") {
            v += "'";
            i += 2;
            continue;
          }
          i++;
          break;
        }
        v += text[i++];
      }
      tokens.push({ t: 'str', v });
      continue;
    }
    const rest = text.slice(i);
    const literal = GUID.exec(rest) ?? DATE_TIME.exec(rest);
    if (literal) {
      tokens.push({ t: 'lit', v: literal[0] });
      i += literal[0].length;
      continue;
    }
    const num = NUMBER.exec(rest);
    if (num) {
      tokens.push({ t: 'num', v: Number(num[0]) });
      i += num[0].length;
      continue;
    }
    const word = WORD.exec(rest);
    if (word) {
      tokens.push({ t: 'word', v: word[0] });
      i += word[0].length;
      continue;
    }
    throw new ODataSyntaxError(`unexpected '${c}' at position ${i + 1}`);
  }
  return tokens;
}

const describe = (tok: Token | undefined) =>
  !tok ? 'the end' : tok.t === 'str' ? `'${tok.v}'` : 'v' in tok ? `'${String(tok.v)}'` : `'${tok.t}'`;

/** A property path as `a/b/c`, checked by the resource's rule. */
export type PathCheck = (path: string[]) => string | undefined;

class Parser {
  private at = 0;
  constructor(
    private readonly tokens: Token[],
    private readonly check: PathCheck,
  ) {}

  parse(): Filter {
    const expr = this.or();
    if (this.at < this.tokens.length) {
      throw new ODataSyntaxError(`unexpected ${describe(this.tokens[this.at])} after a complete expression`);
    }
    return expr;
  }

  private peekWord(): string | undefined {
    const tok = this.tokens[this.at];
    return tok?.t === 'word' ? tok.v.toLowerCase() : undefined;
  }

  private or(): Filter {
    let left = this.and();
    while (this.peekWord() === 'or') {
      this.at++;
      left = { kind: 'or', left, right: this.and() };
    }
    return left;
  }

  private and(): Filter {
    let left = this.unary();
    while (this.peekWord() === 'and') {
      this.at++;
      left = { kind: 'and', left, right: this.unary() };
    }
    return left;
  }

  private unary(): Filter {
    if (this.peekWord() === 'not') {
      this.at++;
      return { kind: 'not', operand: this.unary() };
    }
    return this.primary();
  }

  private expect(t: '(' | ')' | ','): void {
    const tok = this.tokens[this.at];
    if (tok?.t !== t) throw new ODataSyntaxError(`expected '${t}' but found ${describe(tok)}`);
    this.at++;
  }

  private path(): string[] {
    const tok = this.tokens[this.at];
    if (tok?.t !== 'word') throw new ODataSyntaxError(`expected a property but found ${describe(tok)}`);
    this.at++;
    const path = tok.v.split('/');
    const problem = this.check(path);
    if (problem) throw new ODataSyntaxError(problem);
    return path;
  }

  private literal(): FilterLiteral {
    const tok = this.tokens[this.at++];
    if (!tok) throw new ODataSyntaxError('expected a value but found the end');
    if (tok.t === 'str' || tok.t === 'lit' || tok.t === 'num') return tok.v;
    if (tok.t === 'word') {
      const w = tok.v.toLowerCase();
      if (w === 'true') return true;
      if (w === 'false') return false;
      if (w === 'null') return null;
    }
    throw new ODataSyntaxError(`expected a value but found ${describe(tok)}`);
  }

  private primary(): Filter {
    const tok = this.tokens[this.at];
    if (tok?.t === '(') {
      this.at++;
      const inner = this.or();
      this.expect(')');
      return inner;
    }
    if (tok?.t !== 'word') throw new ODataSyntaxError(`expected a condition but found ${describe(tok)}`);
    const fn = tok.v.toLowerCase();
    if (this.tokens[this.at + 1]?.t === '(') {
      if (!FUNCTIONS.has(fn)) {
        throw new ODataSyntaxError(
          `function '${tok.v}' is not supported (supported: contains, startswith, endswith)`,
        );
      }
      this.at += 2;
      const path = this.path();
      this.expect(',');
      const value = this.literal();
      if (typeof value !== 'string') throw new ODataSyntaxError(`${fn} takes a string literal`);
      this.expect(')');
      return { kind: 'call', fn: fn as 'contains', path, value };
    }
    const path = this.path();
    const opTok = this.tokens[this.at];
    const op = opTok?.t === 'word' ? opTok.v.toLowerCase() : '';
    if (!COMPARISONS.has(op)) {
      throw new ODataSyntaxError(
        `expected a comparison (eq, ne, gt, ge, lt, le) after '${path.join('/')}' but found ${describe(opTok)}`,
      );
    }
    this.at++;
    return { kind: 'compare', op: op as 'eq', path, value: this.literal() };
  }
}

/** Parses a $filter expression; `check` says whether a property path can be filtered on. */
export function parseFilter(text: string, check: PathCheck): Filter {
  if (/\/(any|all)\s*\(/i.test(text))
    throw new ODataSyntaxError('lambda operators (any/all) are not supported');
  const tokens = tokenize(text);
  if (tokens.length === 0) throw new ODataSyntaxError('the expression is empty');
  return new Parser(tokens, check).parse();
}

/** Parses `$orderby=a/b desc, c`. */
export function parseOrderBy(text: string, check: PathCheck): OrderKey[] {
  const keys = text.split(',').map((part) => part.trim());
  return keys.map((part) => {
    const m = /^([A-Za-z_][\w./]*)(?:\s+(asc|desc))?$/i.exec(part);
    if (!m) throw new ODataSyntaxError(`'${part}' is not a property optionally followed by asc or desc`);
    const path = m[1]!.split('/');
    const problem = check(path);
    if (problem) throw new ODataSyntaxError(problem);
    return { path, desc: m[2]?.toLowerCase() === 'desc' };
  });
}

const TYPE_CAST = /^microsoft\.graph\.\w+$/;

/** The value at a property path; a type-cast segment (`microsoft.graph.x`) matches only objects of that type. */
export function valueAt(item: unknown, path: string[]): unknown {
  let current: unknown = item;
  for (const segment of path) {
    if (current === null || typeof current !== 'object') return undefined;
    const record = current as Record<string, unknown>;
    if (TYPE_CAST.test(segment)) {
      if (record['@odata.type'] !== `#${segment}`) return undefined;
      continue;
    }
    current = record[segment];
  }
  return current;
}

const fold = (v: unknown) => (typeof v === 'string' ? v.toLowerCase() : v);

function order(a: unknown, b: unknown): number {
  // A missing property is null: the two compare equal.
  if (a === b || ((a === null || a === undefined) && (b === null || b === undefined))) return 0;
  if (a === null || a === undefined) return -1;
  if (b === null || b === undefined) return 1;
  if (typeof a === 'number' && typeof b === 'number') return a - b;
  if (typeof a === 'boolean' && typeof b === 'boolean') return Number(a) - Number(b);
  if (typeof a !== 'string' || typeof b !== 'string') return typeof a < typeof b ? -1 : 1;
  const x = a;
  const y = b;
  if (DATE_TIME.test(x) && DATE_TIME.test(y)) {
    const dx = Date.parse(x);
    const dy = Date.parse(y);
    // Two date-times compare by instant, whatever their spelling (…00Z equals …00.000Z).
    if (!Number.isNaN(dx) && !Number.isNaN(dy)) return dx - dy;
  }
  const lx = x.toLowerCase();
  const ly = y.toLowerCase();
  if (lx !== ly) return lx < ly ? -1 : 1;
  return x < y ? -1 : x > y ? 1 : 0;
}

/** Whether an item satisfies a filter. Strings compare case-insensitively, as Graph's directory does. */
export function matches(item: unknown, filter: Filter): boolean {
  switch (filter.kind) {
    case 'and':
      return matches(item, filter.left) && matches(item, filter.right);
    case 'or':
      return matches(item, filter.left) || matches(item, filter.right);
    case 'not':
      return !matches(item, filter.operand);
    case 'call': {
      const value = valueAt(item, filter.path);
      if (typeof value !== 'string') return false;
      const v = value.toLowerCase();
      const needle = filter.value.toLowerCase();
      if (filter.fn === 'contains') return v.includes(needle);
      if (filter.fn === 'startswith') return v.startsWith(needle);
      return v.endsWith(needle);
    }
    case 'compare': {
      const raw = valueAt(item, filter.path);
      const value = raw === undefined ? null : raw;
      if (filter.op === 'eq' || filter.op === 'ne') {
        const equal =
          value === null || filter.value === null
            ? value === filter.value
            : order(fold(value), fold(filter.value)) === 0;
        return filter.op === 'eq' ? equal : !equal;
      }
      if (value === null || filter.value === null) return false;
      const c = order(value, filter.value);
      return filter.op === 'gt' ? c > 0 : filter.op === 'ge' ? c >= 0 : filter.op === 'lt' ? c < 0 : c <= 0;
    }
  }
}

/** A comparator for `$orderby` keys; items equal on every key keep their order (the sort is stable). */
export function comparator(keys: OrderKey[]): (a: unknown, b: unknown) => number {
  return (a, b) => {
    for (const key of keys) {
      const c = order(valueAt(a, key.path), valueAt(b, key.path));
      if (c !== 0) return key.desc ? -c : c;
    }
    return 0;
  };
}
