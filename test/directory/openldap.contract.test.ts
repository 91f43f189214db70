import { startSlapd } from '../helpers/slapd';
import { describeDirectoryContract } from './contract';
import { contractTenant } from './contract-tenant';
import { ldapContractFixture } from './ldap-fixture';

// The same suite twice: through the memberof overlay's back-links, and through the groups' own member values.
describeDirectoryContract(
  'OpenLDAP slapd, memberOf back-links',
  { network: true, signIns: true, batchRemoval: true },
  async () => ldapContractFixture(await startSlapd(contractTenant()), { membership: 'memberOf' }),
);

describeDirectoryContract(
  'OpenLDAP slapd, member values',
  { network: true, signIns: true, batchRemoval: true },
  async () => ldapContractFixture(await startSlapd(contractTenant()), { membership: 'member' }),
);
