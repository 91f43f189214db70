import { readFile } from 'node:fs/promises';
import type { Config } from '../config';
import { EmbeddedDirectory } from './embedded';
import { GraphDirectory } from './graph/graph-directory';
import { resolveGraphSettings } from './graph/settings';
import { LdapDirectory } from './ldap/ldap-directory';
import { resolveLdapSettings } from './ldap/settings';
import type { Directory } from './port';
import { ScimDirectory } from './scim/scim-directory';
import { resolveScimSettings } from './scim/settings';

/** The configured directory, and one line saying which it is (for the start banner and logs). */
export interface OpenedDirectory {
  directory: Directory;
  description: string;
  close(): Promise<void>;
}

/**
 * Opens the directory DIRECTORY names: the embedded JSON tenant, an LDAP / Active Directory server, a
 * SCIM 2.0 service provider or Microsoft Entra ID through Graph (connected and checked here, so a wrong
 * setting stops the start with an error naming it).
 */
export async function openDirectory(config: Config): Promise<OpenedDirectory> {
  if (config.DIRECTORY === 'graph') {
    const settings = await resolveGraphSettings(config, { read: (p) => readFile(p, 'utf8') });
    const directory = await GraphDirectory.connect(settings);
    return {
      directory,
      description: `${settings.baseUrl} (Microsoft Entra ID, tenant ${settings.tenantId}, application ${settings.clientId}, ${settings.credential.kind} credential)`,
      close: () => directory.close(),
    };
  }
  if (config.DIRECTORY === 'ldap') {
    const settings = await resolveLdapSettings(config, { read: (p) => readFile(p, 'utf8') });
    const directory = await LdapDirectory.connect(settings);
    return {
      directory,
      description: `${settings.url} (LDAP, ${settings.flavour} flavour, base ${settings.baseDn}, bound as ${settings.bindDn})`,
      close: () => directory.close(),
    };
  }
  if (config.DIRECTORY === 'scim') {
    const settings = await resolveScimSettings(config, { read: (p) => readFile(p, 'utf8') });
    const directory = await ScimDirectory.connect(settings);
    const auth = settings.auth.kind === 'bearer' ? 'bearer token' : `OAuth client ${settings.auth.clientId}`;
    return {
      directory,
      description: `${settings.baseUrl} (SCIM 2.0, ${auth}, ${settings.applications.length} application(s))`,
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
