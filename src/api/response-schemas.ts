import { z } from 'zod';
import { definitionSchema } from '../domain/definition-schema';
import { historyDefinitionSchema, historyInstanceSchema } from '../domain/history-definitions';
import {
  contactedReviewerSchema,
  decisionItemSchema,
  instanceSchema,
  signInInsightSchema,
  stageSchema,
  userSchema,
} from '../domain/graph-resources';
import type { errorBody } from './errors';

export {
  historyInstanceSchema,
  contactedReviewerSchema,
  decisionItemSchema,
  instanceSchema,
  signInInsightSchema,
  stageSchema,
  userSchema,
};

const dateTime = z.iso.datetime({ offset: true });

// Entities as answered, with the navigation properties $expand can add.

/** accessReviewScheduleDefinition; `instances` with $expand=instances. */
export const definitionEntitySchema = definitionSchema
  .extend({ instances: z.array(instanceSchema).optional() })
  .meta({
    description: 'accessReviewScheduleDefinition: what is reviewed, by whom, in which stages and when',
  });
/** accessReviewInstance; `stages` with $expand=stages. */
export const instanceEntitySchema = instanceSchema
  .extend({ stages: z.array(stageSchema).optional() })
  .meta(instanceSchema.meta() ?? {});
/** accessReviewInstanceDecisionItem; `insights` with $expand=insights. */
export const decisionEntitySchema = decisionItemSchema
  .extend({ insights: z.array(signInInsightSchema).optional() })
  .meta(decisionItemSchema.meta() ?? {});

/** accessReviewHistoryDefinition; `instances` with $expand=instances. */
export const historyDefinitionEntitySchema = historyDefinitionSchema
  .extend({ instances: z.array(historyInstanceSchema).optional() })
  .meta(historyDefinitionSchema.meta() ?? {});

/** Graph's error body, the only shape a failed request answers with. */
export const errorSchema = z
  .object({
    error: z.object({
      code: z.string(),
      message: z.string(),
      details: z
        .array(
          z.object({
            code: z.string(),
            message: z.string(),
            target: z.string().describe('The field, as a dotted path (stageSettings.0.durationInDays)'),
          }),
        )
        .optional()
        .meta({ description: 'Each bad field of an invalid request (400 request.invalid_*)' }),
      innerError: z
        .object({
          'request-id': z.string().describe('The request-id response header of this request'),
          'client-request-id': z.string().describe("The caller's client-request-id, or the request-id"),
          date: dateTime.describe('When the error was answered (UTC)'),
        })
        .meta({ description: 'Which request failed and when, as Microsoft Graph reports it' }),
    }),
  })
  .meta({
    description: 'A stable dotted code (e.g. review.stage_not_in_progress) and a message safe to show',
  }) satisfies z.ZodType<ReturnType<typeof errorBody>>;

/** The '@odata.context' every single-entity response carries. */
export const odataEntitySchema = z.object({ '@odata.context': z.string() });

/** A Graph collection page of `item`: '@odata.nextLink' when more items exist, '@odata.count' on request. */
export function graphCollection<T extends z.ZodType>(item: T) {
  return odataEntitySchema.extend({
    '@odata.count': z.number().int().min(0).optional(),
    '@odata.nextLink': z.url().optional(),
    value: z.array(item),
  });
}

/** POST /auth/local/token's answer. */
export const localTokenSchema = z.object({
  token_type: z.literal('Bearer'),
  expires_in: z.number().int(),
  access_token: z.string(),
});

/** GET /health's answer. */
export const healthSchema = z.object({
  status: z.enum(['ok', 'unavailable']),
  reason: z.string().optional().describe('Why reviews cannot be served, when they cannot'),
  temporal: z.object({ reachable: z.boolean() }),
  workers: z.object({
    answering: z.boolean().describe('A worker answered a probe query on the task queue within a second'),
    pollers: z.number().int().describe('Workers seen polling the task queue in the last two minutes'),
  }),
});
