/** Conversions between LDAP attribute values and the port's shapes. */

/** objectGUID bytes → Microsoft's GUID string (first three fields little-endian), lowercase. */
export function guidToString(bytes: Buffer): string {
  if (bytes.length !== 16) throw new Error(`objectGUID has ${bytes.length} bytes, expected 16`);
  const h = (i: number) => bytes[i]!.toString(16).padStart(2, '0');
  const part = (idx: number[]) => idx.map(h).join('');
  return [part([3, 2, 1, 0]), part([5, 4]), part([7, 6]), part([8, 9]), part([10, 11, 12, 13, 14, 15])].join(
    '-',
  );
}

const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** Microsoft's GUID string → objectGUID bytes; undefined when the text is no GUID. */
export function guidToBytes(text: string): Buffer | undefined {
  if (!GUID.test(text)) return undefined;
  const hex = text.replace(/-/g, '');
  const b = Buffer.from(hex, 'hex');
  const order = [3, 2, 1, 0, 5, 4, 7, 6, 8, 9, 10, 11, 12, 13, 14, 15];
  return Buffer.from(order.map((i) => b[i]!));
}

/** RFC 4515 escape of a value in a filter, every byte of a Buffer as \xx. */
export function escapeFilterValue(value: string | Buffer): string {
  if (Buffer.isBuffer(value)) return [...value].map((b) => `\\${b.toString(16).padStart(2, '0')}`).join('');
  return value.replace(/[*()\\\0]/g, (c) => `\\${c.charCodeAt(0).toString(16).padStart(2, '0')}`);
}

const GENERALIZED = /^(\d{4})(\d{2})(\d{2})(\d{2})(\d{2})?(\d{2})?(?:[.,](\d+))?(Z|[+-]\d{4})?$/;

/** 100-ns intervals between 1601-01-01 (Windows FILETIME epoch) and 1970-01-01. */
const FILETIME_UNIX_OFFSET = 116_444_736_000_000_000n;

/**
 * A timestamp attribute → ISO 8601 (whole seconds): generalized time (`20261128093000Z`,
 * `20261128093000.0Z`) or a Windows FILETIME (`lastLogonTimestamp`); 0 / never → null.
 */
export function ldapTimeToIso(value: string | undefined): string | null {
  if (value === undefined || value === '') return null;
  if (/^\d{15,}$/.test(value)) {
    const filetime = BigInt(value);
    // 0 and 0x7FFFFFFFFFFFFFFF both mean "never" in AD.
    if (filetime === 0n || filetime >= 0x7fffffffffffffffn) return null;
    const ms = Number((filetime - FILETIME_UNIX_OFFSET) / 10_000n);
    return new Date(Math.floor(ms / 1000) * 1000).toISOString().replace('.000Z', 'Z');
  }
  const m = GENERALIZED.exec(value);
  if (!m) return null;
  const [, y, mo, d, h, mi = '00', s = '00', , zone = 'Z'] = m;
  const offset = zone === 'Z' ? 'Z' : `${zone.slice(0, 3)}:${zone.slice(3)}`;
  const date = new Date(`${y}-${mo}-${d}T${h}:${mi}:${s}${offset}`);
  if (Number.isNaN(date.getTime())) return null;
  return date.toISOString().replace('.000Z', 'Z');
}

/** ISO 8601 → Windows FILETIME digits (for writing `lastLogonTimestamp` in tests and tools). */
export function isoToFiletime(iso: string): string {
  return (BigInt(new Date(iso).getTime()) * 10_000n + FILETIME_UNIX_OFFSET).toString();
}

/** ISO 8601 → generalized time (`20261128093000Z`). */
export function isoToGeneralized(iso: string): string {
  return new Date(iso)
    .toISOString()
    .replace(/[-:T]/g, '')
    .replace(/\.\d{3}Z$/, 'Z');
}

/** AD userAccountControl: the account is disabled. */
export const ACCOUNTDISABLE = 0x2;

/** ppolicy's "locked until an administrator unlocks it" value of pwdAccountLockedTime. */
export const PPOLICY_PERMANENT_LOCK = '000001010000Z';

/** Lowercased, whitespace-trimmed DN for comparing DNs as strings (no full RFC 4514 normalisation). */
export function dnKey(dn: string): string {
  return dn
    .split(',')
    .map((rdn) => rdn.trim())
    .join(',')
    .toLowerCase();
}
