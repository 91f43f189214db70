import type { DirectoryUser } from '../directory/port';
import { AppError } from '../domain/errors';
import type { Delegation, DelegationStore } from '../store/delegations';
import type { Caller } from './caller';
import type { DefinitionService } from './definitions';
import type { InstanceService } from './instances';
import { instancesReviewedBy } from './reviewed-instances';

/** A delegation as the API takes it. */
export interface DelegationBody {
  delegateId: string;
  endDateTime: string;
  justification?: string | null;
}

/**
 * Out-of-office delegation (Stagecoach): while it lasts, every stage that starts gives the user's items to
 * the delegate, and setting it hands over the items the user reviews in stages already running. A user
 * sets their own; administrators anyone's.
 */
export class DelegationService {
  constructor(
    private readonly store: DelegationStore,
    private readonly lookup: (id: string) => Promise<DirectoryUser | undefined>,
    private readonly definitions: DefinitionService,
    private readonly instances: InstanceService,
    private readonly clock = () => new Date(),
  ) {}

  async get(userId: string, caller: Caller): Promise<Delegation> {
    allowed(userId, caller);
    const found = await this.store.get(userId);
    if (!found) throw new AppError('delegation.not_found', `User '${userId}' has no delegation`);
    return found;
  }

  /** Sets (or replaces) the delegation; returns it and how many running items went to the delegate. */
  async put(
    userId: string,
    caller: Caller,
    body: DelegationBody,
  ): Promise<{ delegation: Delegation; reassigned: number }> {
    allowed(userId, caller);
    if (!(await this.lookup(userId)))
      throw new AppError('directory.user_not_found', `User '${userId}' not found`);
    const delegate = await this.lookup(body.delegateId);
    if (!delegate) {
      throw new AppError('directory.user_not_found', `delegateId: user '${body.delegateId}' not found`);
    }
    if (delegate.id === userId)
      throw new AppError('delegation.invalid', 'delegateId: a user cannot delegate to themself');
    if (!delegate.accountEnabled) {
      throw new AppError(
        'delegation.invalid',
        `delegateId: the account of '${delegate.displayName}' is disabled`,
      );
    }
    const now = this.clock();
    if (Date.parse(body.endDateTime) <= now.getTime()) {
      throw new AppError('delegation.invalid', 'endDateTime: must be in the future');
    }
    const delegation: Delegation = {
      userId,
      delegateId: delegate.id,
      endDateTime: new Date(body.endDateTime).toISOString(),
      justification: body.justification?.trim() ?? '',
      createdBy: caller.userId,
      createdDateTime: now.toISOString(),
    };
    await this.store.put(delegation);
    return { delegation, reassigned: await this.handOverRunning(delegation) };
  }

  async delete(userId: string, caller: Caller): Promise<void> {
    allowed(userId, caller);
    if (!(await this.store.delete(userId))) {
      throw new AppError('delegation.not_found', `User '${userId}' has no delegation`);
    }
  }

  /** The user's items in stages running now, handed to the delegate as the user's own reassignment. */
  private async handOverRunning(d: Delegation): Promise<number> {
    const user: Caller = { userId: d.userId, isAdmin: false };
    let reassigned = 0;
    for (const { definitionId, instanceId } of await instancesReviewedBy(
      this.definitions,
      this.instances,
      user,
    )) {
      try {
        const done = await this.instances.reassign(definitionId, instanceId, user, {
          reviewerId: d.delegateId,
          justification: `Out of office until ${d.endDateTime}${d.justification ? `: ${d.justification}` : ''}`,
        });
        reassigned += done.reassigned;
      } catch (err) {
        // The stage ended meanwhile, or every item left is the delegate's own: nothing to hand over there.
        if (!(err instanceof AppError) || ![403, 404, 409].includes(err.status)) throw err;
      }
    }
    return reassigned;
  }
}

function allowed(userId: string, caller: Caller): void {
  if (!caller.isAdmin && caller.userId !== userId) {
    throw new AppError('auth.admin_required', "Only administrators can set another user's delegation");
  }
}
