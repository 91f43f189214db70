import type { Directory } from '../directory/port';
import type { DefinitionInput, ReviewerScope } from '../domain/definition-schema';
import { AppError } from '../domain/errors';
import { parseReviewerQuery, QueryError } from '../domain/queries';
import type { ReviewerSpec, ReviewPlan } from '../domain/review-plan';

/** A directory object a definition names, and the field that names it. */
interface Reference {
  field: string;
  kind: 'user' | 'group' | 'servicePrincipal';
  id: string;
}

function reviewerReference(spec: ReviewerSpec, field: string): Reference[] {
  switch (spec.kind) {
    case 'user':
      return [{ field, kind: 'user', id: spec.userId }];
    case 'groupOwners':
    case 'groupMembers':
      return [{ field, kind: 'group', id: spec.groupId }];
    case 'applicationOwners':
      return [{ field, kind: 'servicePrincipal', id: spec.applicationId }];
    default:
      return [];
  }
}

const reviewerReferences = (specs: ReviewerSpec[], field: string) =>
  specs.flatMap((spec, i) => reviewerReference(spec, `${field}[${i}]`));

/**
 * Checks that the groups, service principals and users a definition or a reviewer change names exist, so
 * a typo is a 400 naming the field instead of a review with nobody in it. The domain stays pure: this
 * reads the directory, after the definition compiled.
 */
export class DirectoryReferences {
  constructor(private readonly directory: Pick<Directory, 'getUser' | 'getGroup' | 'getApplication'>) {}

  /** The scope's resource and the (fallback) reviewers of every stage of a compiled definition. */
  async checkDefinition(input: DefinitionInput, plan: ReviewPlan): Promise<void> {
    const staged = Boolean(input.stageSettings?.length);
    const scope: Reference = {
      field: 'scope.query',
      kind: plan.scope.resource.type === 'group' ? 'group' : 'servicePrincipal',
      id: plan.scope.resource.id,
    };
    const reviewers = plan.stages.flatMap((stage, i) => {
      const prefix = staged ? `stageSettings[${i}].` : '';
      return [
        ...reviewerReferences(stage.reviewers, `${prefix}reviewers`),
        ...reviewerReferences(stage.fallbackReviewers, `${prefix}fallbackReviewers`),
      ];
    });
    const recipients = (plan.settings.additionalNotificationRecipients ?? []).map((r, i): Reference => ({
      field: `additionalNotificationRecipients[${i}].notificationRecipientScope.query`,
      ...(r.kind === 'user' ? { kind: 'user', id: r.userId } : { kind: 'group', id: r.groupId }),
    }));
    await this.check([scope, ...reviewers, ...recipients]);
  }

  /** PUT instance / PATCH stage bodies; queries that do not parse are left to the instance service's 400. */
  async checkReviewers(scopes: {
    reviewers?: ReviewerScope[] | undefined;
    fallbackReviewers?: ReviewerScope[] | undefined;
  }): Promise<void> {
    const parsed = (list: ReviewerScope[] | undefined, field: string) =>
      (list ?? []).flatMap((scope, i) => {
        try {
          return reviewerReference(parseReviewerQuery(scope, `${field}[${i}]`), `${field}[${i}]`);
        } catch (err) {
          if (err instanceof QueryError) return [];
          throw err;
        }
      });
    await this.check([
      ...parsed(scopes.reviewers, 'reviewers'),
      ...parsed(scopes.fallbackReviewers, 'fallbackReviewers'),
    ]);
  }

  private async check(refs: Reference[]): Promise<void> {
    const found = await Promise.all(refs.map((ref) => this.exists(ref)));
    const missing = refs.find((_, i) => !found[i]);
    if (missing) {
      throw new AppError(
        'definition.unknown_object',
        `${missing.field}: ${missing.kind} '${missing.id}' does not exist in the directory`,
      );
    }
  }

  private async exists(ref: Reference): Promise<boolean> {
    if (ref.kind === 'user') return (await this.directory.getUser(ref.id)) !== undefined;
    if (ref.kind === 'group') return (await this.directory.getGroup(ref.id)) !== undefined;
    return (await this.directory.getApplication(ref.id)) !== undefined;
  }
}
