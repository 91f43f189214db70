import type {
  DefinitionInput,
  RecommendationInsightSetting,
  Recurrence,
  ReviewerScope,
} from './definition-schema';
import { AppError } from './errors';
import { parseReviewerQuery, parseScopeQuery, QueryError } from './queries';
import type { NotificationRecipientSpec, ReviewPlan, ReviewerSpec, StagePlan } from './review-plan';
import { isoDurationToDays } from './review-plan';

const MONTH_DAYS = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];
const DEFAULT_LOOKBACK_DAYS = 30;
const MAX_APP_LOOKBACK_DAYS = 30;

/** Days in the shortest possible recurrence period (R2): weekly×n → 7n; absoluteMonthly×n → shortest n months. */
export function shortestRecurrenceDays(recurrence: Recurrence): number {
  const { type, interval } = recurrence.pattern;
  if (type === 'weekly') return 7 * interval;
  let shortest = Infinity;
  for (let start = 0; start < 12; start++) {
    let days = 0;
    for (let k = 0; k < interval; k++) days += MONTH_DAYS[(start + k) % 12] ?? 30;
    shortest = Math.min(shortest, days);
  }
  return shortest;
}

const invalid = (message: string) => new AppError('definition.invalid', message);

/** A stage's separation-of-duties setting (only when set) and its escalation, checked against the stage. */
function stageDuties(
  separation: boolean | undefined,
  escalation: { daysBeforeEnd: number; escalateTo: 'managers' | 'fallbackReviewers' } | null | undefined,
  stage?: { field: string; durationInDays: number; hasFallback: boolean },
): Pick<StagePlan, 'separationOfDuties' | 'escalation'> {
  const out: Pick<StagePlan, 'separationOfDuties' | 'escalation'> = {};
  if (separation !== undefined) out.separationOfDuties = separation;
  if (escalation && stage) {
    if (escalation.daysBeforeEnd >= stage.durationInDays) {
      throw invalid(
        `${stage.field}.escalation.daysBeforeEnd: must be less than the stage's durationInDays (${stage.durationInDays})`,
      );
    }
    if (escalation.escalateTo === 'fallbackReviewers' && !stage.hasFallback) {
      throw invalid(
        `${stage.field}.escalation.escalateTo: fallbackReviewers needs the stage's fallbackReviewers`,
      );
    }
    out.escalation = { daysBeforeEnd: escalation.daysBeforeEnd, to: escalation.escalateTo };
  }
  return out;
}

/** The notification settings of a plan, each only when the definition sets it (plans stay as they were otherwise). */
function notificationSettings(
  input: DefinitionInput,
  stages: StagePlan[],
): Pick<
  ReviewPlan['settings'],
  'reminderDaysBeforeDue' | 'descriptionForReviewers' | 'additionalNotificationRecipients'
> {
  const out: ReturnType<typeof notificationSettings> = {};
  const days = input.settings.reminderDaysBeforeDue;
  if (days?.length) {
    const longest = Math.max(...stages.map((st) => st.durationInDays));
    const beyond = days.find((d) => d >= longest);
    if (beyond !== undefined) {
      throw invalid(
        `settings.reminderDaysBeforeDue: ${beyond} days is not before the end of any stage (the longest lasts ${longest} days)`,
      );
    }
    out.reminderDaysBeforeDue = [...new Set(days)].sort((a, b) => b - a);
  }
  if (input.descriptionForReviewers) out.descriptionForReviewers = input.descriptionForReviewers;
  const recipients = notificationRecipients(input);
  if (recipients.length) out.additionalNotificationRecipients = recipients;
  return out;
}

