/**
 * The one registry of error codes. Every error the system reports carries one of these codes;
 * HTTP bodies are `{error, message, code}` where `error` is the code name and `code` the status.
 * docs/errors.md lists the same codes, and a test keeps the two in step.
 */
export const ERROR_CODES = {
  validation_error: {
    status: 400,
    summary: 'The job spec or request is invalid; `details` lists every problem.',
  },
  missing_spec: { status: 400, summary: 'The request has no job spec.' },
  invalid_request: { status: 400, summary: 'The request body is not valid JSON or not an object.' },
  config_invalid: { status: 500, summary: 'A setting is unknown or has a bad value; the message names it.' },
  path_outside_root: { status: 400, summary: 'A path resolves outside the configured media roots.' },
  unsupported_source: { status: 400, summary: 'The source or destination scheme is not supported here.' },
  input_not_found: { status: 422, summary: 'An input file does not exist.' },
  input_unreadable: { status: 422, summary: 'An input file exists but cannot be read.' },
  input_not_media: { status: 422, summary: 'An input is empty or not a media file FFmpeg can read.' },
  input_not_allowed: {
    status: 422,
    summary: 'An input is of a kind that may reference other files (playlist, concat list) and is refused.',
  },
  input_too_large: { status: 422, summary: 'An input exceeds a configured limit (pixels, duration).' },
  incompatible_input: { status: 422, summary: 'An operation does not fit the media it is given.' },
  probe_failed: { status: 422, summary: 'ffprobe could not read the media.' },
  probe_timeout: { status: 504, summary: 'ffprobe did not answer within its time limit.' },
  ffmpeg_not_found: { status: 500, summary: 'No FFmpeg or ffprobe binary could be found.' },
  ffmpeg_too_old: { status: 501, summary: 'The FFmpeg found lacks a feature this job needs.' },
  encoder_unavailable: { status: 422, summary: 'No encoder available for a requested codec.' },
  ffmpeg_failed: {
    status: 500,
    summary: 'FFmpeg exited with an error; the message carries the end of its log.',
  },
  ffmpeg_killed: {
    status: 500,
    summary:
      'FFmpeg was killed by a signal it was not sent by mediaforge (the OOM killer, an admin, a crash); another attempt may succeed.',
  },
  transfer_failed: {
    status: 502,
    summary:
      "A worker without shared storage could not fetch a task's input or upload its output; another attempt may succeed.",
  },
  stalled: { status: 500, summary: 'FFmpeg made no progress for too long and was stopped.' },
  timeout: { status: 500, summary: 'FFmpeg ran past its wall-clock deadline and was stopped.' },
  cancelled: { status: 409, summary: 'The run was cancelled.' },
  output_verification_failed: {
    status: 500,
    summary: 'FFmpeg exited 0 but the output is missing, truncated or lacks expected streams.',
  },
  output_write_failed: { status: 500, summary: 'The output could not be written or moved into place.' },
  internal_error: { status: 500, summary: 'An unexpected error; details are in the server log.' },
  unauthorized: { status: 401, summary: 'No API key, or one that is unknown or revoked.' },
  forbidden: { status: 403, summary: 'The key is valid but its role may not do this.' },
  not_found: { status: 404, summary: 'No such route.' },
  job_not_found: { status: 404, summary: 'No job with this id (or it belongs to someone else).' },
  api_key_not_found: { status: 404, summary: 'No API key with this id (or it belongs to someone else).' },
  job_terminal: {
    status: 400,
    summary: 'The job already completed, failed or was cancelled: it cannot be cancelled.',
  },
  plan_not_ready: { status: 409, summary: 'The job is not planned yet; try again once it is queued.' },
  operator_not_found: { status: 404, summary: 'No operator of this name.' },
  job_not_retryable: { status: 400, summary: 'Only a failed or cancelled job can be retried.' },
  idempotency_conflict: {
    status: 409,
    summary: 'The idempotency key was used before with a different request body.',
  },
  user_conflict: { status: 409, summary: 'A user of this name exists with another role.' },
  payload_too_large: { status: 413, summary: 'The request body is larger than the configured limit.' },
  unsupported_media_type: { status: 415, summary: 'The request body must be application/json.' },
  rate_limited: {
    status: 429,
    summary: 'Too many requests for this key; Retry-After tells when to try again.',
  },
  too_many_jobs: {
    status: 429,
    summary: 'The user has as many unfinished jobs as allowed; wait for some to finish.',
  },
  worker_lost: {
    status: 503,
    summary: 'The worker running a task stopped answering; the task was retried until its attempts ran out.',
  },
  worker_not_found: { status: 404, summary: 'No worker with this id.' },
  worker_token_not_found: { status: 404, summary: 'No active enrolment token with this id.' },
  stale_attempt: {
    status: 409,
    summary:
      'The report names an attempt the orchestrator no longer runs (re-queued or cancelled); stop that copy.',
  },
  stale_session: {
    status: 409,
    summary: 'The worker restarted or was replaced since this session began; start a new session.',
  },
  worker_busy: { status: 429, summary: 'The worker runs and queues as many tasks as it takes; try another.' },
  worker_unavailable: {
    status: 503,
    summary: 'The worker takes no new work now (error, maintenance or draining); the message says why.',
  },
  orchestrator_unreachable: { status: 503, summary: 'The orchestrator could not be reached.' },
  database_unavailable: { status: 503, summary: 'The database does not answer.' },
  migration_mismatch: {
    status: 500,
    summary:
      'The database schema does not match this version of mediaforge (a migration changed or is newer).',
  },
  shutting_down: { status: 503, summary: 'The server is stopping and takes no new work.' },
  server_unreachable: {
    status: 503,
    summary: 'The CLI could not reach the server at its URL (connection refused, unknown host, no answer).',
  },
  unexpected_response: {
    status: 502,
    summary: 'The server at the URL answered, but not as a mediaforge API does (is the URL right?).',
  },
} as const satisfies Record<string, { status: number; summary: string }>;

