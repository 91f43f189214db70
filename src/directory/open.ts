import { readFile } from 'node:fs/promises';
import type { Config } from '../config';
import { EmbeddedDirectory } from './embedded';
import { LdapDirectory } from './ldap/ldap-directory';
import { resolveLdapSettings } from './ldap/settings';
import type { Directory } from './port';

/** The configured directory, and one line saying which it is (for the start banner and logs). */
export interface OpenedDirectory {
  directory: Directory;
  description: string;
  close(): Promise<void>;
}

/**
 * Opens the directory DIRECTORY names: the embedded JSON tenant, or an LDAP / Active Directory server
 * (connected and checked here, so a wrong setting stops the start with an error naming it).
 */
export async function openDirectory(config: Config): Promise<OpenedDirectory> {
  if (config.DIRECTORY === 'ldap') {
    const settings = await resolveLdapSettings(config, { read: (p) => readFile(p, 'utf8') });
    const directory = await LdapDirectory.connect(settings);
    return {
      directory,
      description: `${settings.url} (LDAP, ${settings.flavour} flavour, base ${settings.baseDn}, bound as ${settings.bindDn})`,
      close: () => directory.close(),
    };
  }
  const directory = await EmbeddedDirectory.open({
    stateFile: config.DIRECTORY_FILE,
    seedFile: config.DIRECTORY_SEED,
  });
  return {
    directory,
    description: `${config.DIRECTORY_FILE} (seeded from ${config.DIRECTORY_SEED})`,
    close: async () => undefined,
  };
}
