// Paths, @odata.context values and shared texts of the access review operations.

export const REVIEWS = '/v1.0/identityGovernance/accessReviews';
export const DEFINITIONS = `${REVIEWS}/definitions`;
export const DEFINITION = `${DEFINITIONS}/{definitionId}`;
export const INSTANCE = `${DEFINITION}/instances/{instanceId}`;
export const STAGE = `${INSTANCE}/stages/{stageId}`;
/** Graph's function call; the app maps it onto the plain `filterByCurrentUser` segment the router uses. */
export const MINE = "filterByCurrentUser(on='reviewer')";

/** Said of operations only access review administrators may call. */
export const ADMIN = 'Access review administrators only.';
export const FOR_REVIEWER =
  "The caller's own share: only what they review now (Graph's filterByCurrentUser(on='reviewer')).";

const ACCESS_REVIEWS = 'identityGovernance/accessReviews';
export const definitionsContext = () => `${ACCESS_REVIEWS}/definitions`;
export const instancesContext = (p: { definitionId: string }) =>
  `${ACCESS_REVIEWS}/definitions('${p.definitionId}')/instances`;
export const instanceContext = (p: { definitionId: string; instanceId: string }) =>
  `${instancesContext(p)}('${p.instanceId}')`;
export const stagesContext = (p: { definitionId: string; instanceId: string }) =>
  `${instanceContext(p)}/stages`;
export const decisionsContext = (p: { definitionId: string; instanceId: string; stageId?: string }) =>
  `${instanceContext(p)}${p.stageId ? `/stages('${p.stageId}')` : ''}/decisions`;

export const GROUP = '56b642ff-312b-4458-9263-d915740b44fe';
export const definitionExample = {
  displayName: 'Finance Team quarterly review',
  descriptionForReviewers: 'Does this person still need access to the Finance Team?',
  scope: {
    '@odata.type': '#microsoft.graph.accessReviewQueryScope',
    query: `/groups/${GROUP}/transitiveMembers`,
    queryType: 'MicrosoftGraph',
  },
  stageSettings: [
    {
      stageId: '1',
      durationInDays: 7,
      reviewers: [{ query: './manager', queryType: 'MicrosoftGraph', queryRoot: 'decisions' }],
      decisionsThatWillMoveToNextStage: ['NotReviewed', 'Approve'],
    },
    {
      stageId: '2',
      dependsOn: ['1'],
      durationInDays: 7,
      reviewers: [{ query: `/groups/${GROUP}/owners`, queryType: 'MicrosoftGraph' }],
    },
  ],
  settings: { instanceDurationInDays: 14, autoApplyDecisionsEnabled: true, defaultDecision: 'None' },
};
export const REVIEWERS_UPDATE = `${ADMIN} Only reviewers and fallbackReviewers change (at least one is required); scope is ignored.`;
export const reviewersExample = {
  reviewers: [{ query: '/users/7c32e15c-d4d0-49aa-9eb3-0793e032aa70', queryType: 'MicrosoftGraph' }],
};
export const decisionExample = { decision: 'Deny', justification: 'Moved to sales' };

export const HISTORY_DEFINITIONS = `${REVIEWS}/historyDefinitions`;
export const HISTORY_DEFINITION = `${HISTORY_DEFINITIONS}/{historyDefinitionId}`;
export const HISTORY_INSTANCE = `${HISTORY_DEFINITION}/instances/{historyInstanceId}`;
export const HISTORY_DOWNLOAD = `${HISTORY_INSTANCE}/download`;
export const historyDefinitionsContext = () => `${ACCESS_REVIEWS}/historyDefinitions`;
export const historyInstancesContext = (p: { historyDefinitionId: string }) =>
  `${ACCESS_REVIEWS}/historyDefinitions('${p.historyDefinitionId}')/instances`;
export const historyDefinitionExample = {
  displayName: "Last quarter's group reviews",
  decisions: ['approve', 'deny', 'dontKnow', 'notReviewed', 'notNotified'],
  reviewHistoryPeriodStartDateTime: '2021-01-01T00:00:00Z',
  reviewHistoryPeriodEndDateTime: '2021-04-30T23:59:59Z',
  scopes: [
    {
      '@odata.type': '#microsoft.graph.accessReviewQueryScope',
      queryType: 'MicrosoftGraph',
      query: "/identityGovernance/accessReviews/definitions?$filter=contains(scope/query, '/groups')",
      queryRoot: null,
    },
  ],
};
