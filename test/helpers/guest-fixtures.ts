import { group, user } from './review-harness';

const DAY = 86_400_000;
const daysAgo = (now: number, n: number) => new Date(now - n * DAY).toISOString();

export const stage = (id: number, reviewers: object[], extra: object = {}) => ({
  stageId: String(id),
  dependsOn: id === 1 ? [] : [String(id - 1)],
  durationInDays: 3,
  recommendationsEnabled: false,
  reviewers,
  ...extra,
});

/**
 * Guests of a partner group (ids prefixed with `p`): g1 and g2 inactive, g3 active, g4 new, m1 an
 * inactive member; o1 owns the group. Dates are relative to `now` (the test server's clock).
 */
export const guestTenant = (p: string, now: number) => ({
  users: [
    user(`${p}g1`, { userType: 'Guest', lastSignInDateTime: daysAgo(now, 200) }),
    user(`${p}g2`, { userType: 'Guest', lastSignInDateTime: daysAgo(now, 300) }),
    user(`${p}g3`, { userType: 'Guest', lastSignInDateTime: daysAgo(now, 10) }),
    user(`${p}g4`, { userType: 'Guest', lastSignInDateTime: null, createdDateTime: daysAgo(now, 30) }),
    user(`${p}m1`, { lastSignInDateTime: daysAgo(now, 400) }),
    user(`${p}o1`),
  ],
  groups: [group(`${p}partners`, [`${p}g1`, `${p}g2`, `${p}g3`, `${p}g4`, `${p}m1`], [`${p}o1`])],
});
/** Seed guest scenario: inactive 180 days, self then owners, approved move on, block then delete. */
export const guestReview = (p: string) => ({
  displayName: 'Inactive guests',
  scope: {
    '@odata.type': '#microsoft.graph.accessReviewInactiveUsersQueryScope',
    query: `/groups/${p}partners/transitiveMembers/microsoft.graph.user/?$count=true&$filter=(userType eq 'Guest')`,
    queryType: 'MicrosoftGraph',
    inactiveDuration: 'P180D',
  },
  stageSettings: [
    stage(1, [], { decisionsThatWillMoveToNextStage: ['Approve'] }),
    stage(2, [{ query: `/groups/${p}partners/owners`, queryType: 'MicrosoftGraph' }]),
  ],
  settings: {
    decisionHistoriesForReviewersEnabled: false,
    defaultDecisionEnabled: true,
    defaultDecision: 'Deny',
    autoApplyDecisionsEnabled: true,
    applyActions: [{ '@odata.type': '#microsoft.graph.disableAndDeleteUserApplyAction' }],
  },
});
