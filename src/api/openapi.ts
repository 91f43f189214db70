import { z } from 'zod';
import { definitionInputSchema } from '../domain/definition-schema';
import { historyDefinitionInputSchema } from '../domain/history-definitions';
import type { ErrorStatus } from '../domain/error-codes';
import { codesWithStatus, ERROR_CODES } from '../domain/error-codes';
import { evidenceFileSchema } from '../domain/evidence';
import type { AnyOperation } from './operation';
import { operations } from './operations';
import {
  batchRecordDecisionsSchema,
  delegationInputSchema,
  delegationSchema,
  reassignDecisionSchema,
  reassignDecisionsSchema,
  reassignResultSchema,
  decisionPatchSchema,
  localTokenRequestSchema,
  reviewersUpdateSchema,
  userPatchSchema,
} from './params';
import {
  contactedReviewerSchema,
  decisionEntitySchema,
  definitionEntitySchema,
  errorSchema,
  graphCollection,
  healthSchema,
  historyDefinitionEntitySchema,
  historyInstanceSchema,
  instanceEntitySchema,
  localTokenSchema,
  odataEntitySchema,
  signInInsightSchema,
  stageSchema,
  userSchema,
} from './response-schemas';
import { querySchemaOf } from './router';

type Json = Record<string, unknown>;

/** The OpenAPI 3.1 document served at /openapi.json. */
export interface OpenApiDocument {
  openapi: '3.1.0';
  info: { title: string; version: string; description: string };
  servers: { url: string; description: string }[];
  security: Record<string, string[]>[];
  tags: { name: string }[];
  paths: Record<string, Record<string, Json>>;
  components: {
    schemas: Record<string, Json>;
    responses: Record<string, Json>;
    securitySchemes: Record<string, Json>;
  };
}

/** Entities in Graph's names; each also gets a `<name>Collection` page schema. */
const ENTITIES: [string, z.ZodObject][] = [
  ['AccessReviewScheduleDefinition', definitionEntitySchema],
  ['AccessReviewInstance', instanceEntitySchema],
  ['AccessReviewStage', stageSchema],
  ['AccessReviewInstanceDecisionItem', decisionEntitySchema],
  ['AccessReviewReviewer', contactedReviewerSchema],
  ['UserSignInInsight', signInInsightSchema],
  ['User', userSchema],
  ['AccessReviewHistoryDefinition', historyDefinitionEntitySchema],
  ['AccessReviewHistoryInstance', historyInstanceSchema],
];
const RESPONSES: [string, z.ZodType][] = [
  ['Error', errorSchema],
  ['ODataEntity', odataEntitySchema],
  ['LocalToken', localTokenSchema],
  ['Health', healthSchema],
  ['AccessReviewEvidence', evidenceFileSchema],
  ['ReassignResult', reassignResultSchema],
  ['Delegation', delegationSchema],
];
/** Request bodies are documented as clients may write them (zod's input side: defaults are optional). */
const REQUESTS: [string, z.ZodType][] = [
  ['AccessReviewScheduleDefinitionInput', definitionInputSchema],
  ['DecisionPatch', decisionPatchSchema],
  ['ReviewersUpdate', reviewersUpdateSchema],
  ['BatchRecordDecisions', batchRecordDecisionsSchema],
  ['ReassignDecision', reassignDecisionSchema],
  ['ReassignDecisions', reassignDecisionsSchema],
  ['DelegationInput', delegationInputSchema],
  ['UserPatch', userPatchSchema],
  ['LocalTokenRequest', localTokenRequestSchema],
  ['AccessReviewHistoryDefinitionInput', historyDefinitionInputSchema],
];

/** Each error status's response name and the situations it stands for, written from the code catalogue. */
const ERROR_NAMES: Record<ErrorStatus, [string, string]> = {
  400: ['BadRequest', 'Invalid path, query or body, or a rule of the review'],
  401: ['Unauthorized', 'No valid bearer token'],
  403: ['Forbidden', 'Not allowed for this caller'],
  404: ['NotFound', 'An id in the path names nothing the caller can see, or no such route'],
  409: ['Conflict', 'The review is not in a state that allows this'],
  413: ['PayloadTooLarge', 'The request body is too large'],
  415: ['UnsupportedMediaType', 'Unsupported body encoding'],
  429: ['TooManyRequests', 'Rate limited; Retry-After says when to retry'],
  431: ['RequestHeaderFieldsTooLarge', 'The URL (query options included) and headers are too large'],
  500: ['InternalError', 'Unexpected failure'],
  503: ['ServiceUnavailable', 'Cannot be served now; retry after the Retry-After header seconds'],
};
const ERRORS = Object.fromEntries(
  (Object.entries(ERROR_NAMES) as unknown as [ErrorStatus, [string, string]][]).map(
    ([status, [name, text]]) => [
      status,
      [
        name,
        `${text}. Codes: ${codesWithStatus(Number(status) as ErrorStatus)
          .map((code) => `${code} (${ERROR_CODES[code].description})`)
          .join('; ')}`,
      ],
    ],
  ),
) as Record<ErrorStatus, [string, string]>;

