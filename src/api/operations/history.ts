import { z } from 'zod';
import type { HistoryDefinition } from '../../domain/history-definitions';
import { historyDefinitionInputSchema } from '../../domain/history-definitions';
import type { HistoryReportService } from '../../services/history-reports';
import type { OperationInput } from '../operation';
import { operation } from '../operation';
import { requestBase } from '../odata';
import { idSchema } from '../params';
import { historyDefinitionEntitySchema, historyInstanceSchema } from '../response-schemas';
import type { ApiServices } from '../services';
import {
  HISTORY_DEFINITION,
  HISTORY_DEFINITIONS,
  HISTORY_DOWNLOAD,
  HISTORY_INSTANCE,
  historyDefinitionExample,
  historyDefinitionsContext,
  historyInstancesContext,
} from './paths';

const tag = 'accessReviewHistoryDefinition';
const instanceTag = 'accessReviewHistoryInstance';
/** More history definitions than this are not listed in one answer's filtering and sorting. */
const ALL = 10_000;

const definitionParams = z.object({ historyDefinitionId: idSchema });
const instanceParams = definitionParams.extend({ historyInstanceId: idSchema });
/** The download link's query: its secret (absent or wrong: 403, as for an expired link). */
const downloadQuerySchema = z.strictObject({ token: z.string().max(200).optional() });

/** Served only where the review records are in PostgreSQL (the history reports are read from them). */
const enabled = (services: ApiServices) => services.history !== undefined;
const history = (services: ApiServices): HistoryReportService => services.history!;

/** Where the instance's report is downloaded: this API, the same base as the request's links. */
const downloadUrl = (req: OperationInput<unknown, unknown>['req']) => (d: string, i: string, token: string) =>
  `${requestBase(req)}${HISTORY_DOWNLOAD.replace('{historyDefinitionId}', d).replace('{historyInstanceId}', i)}` +
  `?token=${encodeURIComponent(token)}`;

const DOWNLOAD =
  'The link generateDownloadUri answers with: like the pre-signed blob URL Graph answers with, it needs no ' +
  'bearer token (its unguessable token, valid 24 hours and replaced by the next generateDownloadUri, is ' +
  'the authorisation), so it can be handed to a browser or curl. A missing, wrong or expired token gets ' +
  '403 history.download_denied, whether or not the ids exist.';

/** Review history reports: definitions, their instances, download links and the CSV download. */
export const historyOperations = [
  operation({
    method: 'get',
    path: HISTORY_DEFINITIONS,
    operationId: 'historyDefinitions.list',
    tag,
    summary: 'List access review history definitions',
    role: 'admin',
    enabled,
    success: {
      kind: 'collection',
      schema: historyDefinitionEntitySchema,
      context: historyDefinitionsContext,
      expand: {
        instances: {
          schema: historyInstanceSchema,
          load: (d: HistoryDefinition, { services, req }: OperationInput<unknown, undefined>) =>
            history(services).instances(d.id, downloadUrl(req)),
        },
      },
    },
    handler: ({ services }) => history(services).list(0, ALL),
  }),
  operation({
    method: 'post',
    path: HISTORY_DEFINITIONS,
    operationId: 'historyDefinitions.create',
    tag,
    summary: 'Create an access review history definition',
    description:
      'scopes select the reviews by their definitions: ' +
      "/identityGovernance/accessReviews/definitions?$filter=contains(scope/query, '/groups'), a definition's " +
      'own path /identityGovernance/accessReviews/definitions/{id}, or the unfiltered list. Without ' +
      'scheduleSettings the period is required and the definition has one instance; with it, an instance ' +
      'per occurrence of its recurrence, over the reportRange before it.',
    role: 'admin',
    enabled,
    body: { schema: historyDefinitionInputSchema, example: historyDefinitionExample },
    success: {
      kind: 'entity',
      status: 201,
      schema: historyDefinitionEntitySchema,
      context: historyDefinitionsContext,
      location: (_p: unknown, d: HistoryDefinition) => `${HISTORY_DEFINITIONS}/${d.id}`,
    },
    handler: ({ body, caller, services }) => history(services).create(body, caller),
  }),
  operation({
    method: 'get',
    path: HISTORY_DEFINITION,
    operationId: 'historyDefinitions.get',
    tag,
    summary: 'Read an access review history definition',
    role: 'admin',
    enabled,
    params: definitionParams,
    success: {
      kind: 'entity',
      schema: historyDefinitionEntitySchema,
      context: historyDefinitionsContext,
      expand: {
        instances: {
          schema: historyInstanceSchema,
          load: (d: HistoryDefinition, { services, req }: OperationInput<unknown, undefined>) =>
            history(services).instances(d.id, downloadUrl(req)),
        },
      },
    },
    errors: [404],
    handler: ({ params, services }) => history(services).get(params.historyDefinitionId),
  }),
  operation({
    method: 'get',
    path: `${HISTORY_DEFINITION}/instances`,
    operationId: 'historyInstances.list',
    tag: instanceTag,
    summary: "List a history definition's instances (one per occurrence whose time has come)",
    role: 'admin',
    enabled,
    params: definitionParams,
    success: { kind: 'collection', schema: historyInstanceSchema, context: historyInstancesContext },
    errors: [404],
    handler: ({ params, services, req }) =>
      history(services).instances(params.historyDefinitionId, downloadUrl(req)),
  }),
  operation({
    method: 'post',
    path: `${HISTORY_INSTANCE}/generateDownloadUri`,
    operationId: 'historyInstances.generateDownloadUri',
    tag: instanceTag,
    summary: 'Generate a download link for the report of a history instance (valid 24 hours)',
    role: 'admin',
    enabled,
    params: instanceParams,
    success: { kind: 'entity', schema: historyInstanceSchema, context: historyInstancesContext },
    errors: [404, 409],
    handler: ({ params, services, req }) =>
      history(services).generateDownloadUri(
        params.historyDefinitionId,
        params.historyInstanceId,
        downloadUrl(req),
      ),
  }),
  operation({
    method: 'get',
    path: HISTORY_DOWNLOAD,
    operationId: 'historyInstances.download',
    tag: instanceTag,
    summary: "Download a history instance's report as CSV (streamed)",
    description: DOWNLOAD,
    role: 'public',
    enabled,
    params: instanceParams,
    query: downloadQuerySchema,
    success: {
      kind: 'file',
      mediaType: 'text/csv',
      description: 'The report: a CSV file (RFC 4180), streamed',
    },
    errors: [403],
    handler: async ({ params, query, services }) => ({
      filename: `access-review-history-${params.historyInstanceId}.csv`,
      body: await history(services).download(
        params.historyDefinitionId,
        params.historyInstanceId,
        query.token,
      ),
    }),
  }),
];
