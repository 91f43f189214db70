import { describeSambaHarness } from '../helpers/samba-ad-harness';
import { startSambaAd } from '../helpers/samba-ad';
import { describeDirectoryContract } from './contract';
import { contractTenant } from './contract-tenant';
import { ldapContractFixture } from './ldap-fixture';
import { describeLdapReview } from './ldap-review';

// Samba binds AD's fixed ports, so one DC runs at a time: every Samba test is in this file, one DC after
// the other (a DC with the 10,050 bulk users takes about 30 s to provision and load on two cores).
jest.setTimeout(10 * 60_000);

describeSambaHarness();

const has = { network: true, signIns: true, batchRemoval: true };

// Samba evaluates the in-chain rule entry by entry (about 10 s over 10,000 users here, several times that
// while other tests load the machine; Active Directory answers from its index): 120 s timeouts for that run.
describeDirectoryContract('Samba AD, LDAP_MATCHING_RULE_IN_CHAIN', has, async () =>
  ldapContractFixture(await startSambaAd(contractTenant()), { membership: 'inChain', timeoutMs: 120_000 }),
);

describeDirectoryContract('Samba AD, member values (ranged retrieval)', has, async () =>
  ldapContractFixture(await startSambaAd(contractTenant()), { membership: 'member', timeoutMs: 5_000 }),
);

describeLdapReview('Samba AD over LDAPS', () => startSambaAd(contractTenant({ bulk: false })), { tls: true });