const ODATA_PARAMETERS: Record<string, string> = {
  $top: 'Page size (1–1000, default 100)',
  $skip: 'Items to skip; follow @odata.nextLink instead of computing it',
  $select: 'Comma-separated properties to return; id (and expanded properties) are always returned',
  $filter:
    "eq, ne, gt, ge, lt, le, and, or, not, parentheses, contains(p,'x'), startswith(p,'x'), endswith(p,'x') on " +
    "the resource's scalar properties, nested ones as a/b (type casts such as " +
    'scope/microsoft.graph.accessReviewQueryScope/query allowed); strings compare case-insensitively; ' +
    'anything else is 400 request.unsupported_filter',
  $count: "'true' adds @odata.count, the number of items matching $filter",
  $orderby: "Comma-separated scalar properties, each optionally followed by 'asc' or 'desc'",
  $expand: 'Comma-separated navigation properties to include (see the resource)',
};

const ref = (kind: 'schemas' | 'responses', name: string) => ({ $ref: `#/components/${kind}/${name}` });

/**
 * Graph objects tolerate new properties, so strip-mode objects are documented open (zod's output side
 * would close them) and strict ones closed; `format: date-time` says what zod's long regex does.
 */
function tidy(ctx: { zodSchema: z.core.$ZodTypes; jsonSchema: z.core.JSONSchema.BaseSchema }) {
  const def = ctx.zodSchema._zod.def;
  if (def.type === 'object' && !def.catchall && ctx.jsonSchema.additionalProperties === false) {
    delete ctx.jsonSchema.additionalProperties;
  }
  if (ctx.jsonSchema.format === 'date-time') delete ctx.jsonSchema.pattern;
}

/** JSON Schemas of named zod schemas, cross-referenced through #/components/schemas. */
function convert(entries: [string, z.ZodType][], io: 'input' | 'output'): Record<string, Json> {
  const registry = z.registry<{ id: string }>();
  for (const [id, schema] of entries) registry.add(schema, { id });
  const { schemas } = z.toJSONSchema(registry, {
    target: 'draft-2020-12',
    io,
    uri: (id) => ref('schemas', id).$ref,
    override: tidy,
  });
  return Object.fromEntries(
    Object.entries(schemas).map(([id, { $schema: _s, $id: _id, ...schema }]) => [id, schema as Json]),
  );
}

function componentNames(): Map<z.ZodType, string> {
  const names = new Map<z.ZodType, string>();
  for (const [name, schema] of [...ENTITIES, ...RESPONSES, ...REQUESTS]) names.set(schema, name);
  return names;
}

function parameters(schema: z.ZodObject | undefined, where: 'path' | 'query'): Json[] {
  if (!schema) return [];
  const json = z.toJSONSchema(schema, { target: 'draft-2020-12', io: 'input' });
  const required = new Set(json.required ?? []);
  return Object.entries(json.properties ?? {}).map(([name, s]) => ({
    name,
    in: where,
    required: where === 'path' || required.has(name),
    ...(where === 'query' && ODATA_PARAMETERS[name] ? { description: ODATA_PARAMETERS[name] } : {}),
    schema: s,
  }));
}

/** Statuses every operation of its kind can answer with, plus the operation's own. */
export function errorStatuses(op: AnyOperation): ErrorStatus[] {
  const statuses = new Set<ErrorStatus>([...(op.errors ?? []), 431, 500]);
  if (op.role !== 'public') [400, 401, 403, 429, 503].forEach((s) => statuses.add(s as ErrorStatus));
  if (op.body) [400, 413, 415].forEach((s) => statuses.add(s as ErrorStatus));
  if (querySchemaOf(op)) statuses.add(400);
  return [...statuses].sort((a, b) => a - b);
}

/** The summary line said of an operation's callers and its $expand, before its own description. */
function descriptionOf(op: AnyOperation): string | undefined {
  const parts: string[] = [];
  if (op.role === 'admin') parts.push('Access review administrators only.');
  if (op.description) parts.push(op.description);
  const s = op.success;
  if ('expand' in s && s.expand) parts.push(`$expand: ${Object.keys(s.expand).join(', ')}.`);
  return parts.length ? parts.join(' ') : undefined;
}

