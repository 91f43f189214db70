import { z } from 'zod';
import { definitionInputSchema, definitionSchema } from '../domain/definition-schema';
import type { ApiOperation } from './openapi-operations';
import { operations } from './openapi-operations';
import {
  contactedReviewerSchema,
  decisionItemSchema,
  errorSchema,
  graphCollection,
  healthSchema,
  instanceSchema,
  localTokenSchema,
  odataEntitySchema,
  stageSchema,
  userSchema,
} from './response-schemas';
import {
  batchRecordDecisionsSchema,
  decisionPatchSchema,
  localTokenRequestSchema,
  reviewersUpdateSchema,
  userPatchSchema,
} from './routes/params';

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
const ENTITIES: [string, z.ZodType][] = [
  ['AccessReviewScheduleDefinition', definitionSchema],
  ['AccessReviewInstance', instanceSchema],
  ['AccessReviewStage', stageSchema],
  ['AccessReviewInstanceDecisionItem', decisionItemSchema],
  ['AccessReviewReviewer', contactedReviewerSchema],
  ['User', userSchema],
];
const RESPONSES: [string, z.ZodType][] = [
  ['Error', errorSchema],
  ['ODataEntity', odataEntitySchema],
  ['LocalToken', localTokenSchema],
  ['Health', healthSchema],
];
/** Request bodies are documented as clients may write them (zod's input side: defaults are optional). */
const REQUESTS: [string, z.ZodType][] = [
  ['AccessReviewScheduleDefinitionInput', definitionInputSchema],
  ['DecisionPatch', decisionPatchSchema],
  ['ReviewersUpdate', reviewersUpdateSchema],
  ['BatchRecordDecisions', batchRecordDecisionsSchema],
  ['UserPatch', userPatchSchema],
  ['LocalTokenRequest', localTokenRequestSchema],
];

const ERRORS = {
  400: [
    'BadRequest',
    'Invalid path, query or body (request.invalid_params, request.invalid_query, request.invalid_body — also ' +
      'for a body that does not decode or nests too deep —, request.malformed_json, request.unsupported_filter), ' +
      'a rule of the review (definition.invalid, review.justification_required) or a directory object that ' +
      'does not exist (definition.unknown_object)',
  ],
  401: ['Unauthorized', 'Missing, expired or invalid bearer token (auth.invalid_token)'],
  403: [
    'Forbidden',
    'Not allowed for this caller (auth.admin_required, auth.unknown_user, review.not_a_reviewer, ' +
      'directory.not_visible, directory.change_not_allowed)',
  ],
  404: [
    'NotFound',
    'An id in the path names nothing the caller can see (definition.not_found, instance.not_found, ' +
      'stage.not_found, review.decision_not_found, directory.user_not_found, …)',
  ],
  409: [
    'Conflict',
    'The review is not in a state that allows this (review.stage_not_in_progress, review.stage_completed, ' +
      'review.instance_not_in_progress, review.instance_not_completed)',
  ],
  413: ['PayloadTooLarge', 'The request body is larger than the configured limit (request.too_large)'],
  415: ['UnsupportedMediaType', 'Unsupported body encoding or charset (request.unsupported_encoding)'],
  429: [
    'TooManyRequests',
    'Too many requests by this caller, or without a valid token from this address, in the last minute ' +
      '(request.rate_limited); Retry-After says when to retry',
  ],
  500: ['InternalError', 'Unexpected failure (internal_error); the details are logged, never returned'],
  503: [
    'ServiceUnavailable',
    'No worker answers on the task queue, Temporal is unreachable, the review did not answer in time ' +
      "(service.unavailable; nothing was changed), or the token issuer's signing keys cannot be fetched " +
      '(auth.unavailable), or the directory cannot be reached (directory.unavailable). Retry after the ' +
      'Retry-After header seconds',
  ],
} as const;
type ErrorStatus = keyof typeof ERRORS;

const ODATA_PARAMETERS: Record<string, string> = {
  $top: 'Page size',
  $skip: 'Items to skip; follow @odata.nextLink instead of computing it',
  $select: 'Comma-separated properties to return; id is always returned',
  $filter: "decision eq 'Approve|Deny|NotReviewed|DontKnow' and/or principal/id eq '{id}', joined with 'and'",
  $count: "'true' adds @odata.count, the number of items matching $filter",
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
export function errorStatuses(op: ApiOperation): ErrorStatus[] {
  const statuses = new Set<ErrorStatus>([...(op.errors ?? []), 500]);
  if (!op.public) [400, 401, 403, 429, 503].forEach((s) => statuses.add(s as ErrorStatus));
  if (op.body) [400, 413, 415].forEach((s) => statuses.add(s as ErrorStatus));
  return [...statuses].sort((a, b) => a - b);
}

function operationObject(op: ApiOperation, names: Map<z.ZodType, string>): Json {
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
  let ok: Json;
  if (s.status === 204) ok = { description: 'Done; no content' };
  else if ('page' in s) {
    ok = json(
      'A page of items; @odata.nextLink links the next page',
      ref('schemas', `${named(s.page)}Collection`),
    );
  } else if ('entity' in s) {
    ok = json(s.status === 201 ? 'Created' : 'OK', {
      allOf: [ref('schemas', 'ODataEntity'), ref('schemas', named(s.entity))],
    });
    if (s.status === 201)
      ok.headers = { Location: { description: 'URL of the new object', schema: { type: 'string' } } };
  } else if (s.body === 'document') ok = json('This document', { type: 'object' });
  else if (s.body === 'count') {
    ok = {
      description: 'The number of items, as plain text',
      content: { 'text/plain': { schema: { type: 'integer', minimum: 0 } } },
    };
  } else if (s.body === 'html')
    ok = { description: 'Swagger UI', content: { 'text/html': { schema: { type: 'string' } } } };
  else ok = json('OK', ref('schemas', named(s.body)));

  const responses: Json = { [s.status]: ok };
  for (const status of errorStatuses(op)) responses[status] = ref('responses', ERRORS[status][0]);
  return {
    operationId: op.operationId,
    tags: [op.tag],
    summary: op.summary,
    ...(op.description ? { description: op.description } : {}),
    ...(op.public ? { security: [] } : {}),
    parameters: [...parameters(op.params, 'path'), ...parameters(op.query, 'query')],
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

/** Builds the OpenAPI 3.1 document from the route table and the zod schemas the routes use. */
export function openApiDocument(opts: { version: string }): OpenApiDocument {
  const names = componentNames();
  const collections = ENTITIES.map(([name, schema]): [string, z.ZodType] => [
    `${name}Collection`,
    graphCollection(schema),
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
        'With $select, items carry only the selected properties and id. ' +
        'Errors are { "error": { "code", "message", "innerError": { "request-id", "client-request-id", "date" } } } ' +
        'with a stable dotted code.',
    },
    servers: [{ url: '/', description: 'The Stagecoach deployment serving this document' }],
    security: [{ bearer: [] }],
    tags: [...new Set(operations.map((o) => o.tag))].map((name) => ({ name })),
    paths,
    components: {
      schemas: {
        ...convert([...ENTITIES, ...collections, ...RESPONSES], 'output'),
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
