import { startSambaAd } from '../helpers/samba-ad';
import { contractTenant } from './contract-tenant';
import { describeLdapReview } from './ldap-review';

describeLdapReview('Samba AD', () => startSambaAd(contractTenant({ bulk: false })));
