import { AppError } from '../domain/errors';
import type { Caller } from './caller';
import type { DefinitionService } from './definitions';
import type { InstanceService } from './instances';
import type { ReviewedInstance } from './reviewed-instances';
import { gone, instancesReviewedBy } from './reviewed-instances';
import { TtlCache } from './ttl-cache';

/** How long what a caller reviews is trusted before it is looked up again. */
const REVIEWING_MS = 30_000;

/**
 * Who may read which directory objects. Administrators read everything. Anyone else reads their own
 * user object and manager, and the user objects of the principals of the decision items they review in
 * a stage in progress; lists of members, owners and assignees are for administrators. Everything else
 * is 403 directory.not_visible whether or not it exists, so the answer never tells which ids exist.
 */
export class DirectoryAccess {
  private readonly reviewing = new TtlCache<ReviewedInstance[]>(REVIEWING_MS);
  private readonly reviewees = new TtlCache<boolean>(REVIEWING_MS);

  constructor(
    private readonly definitions: DefinitionService,
    private readonly instances: InstanceService,
  ) {}

  /** GET /users/{id}. */
  async requireUser(caller: Caller, userId: string): Promise<void> {
    if (caller.isAdmin || userId === caller.userId) return;
    if (await this.reviews(caller, userId)) return;
    throw notVisible(
      `You may read your own user object and those of the people whose access you review now; not '${userId}'`,
    );
  }

  /** GET /users/{id}/manager. */
  async requireManagerOf(caller: Caller, userId: string): Promise<void> {
    if (caller.isAdmin || userId === caller.userId) return;
    throw notVisible('You may read only your own manager');
  }

  /** Members, owners and assignees of groups and applications. */
  async requireList(caller: Caller): Promise<void> {
    if (!caller.isAdmin) throw notVisible('Only administrators list the members, owners and assignees');
  }

  /** Whether the caller reviews an item of this principal in a stage in progress. */
  private reviews(caller: Caller, principalId: string): Promise<boolean> {
    return this.reviewees.get(`${caller.userId}/${principalId}`, async () => {
      for (const r of await this.reviewedBy(caller)) {
        const page = await this.instances
          .decisions(r.definitionId, r.instanceId, caller, { principalId, skip: 0, top: 1, asReviewer: true })
          .catch(gone);
        if (page && page.total > 0) return true;
      }
      return false;
    });
  }

  /** The instances where the caller reviews something now (kept for a while: asked on every read). */
  private reviewedBy(caller: Caller): Promise<ReviewedInstance[]> {
    return this.reviewing.get(caller.userId, () =>
      instancesReviewedBy(this.definitions, this.instances, caller),
    );
  }
}

const notVisible = (message: string) => new AppError('directory.not_visible', message);
