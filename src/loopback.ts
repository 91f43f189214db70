import { isIP } from 'node:net';

/** Whether HOST names a loopback address only: 127.0.0.0/8, ::1 or localhost. */
export function isLoopbackHost(host: string): boolean {
  const h = host
    .trim()
    .toLowerCase()
    .replace(/^\[(.*)\]$/, '$1');
  if (h === 'localhost') return true;
  const v4 = h.replace(/^::ffff:/, ''); // IPv4-mapped IPv6 is the IPv4 address
  if (isIP(v4) === 4) return v4.startsWith('127.');
  return isIP(h) === 6 && new URL(`http://[${h}]/`).hostname === '[::1]';
}
