/**
 * What POST /jobs checks before it stores anything: the envelope, the spec (schema, operators,
 * graph), the configured limits, and that every path stays under the media roots. Probing the
 * inputs comes later, in the planner: a job whose input cannot be read fails with a clear error.
 */
import { createHash } from 'node:crypto';
import { z } from 'zod';
import {
  AppError,
  type Issue,
  JobRequest,
  type JobSpec,
  PARSE_OPTIONS,
  toIssues,
  validateJobSpec,
  validationError,
} from '../core/index.js';
import { type MediaRoots, resolveLocation } from '../storage/index.js';

/** The request around the spec, as core's JobRequest says; the spec itself gets validateJobSpec. */
export const JobEnvelope = JobRequest.extend({ spec: z.unknown() });

export interface Admitted {
  spec: JobSpec;
  priority: number;
  callbackUrl: string | null;
  idempotencyKey: string | null;
  requestHash: string;
}

export interface AdmissionLimits {
  maxInputs: number;
  maxOperations: number;
  maxOutputs: number;
}

/** JSON with sorted keys: two bodies that mean the same hash the same. */
function canonical(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(canonical).join(',')}]`;
  if (v !== null && typeof v === 'object')
    return `{${Object.keys(v)
      .sort()
      .map((k) => `${JSON.stringify(k)}:${canonical((v as Record<string, unknown>)[k])}`)
      .join(',')}}`;
  return JSON.stringify(v);
}

/** The API takes `{spec: {...}, ...}`: a body that is not an object, or has no spec, says so. */
function specOf(body: unknown): unknown {
  if (body === null || typeof body !== 'object' || Array.isArray(body))
    throw new AppError('invalid_request', 'the body must be a JSON object: {"spec": {...}}');
  const spec = (body as { spec?: unknown }).spec;
  if (spec === null || spec === undefined)
    throw new AppError(
      'missing_spec',
      'the job has no spec (expected {"spec": {"inputs": [...], "operations": [...], "outputs": [...]}})',
    );
  return spec;
}

export function admitJob(
  body: unknown,
  headerKey: string | undefined,
  roots: MediaRoots,
  limits: AdmissionLimits,
): Admitted {
  const spec = specOf(body);
  const env = JobEnvelope.safeParse(body, PARSE_OPTIONS);
  if (!env.success) throw validationError(toIssues(env.error).filter((i) => !i.path.startsWith('spec')));
  const { priority, callback_url, idempotency_key } = env.data;
  if (headerKey !== undefined && idempotency_key !== undefined && headerKey !== idempotency_key)
    throw validationError([
      { path: 'idempotency_key', code: 'invalid_value', message: 'differs from the Idempotency-Key header' },
    ]);
  const key = headerKey ?? idempotency_key ?? null;
  if (key !== null && (key.length === 0 || key.length > 255))
    throw validationError([
      { path: 'idempotency_key', code: 'out_of_range', message: 'must be 1 to 255 characters' },
    ]);

  const validation = validateJobSpec(spec);
  if (!validation.ok)
    throw validationError(validation.issues.map((i) => ({ ...i, path: i.path ? `spec.${i.path}` : 'spec' })));
  const valid = validation.value.spec;
  const issues: Issue[] = [];
  const over = (what: 'inputs' | 'operations' | 'outputs', n: number, max: number) => {
    if (n > max)
      issues.push({ path: `spec.${what}`, code: 'out_of_range', message: `at most ${max} ${what} per job` });
  };
  over('inputs', valid.inputs.length, limits.maxInputs);
  over('operations', valid.operations.length, limits.maxOperations);
  over('outputs', valid.outputs.length, limits.maxOutputs);
  valid.inputs.forEach((inp, i) => {
    const r = resolveLocation(inp.source, roots, `spec.inputs[${i}].source`);
    if ('issue' in r) issues.push(r.issue);
  });
  valid.outputs.forEach((out, j) => {
    const r = resolveLocation(out.destination, roots, `spec.outputs[${j}].destination`);
    if ('issue' in r) issues.push(r.issue);
  });
  if (issues.length > 0) throw validationError(issues);

  return {
    spec: spec as JobSpec,
    priority,
    callbackUrl: callback_url ?? null,
    idempotencyKey: key,
    requestHash: createHash('sha256')
      .update(canonical({ spec, priority, callback_url: callback_url ?? null }))
      .digest('hex'),
  };
}
