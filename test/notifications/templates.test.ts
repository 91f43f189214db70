import type { NotificationContent, NotificationKind } from '../../src/notifications/port';
import { formatDue, renderNotification } from '../../src/notifications/templates';

const base: NotificationContent = {
  kind: 'stageStarted',
  reviewName: 'Quarterly review of Finance',
  resourceName: 'Finance Team',
  stageId: '1',
  stageCount: 2,
  dueDateTime: '2026-12-14T17:00:00Z',
  descriptionForReviewers: null,
  recipientName: 'Ada Lovelace',
  itemCount: 3,
  link: 'https://reviews.example.com/accessReviews/abc?x=1&y=2',
};
const of = (kind: NotificationKind, extra: Partial<NotificationContent> = {}) =>
  renderNotification({ ...base, kind, ...extra });

const XSS = '<script>alert("x")</script>';

describe('notification templates', () => {
  it.each([
    ['stageStarted', 'Please review access to Finance Team: 3 items due 14 Dec 2026'],
    ['reminder', 'Reminder: please review access to Finance Team: 3 items due 14 Dec 2026'],
    ['escalation', 'The review of access to Finance Team was escalated to you: 3 items due 14 Dec 2026'],
    [
      'reassigned',
      'The review of access to Finance Team was reassigned to you by Grace Hopper: 3 items due 14 Dec 2026',
    ],
    ['reviewCompleted', 'The access review Quarterly review of Finance has completed'],
  ] as const)('%s has the subject "%s" and the link in both parts', (kind, subject) => {
    const mail = of(kind, { fromName: 'Grace Hopper' });
    expect(mail.subject).toBe(subject);
    expect(mail.text).toContain('https://reviews.example.com/accessReviews/abc?x=1&y=2');
    expect(mail.html).toContain('href="https://reviews.example.com/accessReviews/abc?x=1&amp;y=2"');
    expect(mail.text).toMatch(/^Hello Ada Lovelace,\n\n/);
  });

  it('says the stage of a multi-stage review, the count and the due date in UTC', () => {
    const { text } = of('stageStarted');
    expect(text).toContain('in the access review "Quarterly review of Finance" (stage 1 of 2)');
    expect(text).toContain('3 items wait for your decision');
    expect(text).toContain('by Mon, 14 Dec 2026 17:00 UTC');
    expect(of('stageStarted', { stageCount: 1, itemCount: 1 }).text).toMatch(
      /Finance"\.\n\n1 item waits for/,
    );
  });

  it('escapes names and the description in HTML, and keeps them literal in plain text', () => {
    const mail = of('reassigned', {
      recipientName: XSS,
      resourceName: `Team ${XSS}`,
      fromName: XSS,
      reason: XSS,
      descriptionForReviewers: `Check ${XSS} carefully`,
      principalNames: [XSS, 'Alan Turing'],
    });
    expect(mail.html).not.toContain('<script>');
    expect(mail.html).toContain('&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;');
    expect(mail.text).toContain(`Check ${XSS} carefully`);
    expect(mail.text).toContain('  - Alan Turing');
    expect(mail.html).toContain('<li>Alan Turing</li>');
  });

  it('shows descriptionForReviewers when present, and nothing when it is blank', () => {
    const withNote = of('reminder', { descriptionForReviewers: 'Remove leavers.' });
    expect(withNote.text).toContain("Message from the review's creator:\nRemove leavers.");
    expect(withNote.html).toContain('Remove leavers.</blockquote>');
    expect(of('reminder', { descriptionForReviewers: '  ' }).text).not.toContain('Message from');
  });

  it('gives the reason of an escalation and the summary of a completed review', () => {
    expect(of('escalation', { fromName: 'Grace Hopper', reason: 'No answer' }).text).toContain(
      ', assigned to Grace Hopper, was escalated to you.\n\nReason: No answer',
    );
    const done = of('reviewCompleted', {
      stageId: undefined,
      summary: { approved: 5, denied: 2, dontKnow: 1, notReviewed: 0 },
    });
    expect(done.text).toContain("Approved: 5. Denied: 2. Don't know: 1. Not reviewed: 0.");
    expect(done.text).toContain('View the results: https://reviews.example.com/');
  });

  it('keeps a subject on one line whatever the names contain', () => {
    expect(of('stageStarted', { resourceName: 'Finance\r\nBcc: x@example.com' }).subject).toBe(
      'Please review access to Finance Bcc: x@example.com: 3 items due 14 Dec 2026',
    );
  });

  it('formats due dates in UTC and leaves an unparsable one as given', () => {
    expect(formatDue('2026-01-05T23:30:00+02:00')).toBe('Mon, 05 Jan 2026 21:30 UTC');
    expect(formatDue('soon')).toBe('soon');
  });
});
