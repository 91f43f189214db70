import type { DirectoryUser } from '../directory/port';
import { AppError } from '../domain/errors';
import { shardOf } from '../domain/ids';
import type { Person } from '../domain/review-events';
import type { ReassignInput } from '../workflows';
import { reassignDecisionsUpdate } from '../workflows';
import type { Caller } from './caller';
import { viewerOf } from './caller';
import type { ReviewLocator } from './review-locator';
import { isWorkflowClosed, isWorkflowNotFound, refusalOf } from './temporal-errors';

/** A reassignment as the API takes it (Stagecoach: Graph has no reassignment). */
export interface ReassignBody {
  /** The items; omitted: every item the `fromReviewerId` reviews in the stage. */
  decisionIds?: string[];
  /** Whose items: the caller (reviewers), or any reviewer, or every reviewer when null (administrators). */
  fromReviewerId?: string | null;
  /** The user who reviews the items for the rest of the stage. */
  reviewerId: string;
  justification: string;
}

const personOf = (u: DirectoryUser): Person => ({
  displayName: u.displayName,
  userPrincipalName: u.userPrincipalName,
});

/**
 * Reassignment: a reviewer hands their items, an administrator anyone's, to another user for the stage in
 * progress. Every workflow holding the items accepts or refuses the hand-over itself (separation of
 * duties, the caller's items, the stage), and the new reviewer is told by e-mail.
 */
export class ReviewReassignments {
  constructor(
    private readonly at: ReviewLocator,
    private readonly lookup: (id: string) => Promise<DirectoryUser | undefined>,
  ) {}

  /** Hands the items over; returns how many changed hands and in which stage. */
  async reassign(
    definitionId: string,
    instanceId: string,
    caller: Caller,
    body: ReassignBody,
    stageId?: string,
  ): Promise<{ stageId: string; reassigned: number }> {
    const { record } = await this.at.located(definitionId, instanceId, true);
    const viewer = viewerOf(caller);
    const from = caller.isAdmin
      ? body.fromReviewerId === undefined
        ? null
        : body.fromReviewerId
      : caller.userId;
    if (!caller.isAdmin && body.fromReviewerId != null && body.fromReviewerId !== caller.userId) {
      throw new AppError('auth.admin_required', "Only administrators can reassign another reviewer's items");
    }
    if (from === null && !body.decisionIds) {
      throw new AppError(
        'request.invalid_body',
        'decisionIds: required when the items of every reviewer are reassigned (fromReviewerId null)',
      );
    }
    const to = await this.lookup(body.reviewerId);
    if (!to)
      throw new AppError('directory.user_not_found', `reviewerId: user '${body.reviewerId}' not found`);
    if (!to.accountEnabled) {
      throw new AppError(
        'review.reassign_not_allowed',
        `reviewerId: the account of '${to.displayName}' is disabled`,
      );
    }
    const by = await this.lookup(caller.userId);
    const people: Record<string, Person> = {
      [to.id]: personOf(to),
      ...(by ? { [by.id]: personOf(by) } : {}),
    };
    const holders = await this.at.holders(record);
    const requests = new Map<string, string[] | undefined>();
    if (body.decisionIds) {
      for (const itemId of body.decisionIds) {
        const id = holders[shardOf(itemId, holders.length)]!;
        requests.set(id, [...(requests.get(id) ?? []), itemId]);
      }
    } else {
      for (const id of holders) requests.set(id, undefined);
    }
    const outcomes = await Promise.all(
      [...requests].map(async ([workflowId, itemIds]) => {
        const input: ReassignInput = {
          viewer,
          stageId,
          itemIds,
          fromReviewerId: from,
          toReviewerId: to.id,
          justification: body.justification,
          people,
          notAfter: this.at.gw.notAfter(),
        };
        try {
          return await this.at.gw
            .handle(workflowId)
            .executeUpdate(reassignDecisionsUpdate, { args: [input] });
        } catch (err) {
          const refusal = refusalOf(err);
          if (refusal) return refusal;
          if (isWorkflowClosed(err) || isWorkflowNotFound(err)) throw await this.at.notInProgress(record);
          throw err;
        }
      }),
    );
    let reassigned = 0;
    let stage: string | undefined;
    let refused: AppError | undefined;
    for (const o of outcomes) {
      if (!(o instanceof AppError)) {
        reassigned += o.reassigned;
        stage = o.stageId;
      } else if (!refused || refused.code === 'review.not_a_reviewer') {
        // A holder with none of the caller's items answers "not a reviewer": it yields to any other reason.
        refused = o;
      }
    }
    // Listed items are all-or-nothing per holder; "every item of mine" needs items in one holder at least.
    if (refused && (body.decisionIds || reassigned === 0)) {
      if (reassigned === 0) throw refused;
      throw new AppError(refused.code, `${refused.message}; ${reassigned} items were reassigned before`);
    }
    return { stageId: stage!, reassigned };
  }
}
