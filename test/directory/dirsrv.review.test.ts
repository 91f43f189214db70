import { startDirsrv } from '../helpers/dirsrv';
import { contractTenant } from './contract-tenant';
import { describeLdapReview } from './ldap-review';

describeLdapReview('389 Directory Server', () => startDirsrv(contractTenant({ bulk: false })));
