import type { Definition } from './api';

/** One stage as the form edits it. */
export interface StageForm {
  reviewers: 'managers' | 'groupOwners' | 'self' | 'users';
  /** Named reviewers (users) by id, comma-separated. */
  reviewerIds: string;
  fallbackIds: string;
  durationInDays: string;
  moveOn: Record<Outcome, boolean>;
  recommendations: boolean;
}
export type Outcome = 'Approve' | 'Deny' | 'DontKnow' | 'NotReviewed';
export const OUTCOME_LABEL: Record<Outcome, string> = {
  Approve: 'Approved',
  Deny: 'Denied',
  DontKnow: "Don't know",
  NotReviewed: 'Not reviewed',
};

export interface DefinitionForm {
  displayName: string;
  descriptionForReviewers: string;
  scope: 'groupMembers' | 'groupGuests' | 'applicationUsers';
  resourceId: string;
  stages: StageForm[];
  instanceDurationInDays: string;
  autoApply: boolean;
  defaultDecision: 'None' | 'Approve' | 'Deny' | 'Recommendation';
  justificationRequired: boolean;
  recurrence: 'none' | 'weekly' | 'monthly' | 'quarterly';
}

export const newStage = (): StageForm => ({
  reviewers: 'managers',
  reviewerIds: '',
  fallbackIds: '',
  durationInDays: '7',
  moveOn: { Approve: true, Deny: false, DontKnow: true, NotReviewed: true },
  recommendations: true,
});

export const emptyForm = (): DefinitionForm => ({
  displayName: '',
  descriptionForReviewers: '',
  scope: 'groupMembers',
  resourceId: '',
  stages: [newStage()],
  instanceDurationInDays: '14',
  autoApply: false,
  defaultDecision: 'None',
  justificationRequired: false,
  recurrence: 'none',
});

const ids = (s: string) =>
  s
    .split(/[\s,]+/)
    .map((x) => x.trim())
    .filter(Boolean);
const users = (s: string) =>
  ids(s).map((id) => ({ query: `/users/${id}`, queryType: 'MicrosoftGraph' as const }));

function scopeQuery(f: DefinitionForm): string {
  const id = f.resourceId.trim();
  if (f.scope === 'applicationUsers') return `/servicePrincipals/${id}/appRoleAssignedTo`;
  const base = `/groups/${id}/transitiveMembers`;
  return f.scope === 'groupGuests' ? `${base}?$filter=(userType eq 'Guest')` : base;
}

function reviewersOf(f: DefinitionForm, s: StageForm) {
  const id = f.resourceId.trim();
  if (s.reviewers === 'managers')
    return [{ query: './manager', queryType: 'MicrosoftGraph' as const, queryRoot: 'decisions' }];
  if (s.reviewers === 'groupOwners') {
    const query = f.scope === 'applicationUsers' ? `/servicePrincipals/${id}/owners` : `/groups/${id}/owners`;
    return [{ query, queryType: 'MicrosoftGraph' as const }];
  }
  if (s.reviewers === 'users') return users(s.reviewerIds);
  return [];
}

const RECURRENCE = {
  weekly: { type: 'weekly', interval: 1 },
  monthly: { type: 'absoluteMonthly', interval: 1 },
  quarterly: { type: 'absoluteMonthly', interval: 3 },
} as const;

/** The Graph-shaped definition the form stands for (POST or PUT body). */
export function toDefinition(f: DefinitionForm): Record<string, unknown> {
  const multi = f.stages.length > 1;
  const today = new Date().toISOString().slice(0, 10);
  return {
    displayName: f.displayName,
    descriptionForReviewers: f.descriptionForReviewers || null,
    scope: { query: scopeQuery(f), queryType: 'MicrosoftGraph' },
    stageSettings: f.stages.map((s, i) => ({
      stageId: String(i + 1),
      ...(i > 0 ? { dependsOn: [String(i)] } : {}),
      durationInDays: Number(s.durationInDays),
      reviewers: reviewersOf(f, s),
      fallbackReviewers: users(s.fallbackIds),
      recommendationsEnabled: s.recommendations,
      ...(multi && i < f.stages.length - 1
        ? {
            decisionsThatWillMoveToNextStage: (Object.keys(s.moveOn) as Outcome[]).filter((o) => s.moveOn[o]),
          }
        : {}),
    })),
    settings: {
      instanceDurationInDays: Number(f.instanceDurationInDays),
      autoApplyDecisionsEnabled: f.autoApply,
      defaultDecisionEnabled: f.defaultDecision !== 'None',
      defaultDecision: f.defaultDecision,
      justificationRequiredOnApproval: f.justificationRequired,
      recommendationsEnabled: f.stages.some((s) => s.recommendations),
      ...(f.recurrence === 'none'
        ? {}
        : { recurrence: { pattern: RECURRENCE[f.recurrence], range: { type: 'noEnd', startDate: today } } }),
    },
  };
}

