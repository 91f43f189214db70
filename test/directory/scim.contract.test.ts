import { startScimServer } from '../helpers/scim-server';
import { describeDirectoryContract } from './contract';
import { contractTenant } from './contract-tenant';
import { scimContractFixture } from './scim-fixture';

// scim2-server has no sign-ins of its own: the sign-in times are the extension attribute it was loaded with.
describeDirectoryContract(
  'SCIM 2.0 (scim2-server)',
  { network: true, signIns: false, batchRemoval: true },
  async () => scimContractFixture(await startScimServer(contractTenant())),
);
