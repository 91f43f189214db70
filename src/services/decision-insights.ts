import { AppError } from '../domain/errors';
import type { DecisionItemView, SignInInsight } from '../domain/graph-resources';
import { USER_SIGN_IN_INSIGHT } from '../domain/graph-names';
import { deterministicUuid } from '../domain/ids';
import type { DirectoryService } from './directory';

/**
 * A decision item's insights, as Graph's `insights` navigation property: the reviewee's last sign-in
 * (userSignInInsight), read from the directory when asked, so it is as fresh as the directory.
 */
export class DecisionInsights {
  constructor(private readonly directory: Pick<DirectoryService, 'user'>) {}

  async of(item: Pick<DecisionItemView, 'id' | 'principal'>): Promise<SignInInsight[]> {
    const lastSignInDateTime = await this.directory
      .user(item.principal.id)
      .then((u) => u.signInActivity.lastSignInDateTime)
      .catch((err: unknown) => {
        // A reviewee removed from the directory since has no sign-in to report.
        if (err instanceof AppError && err.code === 'directory.user_not_found') return null;
        throw err;
      });
    return [
      {
        '@odata.type': USER_SIGN_IN_INSIGHT,
        id: deterministicUuid(`insight:userSignIn:${item.id}`),
        insightCreatedDateTime: new Date().toISOString(),
        lastSignInDateTime,
      },
    ];
  }
}
