/**
 * A small JSON Schema (2020-12) checker for the keywords zod emits, so a test can compare a generated
 * schema's verdict with zod's. It throws on any keyword it does not know rather than ignoring it.
 */
type Schema = Record<string, unknown>;

const ANNOTATIONS = new Set(['description', 'default', 'format', 'title', 'examples', '$schema', '$id']);

/** Resolves a local `#/a/b` JSON pointer against the document. */
export function resolvePointer(root: unknown, ref: string): unknown {
  if (!ref.startsWith('#/')) throw new Error(`not a local $ref: ${ref}`);
  return ref
    .slice(2)
    .split('/')
    .map((p) => p.replace(/~1/g, '/').replace(/~0/g, '~'))
    .reduce<unknown>((node, key) => (node as Record<string, unknown> | undefined)?.[key], root);
}

function typeOf(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'array';
  if (typeof value === 'number') return Number.isInteger(value) ? 'integer' : 'number';
  return typeof value;
}

/** The reasons `value` does not match `schema` (empty when it does). */
export function validate(schema: Schema, value: unknown, root: unknown, at = '$'): string[] {
  const errors: string[] = [];
  const fail = (why: string) => errors.push(`${at}: ${why}`);
  for (const [keyword, arg] of Object.entries(schema)) {
    switch (keyword) {
      case '$ref':
        errors.push(...validate(resolvePointer(root, arg as string) as Schema, value, root, at));
        break;
      case 'allOf':
        for (const s of arg as Schema[]) errors.push(...validate(s, value, root, at));
        break;
      case 'anyOf':
        if (!(arg as Schema[]).some((s) => validate(s, value, root, at).length === 0))
          fail('matches no anyOf');
        break;
      case 'type': {
        const types = Array.isArray(arg) ? (arg as string[]) : [arg as string];
        const t = typeOf(value);
        if (!types.includes(t) && !(t === 'integer' && types.includes('number')))
          fail(`not ${types.join('|')}`);
        break;
      }
      case 'const':
        if (value !== arg) fail(`not ${JSON.stringify(arg)}`);
        break;
      case 'enum':
        if (!(arg as unknown[]).includes(value)) fail(`not one of ${JSON.stringify(arg)}`);
        break;
      case 'minLength':
        if (typeof value === 'string' && value.length < (arg as number)) fail('too short');
        break;
      case 'maxLength':
        if (typeof value === 'string' && value.length > (arg as number)) fail('too long');
        break;
      case 'pattern':
        if (typeof value === 'string' && !new RegExp(arg as string, 'u').test(value)) fail('pattern');
        break;
      case 'minimum':
        if (typeof value === 'number' && value < (arg as number)) fail('too small');
        break;
      case 'maximum':
        if (typeof value === 'number' && value > (arg as number)) fail('too large');
        break;
      case 'required':
        if (typeOf(value) === 'object') {
          for (const key of arg as string[]) if (!(key in (value as object))) fail(`missing ${key}`);
        }
        break;
      case 'properties':
        if (typeOf(value) === 'object') {
          for (const [key, s] of Object.entries(arg as Record<string, Schema>)) {
            const v = (value as Record<string, unknown>)[key];
            if (v !== undefined) errors.push(...validate(s, v, root, `${at}.${key}`));
          }
        }
        break;
      case 'additionalProperties':
        if (typeOf(value) === 'object') {
          const known = Object.keys((schema.properties as object | undefined) ?? {});
          for (const [key, v] of Object.entries(value as object)) {
            if (known.includes(key)) continue;
            if (arg === false) fail(`unexpected ${key}`);
            else errors.push(...validate(arg as Schema, v, root, `${at}.${key}`));
          }
        }
        break;
      case 'propertyNames':
        if (typeOf(value) === 'object') {
          for (const key of Object.keys(value as object))
            errors.push(...validate(arg as Schema, key, root, at));
        }
        break;
      case 'items':
        if (Array.isArray(value))
          value.forEach((v, i) => errors.push(...validate(arg as Schema, v, root, `${at}[${i}]`)));
        break;
      default:
        if (!ANNOTATIONS.has(keyword)) throw new Error(`${at}: unsupported keyword ${keyword}`);
    }
  }
  return errors;
}
