/**
 * Each message of an API 400 by its form field: from `details`, where request validation names every bad
 * field and the definition's rules the one they concern (dotted paths), else from the message, which
 * names the field first ("stageSettings[1].reviewers: …").
 */
export function fieldErrors(
  message: string,
  details: readonly { message: string; target: string }[] = [],
): Map<string, string> {
  const out = new Map<string, string>();
  const add = (path: string, text: string) => {
    for (const key of formKeys(path.replace(/\[(\d+)\]/g, '.$1'))) if (!out.has(key)) out.set(key, text);
  };
  for (const d of details) add(d.target, d.message);
  if (details.length) return out;
  for (const part of message.split(/;\s+(?=[\w[\].]+: )/)) {
    const m = /^([\w[\].]+): (.*)$/s.exec(part.trim());
    if (m) add(m[1]!, m[2]!);
  }
  return out;
}

/** Form fields of a stage setting, by the setting's name. */
const STAGE_FIELDS: Record<string, string> = {
  durationInDays: 'durationInDays',
  reviewers: 'reviewers',
  fallbackReviewers: 'fallbackReviewers',
  decisionsThatWillMoveToNextStage: 'decisionsThatWillMoveToNextStage',
  recommendationLookBackDuration: 'lookBackDays',
  recommendationInsightSettings: 'lookBackDays',
};

/** Settings paths (longest first) and the form field that shows each. */
const SETTINGS_FIELDS: [string, string][] = [
  ['settings.recurrence.range.endDate', 'endDate'],
  ['settings.recurrence.range.numberOfOccurrences', 'occurrences'],
  ['settings.recurrence.range.startDate', 'startDate'],
  ['settings.recurrence.pattern.interval', 'interval'],
  ['settings.recurrence', 'recurrence'],
  ['settings.instanceDurationInDays', 'instanceDurationInDays'],
  ['settings.defaultDecision', 'defaultDecision'],
  ['settings.applyActions', 'guestAction'],
];

/**
 * The form fields a definition path belongs to: `displayName`, `resourceId`, `stage.1.durationInDays`, ….
 * The sum of the stages' durations (`stageSettings.durationInDays`) shows at every stage's duration.
 */
export function formKeys(path: string): string[] {
  const stage = /^stageSettings\.(\d+)\.(\w+)/.exec(path);
  if (stage) return [`stage.${stage[1]}.${STAGE_FIELDS[stage[2]!] ?? 'reviewers'}`];
  if (path === 'stageSettings.durationInDays')
    return ['stages', ...[0, 1, 2].map((i) => `stage.${i}.durationInDays`)];
  if (path.startsWith('stageSettings')) return ['stages'];
  if (path.startsWith('scope.inactiveDuration')) return ['inactiveDays'];
  if (path.startsWith('scope')) return ['resourceId'];
  for (const key of ['displayName', 'descriptionForAdmins', 'descriptionForReviewers']) {
    if (path.startsWith(key)) return [key];
  }
  const setting = SETTINGS_FIELDS.find(([prefix]) => path.startsWith(prefix));
  if (setting) return [setting[1]];
  if (path.startsWith('settings')) return ['settings'];
  return [];
}
