/**
 * Planning with media: metadata propagation through the graph (each operator's output()),
 * media-dependent checks, output containers and codecs, the resource estimate, and the tasks.
 */
import type { Issue } from '../errors.js';
import type { MediaKind } from '../operators/operator.js';
import { getOperator } from '../operators/registry.js';
import type { StreamMeta } from '../spec/media-info.js';
import type { TaskSpec } from '../spec/task-spec.schema.js';
import { compileTasks } from './compile.js';
import { type ChunkRequest, planChunks } from './compile-chunks.js';
import { type Estimate, estimate } from './estimate.js';
import { operationInputs } from './graph.js';
import { type ResolvedOutput, resolveOutput } from './outputs.js';
import type { ValidSpec } from './validate.js';

export interface PlanNode {
  id: string;
  kind: 'input' | 'operation';
  op?: string;
  meta: StreamMeta;
}

export interface Plan {
  stages: string[][];
  nodes: PlanNode[];
  outputs: Array<ResolvedOutput & { index: number; node: string; path: string }>;
  estimate: Estimate;
  tasks: TaskSpec[];
  /** What the planner chose and why, for people (e.g. why a job that asked for chunking runs whole). */
  notes: string[];
}

export interface Placement {
  /** Absolute path of each input, by input id. */
  inputs: ReadonlyMap<string, string>;
  /** Absolute path of each output, by output index. */
  outputs: readonly string[];
}

export type Planning = { ok: true; plan: Plan } | { ok: false; issues: Issue[] };

function fits(kind: MediaKind, m: StreamMeta): string | null {
  if (kind === 'video' && !m.video) return 'needs video, and this has none';
  if (kind === 'audio' && !m.audio) return 'needs audio, and this has none';
  return null;
}

export function planJob(
  valid: ValidSpec,
  inputMeta: ReadonlyMap<string, StreamMeta>,
  placement: Placement,
  /** Asked (by the spec or the orchestrator) to split the output into chunks. */
  chunking?: ChunkRequest,
): Planning {
  const { spec, graph, params } = valid;
  const issues: Issue[] = [];
  const meta = new Map<string, StreamMeta>();

  for (const id of graph.order) {
    const node = graph.nodes.get(id)!;
    if (node.kind === 'input') {
      const m = inputMeta.get(id);
      if (!m) throw new Error(`no media info for input "${id}"`);
      meta.set(id, m);
      continue;
    }
    const i = node.index;
    const op = spec.operations[i]!;
    const operator = getOperator(op.op)!;
    const ins = operationInputs(op).map((ref) => meta.get(ref));
    if (ins.some((m) => m === undefined)) continue; // an upstream node already failed
    const metas = ins as StreamMeta[];
    let failed = false;
    metas.forEach((m, k) => {
      const problem = fits(operator.inputs.kind, m);
      if (problem) {
        failed = true;
        const ref = operationInputs(op)[k];
        issues.push({
          path: `operations[${i}].${op.inputs ? `inputs[${k}]` : 'input'}`,
          code: 'incompatible_input',
          message: `${op.op} ${problem} ("${ref}")`,
        });
      }
    });
    if (failed) continue;
    const problems = operator.check?.(params[i], metas) ?? [];
    for (const message of problems)
      issues.push({ path: `operations[${i}].params`, code: 'invalid_params', message });
    if (problems.length > 0) continue;
    meta.set(id, operator.output(params[i], metas));
  }

  const outputs: Plan['outputs'] = [];
  spec.outputs.forEach((out, j) => {
    const m = meta.get(out.id);
    if (!m) return;
    const r = resolveOutput(out, j, m, graph.nodes.get(out.id)!.kind === 'input');
    issues.push(...r.issues);
    if (r.value) outputs.push({ ...r.value, index: j, node: out.id, path: placement.outputs[j]! });
  });
  if (issues.length > 0) return { ok: false, issues };

  const nodes: PlanNode[] = graph.order.map((id) => {
    const n = graph.nodes.get(id)!;
    return n.kind === 'input'
      ? { id, kind: 'input', meta: meta.get(id)! }
      : { id, kind: 'operation', op: spec.operations[n.index]!.op, meta: meta.get(id)! };
  });
  const chunked = chunking ? planChunks(valid, meta, outputs, placement, chunking) : null;
  const tasks = chunked?.tasks ?? compileTasks(valid, meta, placement, outputs);
  return {
    ok: true,
    plan: {
      stages: graph.stages,
      nodes,
      outputs,
      estimate: estimate(valid, meta, outputs),
      tasks,
      // A job that did not ask to be chunked is not told why it was not.
      notes: chunked && (chunked.tasks || !chunking?.auto) ? [chunked.note] : [],
    },
  };
}

/**
 * How much of a job's work a task is, for progress: the seconds of media it produces, scaled by
 * what producing them costs. Encoding video is the unit; a chunked output's audio piece is a small
 * share of it and its join (a stream copy) smaller still, though each spans the whole duration.
 */
const KIND_COST: Readonly<Record<TaskSpec['kind'], number>> = {
  transcode: 1,
  measure: 1,
  chunk: 1,
  audio: 0.1,
  join: 0.05,
};

export function taskWeight(kind: string, expectedDuration: number | null): number {
  const cost = KIND_COST[kind as TaskSpec['kind']] ?? 1;
  return Math.max((expectedDuration ?? 1) * cost, 0.001);
}
