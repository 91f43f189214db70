import { startDirsrv } from '../helpers/dirsrv';
import { describeDirectoryContract } from './contract';
import { contractTenant } from './contract-tenant';
import { ldapContractFixture } from './ldap-fixture';

// The same suite twice, as for OpenLDAP: through the MemberOf plugin's back-links (which on 389 DS name
// nested groups too), and through the groups' own member values.
describeDirectoryContract(
  '389 Directory Server, memberOf back-links',
  { network: true, signIns: true, batchRemoval: true },
  async () => {
    const server = await startDirsrv(contractTenant());
    return ldapContractFixture(server, { membership: 'memberOf', env: server.stagecoachEnv });
  },
);

describeDirectoryContract(
  '389 Directory Server, member values',
  { network: true, signIns: true, batchRemoval: true },
  async () => {
    const server = await startDirsrv(contractTenant());
    return ldapContractFixture(server, { membership: 'member', env: server.stagecoachEnv });
  },
);
