import type { Definition } from './api';

/** Who reviews in a stage: the form's choices, each one Graph reviewer query. */
export type ReviewerChoice = 'managers' | 'groupOwners' | 'self' | 'users' | 'groupMembers';

/** One stage as the form edits it. */
export interface StageForm {
  reviewers: ReviewerChoice;
  /** Named reviewers (users) by id, comma-separated; or the group whose members review. */
  reviewerIds: string;
  fallbackIds: string;
  durationInDays: string;
  moveOn: Record<Outcome, boolean>;
  recommendations: boolean;
  /** Days without sign-in that make the recommendation Deny; empty: the API's default (30). */
  lookBackDays: string;
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
  descriptionForAdmins: string;
  descriptionForReviewers: string;
  resource: 'group' | 'application';
  resourceId: string;
  guestsOnly: boolean;
  inactiveOnly: boolean;
  inactiveDays: string;
  stages: StageForm[];
  instanceDurationInDays: string;
  autoApply: boolean;
  defaultDecision: 'None' | 'Approve' | 'Deny' | 'Recommendation';
  justificationRequired: boolean;
  decisionHistories: boolean;
  /** What a Deny does to a guest: remove the access, or block sign-in and delete 30 days later. */
  guestAction: 'removeAccess' | 'disableAndDelete';
  recurrence: 'none' | 'weekly' | 'absoluteMonthly';
  interval: string;
  rangeType: 'noEnd' | 'numbered' | 'endDate';
  startDate: string;
  endDate: string;
  occurrences: string;
}

export const newStage = (): StageForm => ({
  reviewers: 'managers',
  reviewerIds: '',
  fallbackIds: '',
  durationInDays: '7',
  moveOn: { Approve: true, Deny: false, DontKnow: true, NotReviewed: true },
  recommendations: true,
  lookBackDays: '',
});

const today = () => new Date().toISOString().slice(0, 10);

export const emptyForm = (): DefinitionForm => ({
  displayName: '',
  descriptionForAdmins: '',
  descriptionForReviewers: '',
  resource: 'group',
  resourceId: '',
  guestsOnly: false,
  inactiveOnly: false,
  inactiveDays: '30',
  stages: [newStage()],
  instanceDurationInDays: '14',
  autoApply: false,
  defaultDecision: 'None',
  justificationRequired: false,
  decisionHistories: false,
  guestAction: 'removeAccess',
  recurrence: 'none',
  interval: '1',
  rangeType: 'noEnd',
  startDate: today(),
  endDate: '',
  occurrences: '4',
});

const ids = (s: string) =>
  s
    .split(/[\s,]+/)
    .map((x) => x.trim())
    .filter(Boolean);
const users = (s: string) =>
  ids(s).map((id) => ({ query: `/users/${id}`, queryType: 'MicrosoftGraph' as const }));
const days = (n: string) => `P${Number(n)}D`;

function scopeOf(f: DefinitionForm): Record<string, unknown> {
  const id = f.resourceId.trim();
  const base =
    f.resource === 'application'
      ? `/servicePrincipals/${id}/appRoleAssignedTo`
      : `/groups/${id}/transitiveMembers`;
  const query = f.guestsOnly ? `${base}?$filter=(userType eq 'Guest')` : base;
  return f.inactiveOnly
    ? {
        '@odata.type': '#microsoft.graph.accessReviewInactiveUsersQueryScope',
        query,
        queryType: 'MicrosoftGraph',
        inactiveDuration: days(f.inactiveDays),
      }
    : { '@odata.type': '#microsoft.graph.accessReviewQueryScope', query, queryType: 'MicrosoftGraph' };
}

function reviewersOf(f: DefinitionForm, s: StageForm) {
  const id = f.resourceId.trim();
  switch (s.reviewers) {
    case 'managers':
      return [{ query: './manager', queryType: 'MicrosoftGraph' as const, queryRoot: 'decisions' }];
    case 'groupOwners':
      return [
        {
          query: f.resource === 'application' ? `/servicePrincipals/${id}/owners` : `/groups/${id}/owners`,
          queryType: 'MicrosoftGraph' as const,
        },
      ];
    case 'users':
      return users(s.reviewerIds);
    case 'groupMembers':
      return ids(s.reviewerIds).map((g) => ({
        query: `/groups/${g}/transitiveMembers`,
        queryType: 'MicrosoftGraph' as const,
      }));
    case 'self':
      return [];
  }
}

function recurrenceOf(f: DefinitionForm) {
  if (f.recurrence === 'none') return null;
  return {
    pattern: { type: f.recurrence, interval: Number(f.interval) },
    range: {
      type: f.rangeType,
      startDate: f.startDate,
      ...(f.rangeType === 'endDate' ? { endDate: f.endDate || null } : {}),
      ...(f.rangeType === 'numbered' ? { numberOfOccurrences: Number(f.occurrences) } : {}),
    },
  };
}

