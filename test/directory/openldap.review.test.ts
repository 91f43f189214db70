import { startSlapd } from '../helpers/slapd';
import { contractTenant } from './contract-tenant';
import { describeLdapReview } from './ldap-review';

describeLdapReview('OpenLDAP slapd', () => startSlapd(contractTenant({ bulk: false })));
