import { randomBytes } from 'node:crypto';
import { chmod, mkdir, readFile, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { EncryptJWT, jwtDecrypt } from 'jose';

/**
 * Seals what the portal keeps in cookies (the session's tokens, a sign-in in progress) with AES-256-GCM
 * under a key only the server holds: the browser carries them but can neither read nor change them.
 */
export class Sealer {
  private constructor(private readonly key: Uint8Array) {}

  /** Reads the key file, or makes it (32 random bytes, base64url, mode 0600) when it does not exist. */
  static async open(keyFile: string): Promise<Sealer> {
    let text: string | undefined;
    try {
      text = (await readFile(keyFile, 'utf8')).trim();
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
    }
    if (text === undefined) {
      text = randomBytes(32).toString('base64url');
      await mkdir(dirname(keyFile), { recursive: true });
      await writeFile(keyFile, `${text}\n`, { mode: 0o600 });
      await chmod(keyFile, 0o600);
    }
    const key = Buffer.from(text, 'base64url');
    if (key.length !== 32)
      throw new Error(`${keyFile} must hold 32 bytes, base64url-encoded (it holds ${key.length})`);
    return new Sealer(new Uint8Array(key));
  }

  static fromKey(key: Uint8Array): Sealer {
    return new Sealer(key);
  }

  async seal(purpose: string, payload: Record<string, unknown>, ttlSeconds: number): Promise<string> {
    return new EncryptJWT(payload)
      .setProtectedHeader({ alg: 'dir', enc: 'A256GCM' })
      .setAudience(purpose)
      .setIssuedAt()
      .setExpirationTime(Math.floor(Date.now() / 1000) + Math.floor(ttlSeconds))
      .encrypt(this.key);
  }

  /** The payload, or undefined when the value was not sealed here, for this purpose, or has expired. */
  async unseal(purpose: string, value: string): Promise<Record<string, unknown> | undefined> {
    try {
      const { payload } = await jwtDecrypt(value, this.key, { audience: purpose });
      return payload;
    } catch {
      return undefined;
    }
  }
}