/** The Graph-shaped definition the form stands for (POST or PUT body). */
export function toDefinition(f: DefinitionForm): Record<string, unknown> {
  const last = f.stages.length - 1;
  return {
    displayName: f.displayName,
    descriptionForAdmins: f.descriptionForAdmins || null,
    descriptionForReviewers: f.descriptionForReviewers || null,
    scope: scopeOf(f),
    stageSettings: f.stages.map((s, i) => ({
      stageId: String(i + 1),
      ...(i > 0 ? { dependsOn: [String(i)] } : {}),
      durationInDays: Number(s.durationInDays),
      reviewers: reviewersOf(f, s),
      fallbackReviewers: users(s.fallbackIds),
      recommendationsEnabled: s.recommendations,
      ...(s.recommendations && s.lookBackDays.trim()
        ? { recommendationLookBackDuration: days(s.lookBackDays) }
        : {}),
      ...(i < last
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
      decisionHistoriesForReviewersEnabled: f.decisionHistories,
      recommendationsEnabled: f.stages.some((s) => s.recommendations),
      applyActions:
        f.guestsOnly && f.guestAction === 'disableAndDelete'
          ? [{ '@odata.type': '#microsoft.graph.disableAndDeleteUserApplyAction' }]
          : [{ '@odata.type': '#microsoft.graph.removeAccessApplyAction' }],
      recurrence: recurrenceOf(f),
    },
  };
}

type StageSettings = {
  durationInDays: number;
  reviewers?: { query: string }[];
  fallbackReviewers?: { query: string }[];
  decisionsThatWillMoveToNextStage?: string[] | null;
  recommendationsEnabled?: boolean;
  recommendationLookBackDuration?: string | null;
};

const captured = (rs: { query: string }[] | undefined, re: RegExp) =>
  (rs ?? [])
    .map((r) => re.exec(r.query)?.[1])
    .filter(Boolean)
    .join(', ');
const dayCount = (d: string | null | undefined) => /^P(\d+)D$/.exec(d ?? '')?.[1] ?? '';

function reviewerChoice(r: { query: string }[]): ReviewerChoice {
  if (r.some((x) => x.query === './manager')) return 'managers';
  if (r.some((x) => x.query.endsWith('/owners'))) return 'groupOwners';
  if (r.some((x) => /^\/groups\/[^/]+\/(transitiveMembers|members)/.test(x.query))) return 'groupMembers';
  return r.length ? 'users' : 'self';
}

/** The form for an existing definition, as far as the form can show it. */
export function fromDefinition(d: Definition): DefinitionForm {
  const query = d.scope.query;
  const app = /^\/servicePrincipals\/([^/]+)\//.exec(query);
  const group = /^\/groups\/([^/]+)\//.exec(query);
  const settings = (d.settings ?? {}) as Record<string, unknown>;
  const recurrence = settings.recurrence as
    | {
        pattern: { type: 'weekly' | 'absoluteMonthly'; interval: number };
        range: {
          type: DefinitionForm['rangeType'];
          startDate: string;
          endDate?: string | null;
          numberOfOccurrences?: number;
        };
      }
    | null
    | undefined;
  const stageSettings = (d.stageSettings ?? []) as StageSettings[];
  const inactive = (d.scope as { inactiveDuration?: string }).inactiveDuration;
  const applyActions = (settings.applyActions ?? []) as { '@odata.type': string }[];
  const base = emptyForm();
  return {
    ...base,
    displayName: d.displayName,
    descriptionForAdmins: d.descriptionForAdmins ?? '',
    descriptionForReviewers: d.descriptionForReviewers ?? '',
    resource: app ? 'application' : 'group',
    resourceId: app?.[1] ?? group?.[1] ?? '',
    guestsOnly: /userType eq 'Guest'/.test(decodeURIComponent(query)),
    inactiveOnly: Boolean(inactive),
    inactiveDays: dayCount(inactive) || base.inactiveDays,
    stages: (stageSettings.length
      ? stageSettings
      : [{ durationInDays: Number(settings.instanceDurationInDays ?? 14), reviewers: d.reviewers }]
    ).map((s) => {
      const kind = reviewerChoice(s.reviewers ?? []);
      const moveOn = new Set(s.decisionsThatWillMoveToNextStage ?? ['Approve', 'DontKnow', 'NotReviewed']);
      return {
        reviewers: kind,
        reviewerIds:
          kind === 'users'
            ? captured(s.reviewers, /^\/users\/([^/]+)$/)
            : kind === 'groupMembers'
              ? captured(s.reviewers, /^\/groups\/([^/]+)\//)
              : '',
        fallbackIds: captured(s.fallbackReviewers, /^\/users\/([^/]+)$/),
        durationInDays: String(s.durationInDays),
        moveOn: {
          Approve: moveOn.has('Approve'),
          Deny: moveOn.has('Deny'),
          DontKnow: moveOn.has('DontKnow'),
          NotReviewed: moveOn.has('NotReviewed'),
        },
        recommendations: s.recommendationsEnabled ?? Boolean(settings.recommendationsEnabled),
        lookBackDays: dayCount(s.recommendationLookBackDuration),
      };
    }),
    instanceDurationInDays: String(Number(settings.instanceDurationInDays ?? 14)),
    autoApply: Boolean(settings.autoApplyDecisionsEnabled),
    defaultDecision: settings.defaultDecisionEnabled
      ? ((settings.defaultDecision as DefinitionForm['defaultDecision']) ?? 'None')
      : 'None',
    justificationRequired: Boolean(settings.justificationRequiredOnApproval),
    decisionHistories: Boolean(settings.decisionHistoriesForReviewersEnabled),
    guestAction: applyActions.some(
      (a) => a['@odata.type'] === '#microsoft.graph.disableAndDeleteUserApplyAction',
    )
      ? 'disableAndDelete'
      : 'removeAccess',
    ...(recurrence
      ? {
          recurrence: recurrence.pattern.type,
          interval: String(recurrence.pattern.interval),
          rangeType: recurrence.range.type,
          startDate: recurrence.range.startDate,
          endDate: recurrence.range.endDate ?? '',
          occurrences: String(recurrence.range.numberOfOccurrences || base.occurrences),
        }
      : {}),
  };
}
