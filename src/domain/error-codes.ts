// Every error the API answers with: a stable dotted code, its HTTP status and when it happens. The
// OpenAPI document's error responses are written from this table, and AppError takes its status from it.

/** The HTTP statuses errors are answered with. */
export type ErrorStatus = 400 | 401 | 403 | 404 | 409 | 413 | 415 | 429 | 431 | 500 | 503;

const catalogue = {
  'request.invalid_params': [400, 'A path parameter is not valid'],
  'request.invalid_query': [400, 'A query parameter is not valid'],
  'request.invalid_body': [400, 'The body does not match the schema, does not decode or nests too deep'],
  'request.malformed_json': [400, 'The body is not JSON'],
  'request.malformed_url': [400, 'The URL has malformed percent-encoding'],
  'request.malformed_http': [400, 'The request is not valid HTTP'],
  'request.unsupported_filter': [400, '$filter cannot be honoured exactly: syntax, property or operator'],
  'request.unsupported_query_option': [400, 'A query option, or a property it names, is not supported here'],
  'definition.invalid': [400, 'The definition breaks a rule of access reviews'],
  'definition.unknown_object': [400, 'The definition names a user, group or application the directory lacks'],
  'review.justification_required': [400, 'The definition requires a justification for decisions'],
  'history.invalid': [400, 'The history definition breaks a rule: its period, scopes or schedule'],
  'delegation.invalid': [400, 'The delegation names the user themself, a disabled account or a past end'],
  'auth.invalid_token': [401, 'Missing, expired or invalid bearer token'],
  'auth.admin_required': [403, 'Access review administrators only'],
  'auth.unknown_user': [403, 'The token names a user the directory does not know'],
  'review.not_a_reviewer': [403, 'The caller does not review this'],
  'review.own_access': [
    403,
    'Separation of duties: nobody decides their own access; the item went to other reviewers',
  ],
  'directory.not_visible': [403, 'The caller may not read this directory object'],
  'directory.change_not_allowed': [403, 'Only guests blocked by a review can be restored'],
  'history.download_denied': [403, 'The download link is not valid or has expired; generate another one'],
  'request.unknown_route': [404, 'No such route'],
  'definition.not_found': [404, 'No such definition'],
  'instance.not_found': [404, 'No such instance'],
  'stage.not_found': [404, 'No such stage'],
  'review.decision_not_found': [404, 'No such decision item'],
  'directory.user_not_found': [404, 'No such user'],
  'directory.group_not_found': [404, 'No such group'],
  'directory.application_not_found': [404, 'No such service principal'],
  'directory.manager_not_found': [404, 'The user has no manager'],
  'history.definition_not_found': [404, 'No such history definition'],
  'history.instance_not_found': [404, 'No such history instance'],
  'delegation.not_found': [404, 'The user has no delegation'],
  'review.stage_not_in_progress': [409, 'The stage is not in progress'],
  'review.stage_completed': [409, 'The stage has completed'],
  'review.instance_not_in_progress': [409, 'The instance is not in progress'],
  'review.instance_not_completed': [409, 'The instance has not completed'],
  'review.reassign_not_allowed': [
    409,
    'The items cannot go to that user: they are the reviewee, or already review every one of them',
  ],
  'history.instance_expired': [
    409,
    'The history instance has expired: its report can no longer be downloaded',
  ],
  'request.too_large': [413, 'The body is larger than the configured limit'],
  'request.unsupported_encoding': [415, 'Unsupported body encoding or charset'],
  'request.headers_too_large': [431, 'The URL and headers are larger than 64 KiB'],
  'request.rate_limited': [429, 'Too many requests in the last minute; Retry-After says when to retry'],
  internal_error: [500, 'Unexpected failure; the details are logged, never returned'],
  'service.unavailable': [
    503,
    'No worker answers, Temporal is unreachable or the review did not answer in time; nothing was changed',
  ],
  'service.request_expired': [
    503,
    'The review saw the request after its deadline and refused it; nothing was changed',
  ],
  'auth.unavailable': [503, "The token issuer's signing keys cannot be fetched"],
  'directory.unavailable': [503, 'The directory cannot be reached'],
} as const satisfies Record<string, readonly [ErrorStatus, string]>;

/** A stable error code. */
export type ErrorCode = keyof typeof catalogue;

/** Each code's status and meaning. */
export const ERROR_CODES: Readonly<Record<ErrorCode, { status: ErrorStatus; description: string }>> =
  Object.fromEntries(
    Object.entries(catalogue).map(([code, [status, description]]) => [code, { status, description }]),
  ) as Record<ErrorCode, { status: ErrorStatus; description: string }>;

/** Whether a string (e.g. an ApplicationFailure type) is one of the catalogued codes. */
export const isErrorCode = (code: string): code is ErrorCode => Object.hasOwn(catalogue, code);

/** The codes answered with a status. */
export const codesWithStatus = (status: ErrorStatus): ErrorCode[] =>
  (Object.keys(ERROR_CODES) as ErrorCode[]).filter((code) => ERROR_CODES[code].status === status);
