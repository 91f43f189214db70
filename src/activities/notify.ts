import { createHash } from 'node:crypto';
import type { Directory, DirectoryUser } from '../directory/port';
import type { NotificationKind, NotificationOutcome } from '../domain/review-events';
import type { NotificationRecipientSpec } from '../domain/review-plan';
import type { Mailer, NotificationContent } from '../notifications/port';
import { MailRejectedError } from '../notifications/port';
import { renderNotification } from '../notifications/templates';
import type { NotificationLedger } from '../store/notification-ledger';

/** One recipient of a send: a user, with what their message says about their items. */
export interface NotifyRecipient {
  userId: string;
  itemCount: number;
  fromName?: string;
  reason?: string | null;
  principalNames?: string[];
}

/** Input of sendNotifications: one kind of message for one stage (or the end) of one review. */
export interface NotifyInput {
  /** Idempotency key of the send; each recipient's message is keyed `<key>/<recipient>`. */
  key: string;
  kind: NotificationKind;
  definitionId: string;
  instanceId: string;
  content: Pick<
    NotificationContent,
    | 'reviewName'
    | 'resourceName'
    | 'stageId'
    | 'stageCount'
    | 'dueDateTime'
    | 'descriptionForReviewers'
    | 'summary'
  >;
  recipients: NotifyRecipient[];
  /** The end-of-review notice's additional recipients (Graph's additionalNotificationRecipients). */
  additional?: NotificationRecipientSpec[];
}

/** What sending needs: the mail server (absent: nothing is sent), the ledger, and where links point. */
export interface NotifyDeps {
  directory: Directory;
  ledger: NotificationLedger;
  mailer?: Mailer;
  /** Base URL of the API (and later the portal) in links; default http://localhost:3000. */
  publicBaseUrl?: string;
}

const addressOf = (u: DirectoryUser): string | undefined =>
  u.mail ?? (u.userPrincipalName.includes('@') ? u.userPrincipalName : undefined);

/** Where a recipient decides their items: their decisions of this review in the API. */
export function reviewerLink(base: string | undefined, definitionId: string, instanceId: string): string {
  const root = (base ?? 'http://localhost:3000').replace(/\/+$/, '');
  const instance = `${root}/v1.0/identityGovernance/accessReviews/definitions/${encodeURIComponent(definitionId)}/instances/${encodeURIComponent(instanceId)}`;
  return `${instance}/decisions/filterByCurrentUser(on='reviewer')`;
}

/** Users (and members of groups) the additional recipients name, as recipients with no items. */
async function additionalRecipients(
  directory: Directory,
  specs: NotificationRecipientSpec[],
): Promise<NotifyRecipient[]> {
  const ids = new Set<string>();
  for (const spec of specs) {
    if (spec.kind === 'user') ids.add(spec.userId);
    else for (const u of (await directory.listGroupTransitiveMembers(spec.groupId)) ?? []) ids.add(u.id);
  }
  return [...ids].map((userId) => ({ userId, itemCount: 0 }));
}

/**
 * Sends one message to each recipient, at most once per idempotency key: claimed in the ledger before it
 * goes out, marked sent after. A mail server that cannot be reached rejects the whole call (retried with
 * backoff; what went out stays marked); one that refuses a recipient for good is reported, not retried.
 * `progress` is called after each recipient (activity heartbeats).
 */
export async function sendNotifications(
  deps: NotifyDeps,
  input: NotifyInput,
  attempt: number,
  progress: (done: number) => void = () => undefined,
): Promise<NotificationOutcome> {
  const recipients = [
    ...input.recipients,
    ...(input.additional ? await additionalRecipients(deps.directory, input.additional) : []),
  ];
  const outcome: NotificationOutcome = {
    sent: [],
    alreadySent: [],
    unconfirmed: [],
    failed: [],
    skipped: [],
    attempts: attempt,
  };
  if (!deps.mailer) {
    outcome.skipped = recipients.map((r) => r.userId);
    return outcome;
  }
  const users = new Map(
    (await deps.directory.getUsers(recipients.map((r) => r.userId))).map((u) => [u.id, u]),
  );
  const link = reviewerLink(deps.publicBaseUrl, input.definitionId, input.instanceId);
  for (const [done, r] of recipients.entries()) {
    const key = `${input.key}/${r.userId}`;
    const user = users.get(r.userId);
    const address = user && addressOf(user);
    if (!user || !address) {
      outcome.failed.push({ recipient: r.userId, reason: user ? 'no mail address' : 'user not found' });
      continue;
    }
    const claim = await deps.ledger.claim(key);
    if (!claim.taken) {
      if (claim.state === 'sent') outcome.alreadySent.push(r.userId);
      else if (claim.state === 'claimed') outcome.unconfirmed.push(r.userId);
      else outcome.failed.push({ recipient: r.userId, reason: 'refused by the mail server' });
      continue;
    }
    const rendered = renderNotification({
      ...input.content,
      kind: input.kind,
      recipientName: user.displayName,
      itemCount: r.itemCount,
      link,
      fromName: r.fromName,
      reason: r.reason,
      principalNames: r.principalNames,
    });
    try {
      await deps.mailer.send({
        to: { address, name: user.displayName },
        ...rendered,
        messageId: `<${createHash('sha256').update(key).digest('hex').slice(0, 32)}@stagecoach>`,
      });
      await deps.ledger.mark(key, 'sent');
      outcome.sent.push(r.userId);
    } catch (err) {
      if (err instanceof MailRejectedError) {
        await deps.ledger.mark(key, 'rejected');
        outcome.failed.push({ recipient: r.userId, reason: err.message });
        continue;
      }
      // Not accepted by the server: nothing went out, so the next attempt sends it.
      await deps.ledger.release(key);
      throw err;
    }
    progress(done + 1);
  }
  return outcome;
}