function operationObject(op: AnyOperation, names: Map<z.ZodType, string>): Json {
  const named = (schema: z.ZodType) => {
    const name = names.get(schema);
    if (!name) throw new Error(`${op.operationId}: its schema is not a named component`);
    return name;
  };
  const templated = [...op.path.matchAll(/\{(\w+)\}/g)].map((m) => m[1]).sort();
  const declared = Object.keys(op.params?.shape ?? {}).sort();
  if (templated.join() !== declared.join()) {
    throw new Error(`${op.operationId}: path has {${templated.join()}}, params schema {${declared.join()}}`);
  }
  const json = (description: string, schema: Json) => ({
    description,
    content: { 'application/json': { schema } },
  });
  const s = op.success;
  const query = querySchemaOf(op);
  let ok: Json;
  let status = 200;
  switch (s.kind) {
    case 'none':
      status = 204;
      ok = { description: 'Done; no content' };
      break;
    case 'collection':
      ok = json(
        'A page of items (with $select, only the selected properties and id); @odata.nextLink links the next page',
        ref('schemas', `${named(s.schema)}Collection`),
      );
      break;
    case 'entity': {
      status = s.status ?? 200;
      const entity = query
        ? { anyOf: [ref('schemas', named(s.schema)), ref('schemas', `${named(s.schema)}Selection`)] }
        : ref('schemas', named(s.schema));
      ok = json(status === 201 ? 'Created' : 'OK (with $select, only the selected properties and id)', {
        allOf: [ref('schemas', 'ODataEntity'), entity],
      });
      if (status === 201) {
        ok.headers = { Location: { description: 'URL of the new object', schema: { type: 'string' } } };
      }
      break;
    }
    case 'count':
      ok = {
        description: 'The number of items matching $filter, as plain text',
        content: { 'text/plain': { schema: { type: 'integer', minimum: 0 } } },
      };
      break;
    case 'json':
      ok = json('OK', ref('schemas', named(s.schema)));
      break;
    case 'file':
      ok = {
        description: s.description,
        headers: {
          'Content-Disposition': {
            description: 'attachment; filename="…"',
            schema: { type: 'string' },
          },
        },
        content: {
          [s.mediaType]: { schema: s.schema ? ref('schemas', named(s.schema)) : { type: 'string' } },
        },
      };
      break;
    case 'document':
      ok = json('This document', { type: 'object' });
      break;
    case 'html':
      ok = { description: 'Swagger UI', content: { 'text/html': { schema: { type: 'string' } } } };
      break;
  }

  const responses: Json = { [status]: ok };
  for (const e of errorStatuses(op)) responses[e] = ref('responses', ERRORS[e][0]);
  const description = descriptionOf(op);
  return {
    operationId: op.operationId,
    tags: [op.tag],
    summary: op.summary,
    ...(description ? { description } : {}),
    ...(op.role === 'public' ? { security: [] } : {}),
    parameters: [...parameters(op.params, 'path'), ...parameters(query, 'query')],
    ...(op.body
      ? {
          requestBody: {
            required: true,
            content: {
              'application/json': { schema: ref('schemas', named(op.body.schema)), example: op.body.example },
            },
          },
        }
      : {}),
    responses,
  };
}

/** Builds the OpenAPI 3.1 document from the operation table and the zod schemas it names. */
export function openApiDocument(opts: { version: string }): OpenApiDocument {
  const names = componentNames();
  const selections = ENTITIES.map(([name, schema]): [string, z.ZodType] => [
    `${name}Selection`,
    schema
      .partial()
      .required({ id: true } as never)
      .meta({ description: `${name} with $select: the selected properties and id` }),
  ]);
  const collections = ENTITIES.map(([name, schema], k): [string, z.ZodType] => [
    `${name}Collection`,
    graphCollection(z.union([schema, selections[k]![1]])),
  ]);
  const paths: OpenApiDocument['paths'] = {};
  for (const op of operations) {
    (paths[op.path] ??= {})[op.method] = operationObject(op, names);
  }
  return {
    openapi: '3.1.0',
    info: {
      title: 'Stagecoach',
      version: opts.version,
      description:
        'Multi-stage access reviews behind a Microsoft Graph-shaped API (v1.0 accessReviews). ' +
        "Functions are called as Graph calls them, e.g. filterByCurrentUser(on='reviewer'). " +
        'Lists honour $filter, $orderby, $select, $expand, $count, $top and $skip; a query option that cannot ' +
        'be honoured is a 400 naming it, never ignored. With $select, items carry only the selected ' +
        'properties and id. ' +
        'Errors are { "error": { "code", "message", "details"?, "innerError": { "request-id", "client-request-id", "date" } } } ' +
        'with a stable dotted code.',
    },
    servers: [{ url: '/', description: 'The Stagecoach deployment serving this document' }],
    security: [{ bearer: [] }],
    tags: [...new Set(operations.map((o) => o.tag))].map((name) => ({ name })),
    paths,
    components: {
      schemas: {
        ...convert([...ENTITIES, ...selections, ...collections, ...RESPONSES], 'output'),
        ...convert(REQUESTS, 'input'),
      },
      responses: Object.fromEntries(
        Object.values(ERRORS).map(([name, description]) => [
          name,
          { description, content: { 'application/json': { schema: ref('schemas', 'Error') } } },
        ]),
      ),
      securitySchemes: {
        bearer: {
          type: 'http',
          scheme: 'bearer',
          bearerFormat: 'JWT',
          description:
            'A token from the configured issuer; with AUTH_MODE=local, from POST /auth/local/token',
        },
      },
    },
  };
}
