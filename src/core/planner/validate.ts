/**
 * Validation that needs no media: the schema, the graph, operator names, parameters and arity.
 * The API runs it at submission, before anything is probed.
 */
import type { Issue } from '../errors.js';
import { getOperator } from '../operators/registry.js';
import { PARSE_OPTIONS, toIssues } from '../spec/issues.js';
import { JobSpec } from '../spec/job-spec.schema.js';
import { buildGraph, type Graph, operationInputs } from './graph.js';

export interface ValidSpec {
  spec: JobSpec;
  graph: Graph;
  /** Parsed params of each operation, by index (defaults applied, types canonical). */
  params: unknown[];
}

export type Validation = { ok: true; value: ValidSpec } | { ok: false; issues: Issue[] };

export function validateJobSpec(raw: unknown): Validation {
  const parsed = JobSpec.safeParse(raw, PARSE_OPTIONS);
  if (!parsed.success) return { ok: false, issues: toIssues(parsed.error) };
  const spec = parsed.data;
  const issues: Issue[] = [];
  const params: unknown[] = [];

  spec.operations.forEach((op, i) => {
    const operator = getOperator(op.op);
    if (!operator) {
      issues.push({
        path: `operations[${i}].op`,
        code: 'unknown_operator',
        message: `unknown operator "${op.op}"`,
      });
      return;
    }
    const n = operationInputs(op).length;
    const { min, max } = operator.inputs;
    if (n < min || n > max) {
      const want = min === max ? `${min}` : `${min} to ${max}`;
      issues.push({
        path: `operations[${i}].${op.inputs ? 'inputs' : 'input'}`,
        code: 'out_of_range',
        message: `${op.op} takes ${want} input${max > 1 ? 's' : ''}${max > 1 ? ' (use "inputs": [...])' : ''}, got ${n}`,
      });
    }
    const p = operator.params.safeParse(op.params, PARSE_OPTIONS);
    if (p.success) params[i] = p.data;
    else issues.push(...toIssues(p.error, `operations[${i}].params`));
  });

  const g = buildGraph(spec);
  issues.push(...g.issues);
  if (issues.length > 0 || !g.graph) return { ok: false, issues };
  return { ok: true, value: { spec, graph: g.graph, params } };
}
