// Reading an adapter's settings: files named by *_FILE settings, JSON values; errors name the setting.
import type { z } from 'zod';

/** What resolving an adapter's settings needs from outside: reading secret, CA and mapping files. */
export interface SettingsFiles {
  read(path: string): Promise<string>;
}

/** Parses a setting's JSON text against `schema`; the error names the setting and each bad path. */
export function parseJson<T>(text: string, setting: string, schema: z.ZodType<T>): T {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    throw new Error(`${setting}: not valid JSON (${(err as Error).message})`);
  }
  const parsed = schema.safeParse(value);
  if (!parsed.success) {
    const lines = parsed.error.issues.map((i) => `${i.path.join('.') || '(top)'}: ${i.message}`);
    throw new Error(`${setting}: ${lines.join('; ')}`);
  }
  return parsed.data;
}

/** Reads the file a *_FILE setting names; the error names the setting and the path. */
export async function readSetting(files: SettingsFiles, setting: string, path: string): Promise<string> {
  try {
    return await files.read(path);
  } catch (err) {
    throw new Error(
      `${setting}=${path}: cannot read the file (${(err as NodeJS.ErrnoException).code ?? String(err)})`,
    );
  }
}

/** Reads a secret from the file a *_FILE setting names, without the trailing newline editors add. */
export async function readSecret(files: SettingsFiles, setting: string, path: string): Promise<string> {
  return (await readSetting(files, setting, path)).replace(/\r?\n$/, '');
}
