import { startScimServer } from '../helpers/scim-server';
import { contractTenant } from './contract-tenant';
import { describeDirectoryReview } from './directory-review';
import { scimReviewTarget } from './scim-fixture';

describeDirectoryReview('a SCIM 2.0 server (scim2-server)', async () =>
  scimReviewTarget(await startScimServer(contractTenant({ bulk: false }))),
);
