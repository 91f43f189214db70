import { contractTenant } from './contract-tenant';
import { describeDirectoryReview } from './directory-review';
import { graphReviewTarget } from './graph-fixture';

// Against the local reproduction of Microsoft Graph's documented responses, not the live service.
describeDirectoryReview('the Microsoft Graph reproduction', () =>
  graphReviewTarget(contractTenant({ bulk: false })),
);
