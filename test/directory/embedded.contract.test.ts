import { EmbeddedDirectory } from '../../src/directory/embedded';
import { describeDirectoryContract } from './contract';
import { contractTenant, embeddedTenantFile } from './contract-tenant';

describeDirectoryContract('embedded', { network: false, signIns: false, batchRemoval: false }, async () => ({
  directory: EmbeddedDirectory.inMemory(embeddedTenantFile(contractTenant())),
  idOf: (key) => key,
  multipleOwners: true,
  stop: async () => undefined,
}));