/** Graph's additionalNotificationRecipients as recipients: /users/{id} or a group's (transitive) members. */
function notificationRecipients(input: DefinitionInput): NotificationRecipientSpec[] {
  return (input.additionalNotificationRecipients ?? []).map((item, i) => {
    const field = `additionalNotificationRecipients[${i}].notificationRecipientScope.query`;
    const query = item.notificationRecipientScope.query.replace(/^\/(v1\.0|beta)(?=\/)/, '');
    const user = /^\/users\/([^/?#]+)$/.exec(query);
    if (user) return { kind: 'user', userId: decodeURIComponent(user[1]!) };
    const group = /^\/groups\/([^/?#]+)\/(members|transitiveMembers)(\/microsoft\.graph\.user)?$/.exec(query);
    if (group) return { kind: 'groupMembers', groupId: decodeURIComponent(group[1]!) };
    throw invalid(`${field}: must be /users/{id}, /groups/{id}/members or /groups/{id}/transitiveMembers`);
  });
}

function reviewers(list: ReviewerScope[], field: string): ReviewerSpec[] {
  return list.map((r, i) => parseReviewerQuery(r, `${field}[${i}]`));
}

function stagePlans(input: DefinitionInput, appScope: boolean): StagePlan[] {
  const s = input.settings;
  const lookBack = (value: string | null | undefined, field: string) => {
    const days = value ? isoDurationToDays(value) : DEFAULT_LOOKBACK_DAYS;
    if (appScope && days > MAX_APP_LOOKBACK_DAYS) {
      throw invalid(`${field}: for reviews of applications the look-back duration is at most 30 days (P30D)`);
    }
    return days;
  };
  if (!input.stageSettings || input.stageSettings.length === 0) {
    if (s.instanceDurationInDays < 1) {
      throw invalid('settings.instanceDurationInDays: must be at least 1 when stageSettings is not given');
    }
    return [
      {
        stageId: '1',
        durationInDays: s.instanceDurationInDays,
        reviewers: reviewers(input.reviewers, 'reviewers'),
        fallbackReviewers: reviewers(input.fallbackReviewers, 'fallbackReviewers'),
        recommendationsEnabled: s.recommendationsEnabled,
        recommendationLookBackDays: lookBack(
          lastSignInLookBack(s.recommendationInsightSettings) ?? s.recommendationLookBackDuration,
          'settings.recommendationLookBackDuration',
        ),
        decisionsThatWillMoveToNextStage: null,
        ...stageDuties(s.separationOfDutiesEnabled, undefined),
      },
    ];
  }
  const stages = input.stageSettings;
  if (stages.length > 3) throw invalid(`stageSettings: at most 3 stages are supported, got ${stages.length}`);
  return stages.map((stage, i) => {
    const field = `stageSettings[${i}]`;
    const expectedId = String(i + 1);
    if (stage.stageId !== expectedId) {
      throw invalid(
        `${field}.stageId: stages run in sequence, so this stage must have stageId '${expectedId}', got '${stage.stageId}'`,
      );
    }
    const expectedDeps = i === 0 ? [] : [String(i)];
    if (
      stage.dependsOn.length !== expectedDeps.length ||
      stage.dependsOn.some((d, k) => d !== expectedDeps[k])
    ) {
      throw invalid(
        i === 0
          ? `${field}.dependsOn: stage '1' must not depend on another stage`
          : `${field}.dependsOn: stage '${expectedId}' must depend on exactly ['${i}'] (only sequential stages are supported)`,
      );
    }
    return {
      stageId: stage.stageId,
      durationInDays: stage.durationInDays,
      reviewers: reviewers(stage.reviewers, `${field}.reviewers`),
      fallbackReviewers: reviewers(stage.fallbackReviewers, `${field}.fallbackReviewers`),
      recommendationsEnabled: stage.recommendationsEnabled,
      recommendationLookBackDays: lookBack(
        lastSignInLookBack(stage.recommendationInsightSettings ?? stage.recommendationInsightsSettings) ??
          stage.recommendationLookBackDuration ??
          lastSignInLookBack(s.recommendationInsightSettings) ??
          s.recommendationLookBackDuration,
        `${field}.recommendationLookBackDuration`,
      ),
      decisionsThatWillMoveToNextStage: stage.decisionsThatWillMoveToNextStage
        ? [...new Set(stage.decisionsThatWillMoveToNextStage)]
        : null,
      ...stageDuties(stage.separationOfDutiesEnabled ?? s.separationOfDutiesEnabled, stage.escalation, {
        field,
        durationInDays: stage.durationInDays,
        hasFallback: stage.fallbackReviewers.length > 0,
      }),
    };
  });
}

/**
 * The look-back window a userLastSignIn insight setting gives, if any: Graph's way of setting what
 * recommendationLookBackDuration sets (the insight wins where both are given).
 */
function lastSignInLookBack(settings: RecommendationInsightSetting[] | undefined): string | undefined {
  const lastSignIn = settings?.find(
    (x) => x['@odata.type'] === '#microsoft.graph.userLastSignInRecommendationInsightSetting',
  );
  return lastSignIn?.recommendationLookBackDuration ?? undefined;
}

/**
 * Checks a parsed definition against the rules zod cannot express (R1, R2, R8, R11) and compiles it
 * into the plan the workflow runs. Throws a 400 AppError whose message names the offending field.
 */
export function compileDefinition(definitionId: string, input: DefinitionInput): ReviewPlan {
  try {
    const s = input.settings;
    const inactiveDays =
      input.scope.inactiveDuration !== undefined
        ? isoDurationToDays(input.scope.inactiveDuration)
        : undefined;
    if (
      input.scope['@odata.type'] === '#microsoft.graph.accessReviewInactiveUsersQueryScope' &&
      !inactiveDays
    ) {
      throw invalid(
        'scope.inactiveDuration: required (and above zero) for an accessReviewInactiveUsersQueryScope',
      );
    }
    const scope = parseScopeQuery(input.scope.query, 'scope.query', inactiveDays);
    const stages = stagePlans(input, scope.resource.type === 'application');
    const total = stages.reduce((sum, st) => sum + st.durationInDays, 0);
    if (s.recurrence) {
      const limit = shortestRecurrenceDays(s.recurrence);
      if (total > limit) {
        throw invalid(
          `${input.stageSettings?.length ? 'stageSettings.durationInDays' : 'settings.instanceDurationInDays'}: the review lasts ${total} days, longer than one ${s.recurrence.pattern.type} recurrence (${limit} days)`,
        );
      }
      const range = s.recurrence.range;
      if (range.type === 'numbered' && range.numberOfOccurrences < 1) {
        throw invalid(
          'settings.recurrence.range.numberOfOccurrences: must be at least 1 for a numbered range',
        );
      }
      if (range.type === 'endDate' && (!range.endDate || range.endDate < range.startDate)) {
        throw invalid(
          'settings.recurrence.range.endDate: required for an endDate range and not before startDate',
        );
      }
    }
    if (s.applyActions.length > 1)
      throw invalid('settings.applyActions: at most one apply action is supported');
    const disableAndDelete = s.applyActions.some(
      (a) => a['@odata.type'] === '#microsoft.graph.disableAndDeleteUserApplyAction',
    );
    if (disableAndDelete && scope.principals !== 'guests') {
      throw invalid(
        "settings.applyActions: disableAndDeleteUserApplyAction is only allowed when the scope reviews guest users only (add ?$filter=(userType eq 'Guest') to scope.query)",
      );
    }
    if (s.defaultDecisionEnabled && s.defaultDecision === 'None') {
      throw invalid(
        'settings.defaultDecision: must be Approve, Deny or Recommendation when defaultDecisionEnabled is true',
      );
    }
    return {
      definitionId,
      displayName: input.displayName,
      scope,
      stages,
      settings: {
        justificationRequiredOnApproval: s.justificationRequiredOnApproval,
        defaultDecisionEnabled: s.defaultDecisionEnabled,
        defaultDecision: s.defaultDecision,
        autoApplyDecisionsEnabled: s.autoApplyDecisionsEnabled,
        decisionHistoriesForReviewersEnabled: s.decisionHistoriesForReviewersEnabled,
        mailNotificationsEnabled: s.mailNotificationsEnabled,
        reminderNotificationsEnabled: s.reminderNotificationsEnabled,
        ...notificationSettings(input, stages),
        denyAction: disableAndDelete ? 'disableAndDeleteUser' : 'removeAccess',
      },
    };
  } catch (err) {
    if (err instanceof QueryError) throw invalid(err.message);
    throw err;
  }
}
