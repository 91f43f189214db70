import { describeDirectoryContract } from './contract';
import { contractTenant } from './contract-tenant';
import { graphContractFixture } from './graph-fixture';

// No Microsoft Graph is reachable from the tests: the suite runs against the local reproduction of Graph's
// documented responses (test/helpers/graph-server.ts), through a TCP fault proxy.
describeDirectoryContract(
  'Microsoft Graph reproduction',
  { network: true, signIns: false, batchRemoval: true },
  () => graphContractFixture(contractTenant()),
);