export type ErrorCode = keyof typeof ERROR_CODES;

/** True for a code of the registry (a client reading another process's error body). */
export const isErrorCode = (s: string): s is ErrorCode => Object.hasOwn(ERROR_CODES, s);

/** One problem found while validating: `path` is a JSON path such as `operations[1].params.width`. */
export interface Issue {
  path: string;
  code: IssueCode;
  message: string;
}

/** Codes of single validation problems (inside `details` of a `validation_error`). */
export const ISSUE_CODES = {
  required: 'A required field is missing.',
  invalid_type: 'A field has the wrong JSON type.',
  invalid_format: 'A string does not match the expected pattern (timecode, resolution, bitrate, ...).',
  invalid_value: 'A value is not one of the accepted choices.',
  out_of_range: 'A number or size is outside the accepted range.',
  unknown_key: 'An object has a key that is not part of the schema.',
  unknown_operator: 'An operation names an operator that does not exist.',
  unknown_reference: 'An operation or output refers to an id that does not exist.',
  duplicate_id: 'Two inputs, operations or outputs share an id.',
  cycle: 'Operations refer to each other in a cycle.',
  unused_node: 'An input or operation result is never used by any output.',
  incompatible_input: 'An operation is given media of a kind it cannot take (e.g. scale on audio).',
  incompatible_codec: 'A codec does not fit the output container or the media.',
  path_outside_root: 'A path resolves outside the media root.',
  unsupported_source: 'A source or destination scheme is not supported here.',
  invalid_params: 'Operator parameters do not fit together or do not fit the media.',
} as const;

export type IssueCode = keyof typeof ISSUE_CODES;

export class AppError extends Error {
  readonly code: ErrorCode;
  readonly status: number;
  readonly details: Issue[] | undefined;

  constructor(code: ErrorCode, message: string, options?: { details?: Issue[]; cause?: unknown }) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'AppError';
    this.code = code;
    this.status = ERROR_CODES[code].status;
    this.details = options?.details;
  }

  /**
   * The public body. A 5xx tells only the registry's summary: its message may hold paths, SQL
   * or a tool's output, which stay in the server log.
   */
  toBody(): { error: ErrorCode; message: string; code: number; details?: Issue[] } {
    const message = this.status >= 500 ? ERROR_CODES[this.code].summary : this.message;
    return this.details
      ? { error: this.code, message, code: this.status, details: this.details }
      : { error: this.code, message, code: this.status };
  }
}

export function validationError(details: Issue[]): AppError {
  const first = details[0];
  const summary = first ? `${first.path || '(root)'}: ${first.message}` : 'invalid';
  const more = details.length > 1 ? ` (and ${details.length - 1} more)` : '';
  return new AppError('validation_error', `${summary}${more}`, { details });
}

export function isAppError(e: unknown): e is AppError {
  return e instanceof AppError;
}
