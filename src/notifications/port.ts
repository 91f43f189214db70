import type { NotificationKind } from '../domain/review-events';

export type { NotificationKind };

/**
 * What a message says, with no reviewee data beyond display names: the review, the stage, how many items
 * the recipient has, when they are due and where to decide them.
 */
export interface NotificationContent {
  kind: NotificationKind;
  reviewName: string;
  resourceName: string;
  /** The stage the message is about ("1".."3"); absent for the end-of-review notice. */
  stageId?: string;
  stageCount: number;
  /** The stage's (or, for reviewCompleted, the review's) end, ISO 8601. */
  dueDateTime: string;
  descriptionForReviewers?: string | null;
  recipientName: string;
  /** Items the recipient reviews in the stage and has not decided (stageStarted: all of theirs). */
  itemCount: number;
  /** Where the recipient decides their items (the portal when it exists, else the API). */
  link: string;
  /** reassigned / escalation: who handed the items over (or whose items were escalated), and why. */
  fromName?: string;
  reason?: string | null;
  /** reassigned: display names of the reviewees handed over (at most a few dozen). */
  principalNames?: string[];
  /** reviewCompleted: final decisions by value. */
  summary?: { approved: number; denied: number; dontKnow: number; notReviewed: number };
}

/** A rendered message for one recipient. */
export interface OutgoingMail {
  to: { address: string; name?: string };
  subject: string;
  text: string;
  html: string;
  /** Message-ID header, derived from the idempotency key so a resend would be recognisable. */
  messageId: string;
}

/** The port in front of the mail server (SMTP in production, the tests' own SMTP server in tests). */
export interface Mailer {
  /** Sends one message; rejects with MailUnavailableError when the server cannot be reached or refuses for now. */
  send(mail: OutgoingMail): Promise<void>;
  /** Where mail goes, for the start log (no secrets). */
  readonly description: string;
  close?(): Promise<void>;
}

/** The mail server could not be reached, or answered with a transient (4xx) failure: retry later. */
export class MailUnavailableError extends Error {
  override readonly name = 'MailUnavailableError';
}

/** The server refused this recipient or message for good (5xx): retrying the same message is pointless. */
export class MailRejectedError extends Error {
  override readonly name = 'MailRejectedError';
}
