/** Escapes text for HTML element content and quoted attribute values. */
export function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

/** A self-contained page for sign-in outcomes (no script, no inline style), with a way back in. */
export function messagePage(title: string, text: string, offerSignIn = false): string {
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(title)} · Stagecoach</title></head>
<body><main><h1>${escapeHtml(title)}</h1><p>${escapeHtml(text)}</p>
${offerSignIn ? '<p><a href="/portal/auth/login">Sign in again</a></p>' : '<p><a href="/portal/">Back to the portal</a></p>'}
</main></body></html>`;
}
