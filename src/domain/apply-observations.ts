import { z } from 'zod';

// What the directory said about a decision item right after its decision was applied: the evidence that
// a removal took effect (or that access stayed), read back by the apply activity and kept with the item.

const dateTime = z.iso.datetime({ offset: true });

/** A group review's item: is the principal still a member of the group, directly or through nesting. */
export const groupMembershipObservationSchema = z.strictObject({
  check: z.literal('groupMembership'),
  groupId: z.string(),
  groupFound: z.boolean(),
  directMember: z.boolean(),
  transitiveMember: z.boolean(),
  observedDateTime: dateTime,
});

/** An application review's item: is the principal still assigned to the application. */
export const applicationAssignmentObservationSchema = z.strictObject({
  check: z.literal('applicationAssignment'),
  applicationId: z.string(),
  applicationFound: z.boolean(),
  assigned: z.boolean(),
  observedDateTime: dateTime,
});

/** A review that blocks denied users (denyAction disableAndDeleteUser): does the account exist, is it enabled. */
export const accountObservationSchema = z.strictObject({
  check: z.literal('account'),
  userId: z.string(),
  userFound: z.boolean(),
  /** null when the user no longer exists. */
  accountEnabled: z.boolean().nullable(),
  observedDateTime: dateTime,
});

/** The directory state read back after an item was applied. */
export const applyObservationSchema = z.discriminatedUnion('check', [
  groupMembershipObservationSchema,
  applicationAssignmentObservationSchema,
  accountObservationSchema,
]);
export type ApplyObservation = z.infer<typeof applyObservationSchema>;
