import { startSambaAd } from '../helpers/samba-ad';
import { describeDirectoryContract } from './contract';
import { contractTenant } from './contract-tenant';
import { ldapContractFixture } from './ldap-fixture';

// Samba binds AD's fixed ports: its harness runs one DC at a time, so these two run one after the other.
// Samba evaluates the in-chain rule entry by entry (about 10 s over 10,000 users here, where Active Directory
// answers from its index): 30 s timeouts for that run.
const has = { network: true, signIns: true, batchRemoval: true };

describeDirectoryContract('Samba AD, LDAP_MATCHING_RULE_IN_CHAIN', has, async () =>
  ldapContractFixture(await startSambaAd(contractTenant()), { membership: 'inChain', timeoutMs: 30_000 }),
);

describeDirectoryContract('Samba AD, member values (ranged retrieval)', has, async () =>
  ldapContractFixture(await startSambaAd(contractTenant()), { membership: 'member', timeoutMs: 5_000 }),
);
