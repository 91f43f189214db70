// `@odata.type` values of the polymorphic objects the API answers with. Plain constants (no zod), so the
// workflow code that builds decision items can use them.

/** A decision item's resource: a group, or an application (its service principal). */
export const GROUP_RESOURCE = '#microsoft.graph.accessReviewInstanceDecisionItemResource';
export const SERVICE_PRINCIPAL_RESOURCE =
  '#microsoft.graph.accessReviewInstanceDecisionItemServicePrincipalResource';
/** reviewedBy, appliedBy, createdBy and a decision item's principal. */
export const USER_IDENTITY = '#microsoft.graph.userIdentity';
/** A decision item's sign-in insight. */
export const USER_SIGN_IN_INSIGHT = '#microsoft.graph.userSignInInsight';
