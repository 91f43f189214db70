import type { NotificationContent } from './port';

/** A notification as a message: its subject line and the same text as plain text and HTML. */
export interface RenderedNotification {
  subject: string;
  text: string;
  html: string;
}

/** The body as paragraphs; each a run of text, or a list of names. */
type Block = string | { list: string[] };

interface Parts {
  subject: string;
  blocks: Block[];
  button: string;
}

const escapeHtml = (s: string) =>
  s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);

// Names come from the directory and the review's creator: one line each, whatever they contain.
const flat = (s: string) => s.replace(/\s+/g, ' ').trim();

const items = (n: number) => `${n} item${n === 1 ? '' : 's'}`;
const wait = (n: number, still = '') => `${items(n)} ${still}${n === 1 ? 'waits' : 'wait'}`;

/** "Mon, 14 Dec 2026 17:00 UTC"; an unparsable value as given. */
export function formatDue(iso: string): string {
  const date = new Date(iso);
  return Number.isNaN(date.getTime()) ? iso : date.toUTCString().replace(/:\d\d GMT$/, ' UTC');
}

/** "14 Dec 2026", for subjects. */
const shortDate = (iso: string) => formatDue(iso).replace(/^\w+, (\d+ \w+ \d+).*$/, '$1');

function parts(c: NotificationContent): Parts {
  const resource = flat(c.resourceName);
  const review = flat(c.reviewName);
  const from = c.fromName ? flat(c.fromName) : undefined;
  const stage = c.stageId && c.stageCount > 1 ? ` (stage ${c.stageId} of ${c.stageCount})` : '';
  const due = `Please complete your review by ${formatDue(c.dueDateTime)}.`;
  const dueSubject = `${items(c.itemCount)} due ${shortDate(c.dueDateTime)}`;
  const reason: Block[] = c.reason ? [`Reason: ${flat(c.reason)}`] : [];
  switch (c.kind) {
    case 'stageStarted':
      return {
        subject: `Please review access to ${resource}: ${dueSubject}`,
        blocks: [
          `You are asked to review access to ${resource} in the access review "${review}"${stage}.`,
          `${wait(c.itemCount)} for your decision. ${due}`,
        ],
        button: 'Start review',
      };
    case 'reminder':
      return {
        subject: `Reminder: please review access to ${resource}: ${dueSubject}`,
        blocks: [
          `This is a reminder of the access review "${review}"${stage} of access to ${resource}.`,
          `${wait(c.itemCount, 'still ')} for your decision. ${due}`,
        ],
        button: 'Start review',
      };
    case 'escalation':
      return {
        subject: `The review of access to ${resource} was escalated to you: ${dueSubject}`,
        blocks: [
          `The review of ${items(c.itemCount)} of access to ${resource} in the access review "${review}"${stage}` +
            `${from ? `, assigned to ${from},` : ''} was escalated to you.`,
          ...reason,
          due,
        ],
        button: 'Start review',
      };
    case 'reassigned':
      return {
        subject: `The review of access to ${resource} was reassigned to you${from ? ` by ${from}` : ''}: ${dueSubject}`,
        blocks: [
          `${from ?? 'A reviewer'} reassigned ${items(c.itemCount)} of the access review "${review}"${stage} ` +
            `of access to ${resource} to you.`,
          ...reason,
          ...(c.principalNames?.length ? [{ list: c.principalNames.map(flat) }] : []),
          due,
        ],
        button: 'Start review',
      };
    case 'reviewCompleted': {
      const s = c.summary;
      return {
        subject: `The access review ${review} has completed`,
        blocks: [
          `The access review "${review}" of access to ${resource} has completed (${formatDue(c.dueDateTime)}).`,
          ...(s
            ? [
                `Approved: ${s.approved}. Denied: ${s.denied}. Don't know: ${s.dontKnow}. ` +
                  `Not reviewed: ${s.notReviewed}.`,
              ]
            : []),
        ],
        button: 'View the results',
      };
    }
  }
}

function text(c: NotificationContent, p: Parts, description: string | undefined): string {
  const body = p.blocks.map((b) => (typeof b === 'string' ? b : b.list.map((n) => `  - ${n}`).join('\n')));
  return [
    `Hello ${flat(c.recipientName)},`,
    ...body,
    ...(description ? [`Message from the review's creator:\n${description}`] : []),
    `${p.button}: ${c.link}`,
  ].join('\n\n');
}

function html(c: NotificationContent, p: Parts, description: string | undefined): string {
  const para = (inner: string) => `<p style="margin:0 0 16px">${inner}</p>`;
  const body = p.blocks.map((b) =>
    typeof b === 'string'
      ? para(escapeHtml(b))
      : `<ul style="margin:0 0 16px">${b.list.map((n) => `<li>${escapeHtml(n)}</li>`).join('')}</ul>`,
  );
  const note = description
    ? [
        `<blockquote style="margin:0 0 16px;padding:8px 12px;border-left:4px solid #c8c8c8;white-space:pre-wrap">` +
          `${escapeHtml(description)}</blockquote>`,
      ]
    : [];
  const href = escapeHtml(c.link);
  const button =
    `<p style="margin:24px 0"><a href="${href}" style="background:#0f6cbd;color:#ffffff;padding:10px 20px;` +
    `border-radius:4px;text-decoration:none;display:inline-block">${escapeHtml(p.button)}</a></p>`;
  return [
    '<!doctype html>',
    `<html><head><meta charset="utf-8"><title>${escapeHtml(p.subject)}</title></head>`,
    '<body style="font-family:Segoe UI,Helvetica,Arial,sans-serif;font-size:14px;color:#242424">',
    para(`Hello ${escapeHtml(flat(c.recipientName))},`),
    ...body,
    ...note,
    button,
    `<p style="margin:0;color:#616161;font-size:12px">Or open ${escapeHtml(c.link)}</p>`,
    '</body></html>',
  ].join('\n');
}

/** Renders one notification for its recipient: subject, plain text and HTML (user-supplied text escaped). */
export function renderNotification(content: NotificationContent): RenderedNotification {
  const p = parts(content);
  const description = content.descriptionForReviewers?.trim() || undefined;
  return { subject: p.subject, text: text(content, p, description), html: html(content, p, description) };
}
