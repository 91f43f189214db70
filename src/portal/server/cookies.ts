import type { Request, Response } from 'express';

/** The request's cookies by name (the first of each); malformed pairs are skipped. */
export function readCookies(req: Request): Map<string, string> {
  const out = new Map<string, string>();
  for (const part of (req.get('cookie') ?? '').split(';')) {
    const eq = part.indexOf('=');
    if (eq < 1) continue;
    const name = part.slice(0, eq).trim();
    if (out.has(name)) continue;
    try {
      out.set(name, decodeURIComponent(part.slice(eq + 1).trim()));
    } catch {
      // not percent-encoded properly: not one of ours
    }
  }
  return out;
}

/** How a cookie is set; HttpOnly always, Secure when the portal is served over https. */
export interface CookieOptions {
  path: string;
  sameSite: 'Strict' | 'Lax';
  secure: boolean;
  maxAgeSeconds: number;
}

export function setCookie(res: Response, name: string, value: string, opts: CookieOptions): void {
  const attrs = [
    `${name}=${encodeURIComponent(value)}`,
    `Path=${opts.path}`,
    `Max-Age=${Math.max(0, Math.floor(opts.maxAgeSeconds))}`,
    'HttpOnly',
    `SameSite=${opts.sameSite}`,
    ...(opts.secure ? ['Secure'] : []),
  ];
  res.append('Set-Cookie', attrs.join('; '));
}

export function clearCookie(res: Response, name: string, opts: Omit<CookieOptions, 'maxAgeSeconds'>): void {
  setCookie(res, name, '', { ...opts, maxAgeSeconds: 0 });
}