/** The form for an existing definition, as far as the form can show it. */
export function fromDefinition(d: Definition): DefinitionForm {
  const query = d.scope.query;
  const app = /^\/servicePrincipals\/([^/]+)\//.exec(query);
  const group = /^\/groups\/([^/]+)\//.exec(query);
  const settings = (d.settings ?? {}) as Record<string, unknown>;
  const pattern = (settings.recurrence as { pattern?: { type?: string; interval?: number } } | null)?.pattern;
  const stageSettings = (d.stageSettings ?? []) as {
    durationInDays: number;
    reviewers?: { query: string }[];
    fallbackReviewers?: { query: string }[];
    decisionsThatWillMoveToNextStage?: Outcome[];
    recommendationsEnabled?: boolean;
  }[];
  const userIds = (rs: { query: string }[] | undefined) =>
    (rs ?? [])
      .map((r) => /^\/users\/([^/]+)$/.exec(r.query)?.[1])
      .filter(Boolean)
      .join(', ');
  return {
    displayName: d.displayName,
    descriptionForReviewers: d.descriptionForReviewers ?? '',
    scope: app ? 'applicationUsers' : query.includes('Guest') ? 'groupGuests' : 'groupMembers',
    resourceId: app?.[1] ?? group?.[1] ?? '',
    stages: (stageSettings.length
      ? stageSettings
      : [{ durationInDays: Number(settings.instanceDurationInDays ?? 14), reviewers: d.reviewers }]
    ).map((s) => {
      const r = s.reviewers ?? [];
      const kind: StageForm['reviewers'] = r.some((x) => x.query === './manager')
        ? 'managers'
        : r.some((x) => x.query.endsWith('/owners'))
          ? 'groupOwners'
          : r.length
            ? 'users'
            : 'self';
      const moveOn = new Set(s.decisionsThatWillMoveToNextStage ?? ['Approve', 'DontKnow', 'NotReviewed']);
      return {
        reviewers: kind,
        reviewerIds: kind === 'users' ? userIds(r) : '',
        fallbackIds: userIds(s.fallbackReviewers),
        durationInDays: String(s.durationInDays),
        moveOn: {
          Approve: moveOn.has('Approve'),
          Deny: moveOn.has('Deny'),
          DontKnow: moveOn.has('DontKnow'),
          NotReviewed: moveOn.has('NotReviewed'),
        },
        recommendations: s.recommendationsEnabled ?? Boolean(settings.recommendationsEnabled),
      };
    }),
    instanceDurationInDays: String(Number(settings.instanceDurationInDays ?? 14)),
    autoApply: Boolean(settings.autoApplyDecisionsEnabled),
    defaultDecision: settings.defaultDecisionEnabled
      ? ((settings.defaultDecision as DefinitionForm['defaultDecision']) ?? 'None')
      : 'None',
    justificationRequired: Boolean(settings.justificationRequiredOnApproval),
    recurrence: !pattern
      ? 'none'
      : pattern.type === 'weekly'
        ? 'weekly'
        : pattern.interval === 3
          ? 'quarterly'
          : 'monthly',
  };
}

/**
 * Each message of an API 400 by its form field: from `details` (request validation names every bad field
 * with its dotted path), else from the message, where the definition's rules name the field first
 * ("stageSettings[1].reviewers: …").
 */
export function fieldErrors(
  message: string,
  details: readonly { message: string; target: string }[] = [],
): Map<string, string> {
  const out = new Map<string, string>();
  for (const d of details) {
    const key = formKey(d.target);
    if (key && !out.has(key)) out.set(key, d.message);
  }
  if (details.length) return out;
  for (const part of message.split(/;\s+(?=[\w[\].]+: )/)) {
    const m = /^([\w[\].]+): (.*)$/s.exec(part.trim());
    if (!m) continue;
    const path = m[1]!.replace(/\[(\d+)\]/g, '.$1');
    const key = formKey(path);
    if (key && !out.has(key)) out.set(key, m[2]!);
  }
  return out;
}

/** The form field a definition path belongs to: `displayName`, `scope`, `stage.1.durationInDays`, `settings.…`. */
function formKey(path: string): string | undefined {
  const stage = /^stageSettings\.(\d+)\.(\w+)/.exec(path);
  if (stage) {
    const field = stage[2]!;
    const known = ['durationInDays', 'reviewers', 'fallbackReviewers', 'decisionsThatWillMoveToNextStage'];
    return `stage.${stage[1]}.${known.includes(field) ? field : 'reviewers'}`;
  }
  if (path.startsWith('stageSettings')) return 'stages';
  if (path.startsWith('scope')) return 'scope';
  if (path.startsWith('displayName')) return 'displayName';
  if (path.startsWith('descriptionForReviewers')) return 'descriptionForReviewers';
  if (path.startsWith('settings.recurrence')) return 'recurrence';
  if (path.startsWith('settings.instanceDurationInDays')) return 'instanceDurationInDays';
  if (path.startsWith('settings.defaultDecision')) return 'defaultDecision';
  if (path.startsWith('settings')) return 'settings';
  return undefined;
}
