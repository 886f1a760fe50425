/**
 * Plan → tasks, each one FFmpeg invocation. Nodes connected through shared inputs or
 * operations go into one task, so a decode is shared (the renderer splits the streams);
 * unconnected parts become separate tasks that can run in parallel. An operator that needs an
 * analysis pass (two-pass loudnorm) gets a measure task over its upstream subgraph first.
 */
import { getOperator } from '../operators/registry.js';
import type { StreamMeta } from '../spec/media-info.js';
import type { TaskNode, TaskSpec } from '../spec/task-spec.schema.js';
import { vttPath } from './files.js';
import { operationInputs } from './graph.js';
import type { ResolvedOutput } from './outputs.js';
import type { Placement } from './plan.js';
import type { ValidSpec } from './validate.js';

export type PlannedOutput = ResolvedOutput & { index: number; node: string; path: string };

function components(valid: ValidSpec): Map<string, string> {
  const parent = new Map<string, string>();
  const find = (x: string): string => {
    const p = parent.get(x) ?? x;
    if (p === x) return x;
    const root = find(p);
    parent.set(x, root);
    return root;
  };
  const union = (a: string, b: string) => parent.set(find(a), find(b));
  for (const id of valid.graph.order) parent.set(id, parent.get(id) ?? id);
  for (const op of valid.spec.operations) for (const ref of operationInputs(op)) union(op.output, ref);
  const rootOf = new Map<string, string>();
  for (const id of valid.graph.order) rootOf.set(id, find(id));
  return rootOf;
}

/** What a worker must have to run a task: its codecs' encoders, and what the job's placement asks. */
export function needs(valid: ValidSpec, codecs: string[]): TaskSpec['requirements'] {
  const p = valid.spec.placement;
  return { codecs, labels: p?.labels ?? [], hardware: p?.hardware ?? 'any' };
}

/** Every node `id` depends on, itself included, in topological order. */
export function upstream(valid: ValidSpec, id: string): string[] {
  const seen = new Set<string>();
  const walk = (n: string) => {
    if (seen.has(n)) return;
    seen.add(n);
    for (const d of valid.graph.nodes.get(n)!.deps) walk(d);
  };
  walk(id);
  return valid.graph.order.filter((n) => seen.has(n));
}

export function compileTasks(
  valid: ValidSpec,
  meta: ReadonlyMap<string, StreamMeta>,
  placement: Placement,
  outputs: readonly PlannedOutput[],
): TaskSpec[] {
  const { spec, graph } = valid;
  const rootOf = components(valid);
  const roots = [...new Set(graph.order.map((id) => rootOf.get(id)!))];
  const opIndex = new Map(spec.operations.map((op, i) => [op.output, i]));

  const taskNode = (id: string): TaskNode => {
    const i = opIndex.get(id)!;
    const op = spec.operations[i]!;
    return { id, op: op.op, params: op.params, inputs: operationInputs(op), meta: meta.get(id)! };
  };
  const taskInputs = (ids: readonly string[]) =>
    ids
      .filter((id) => graph.nodes.get(id)!.kind === 'input')
      .map((id) => ({ id, path: placement.inputs.get(id)!, meta: meta.get(id)! }));

  const tasks: TaskSpec[] = [];
  roots.forEach((root, k) => {
    const ids = graph.order.filter((id) => rootOf.get(id) === root);
    const opIds = ids.filter((id) => graph.nodes.get(id)!.kind === 'operation');
    const mine = outputs.filter((o) => rootOf.get(o.node) === root);
    const id = `t${k}`;
    const analysisFrom: Record<string, string> = {};
    const deps: string[] = [];
    opIds.forEach((nodeId, m) => {
      const i = opIndex.get(nodeId)!;
      const operator = getOperator(spec.operations[i]!.op)!;
      if (!operator.analysis?.(valid.params[i])) return;
      const measureId = `${id}-m${m}`;
      const sub = upstream(valid, nodeId);
      tasks.push({
        id: measureId,
        kind: 'measure',
        inputs: taskInputs(sub),
        nodes: sub.filter((n) => graph.nodes.get(n)!.kind === 'operation').map(taskNode),
        outputs: [],
        measure: nodeId,
        analysis_from: {},
        deps: [],
        expected_duration: meta.get(nodeId)!.duration,
        requirements: needs(valid, []),
      });
      analysisFrom[nodeId] = measureId;
      deps.push(measureId);
    });
    if (mine.length === 0) return;
    const codecs = new Set<string>();
    for (const o of mine) {
      if (o.video) codecs.add(o.video.codec);
      if (o.audio) codecs.add(o.audio.codec);
      if (o.image) codecs.add(o.format);
    }
    tasks.push({
      id,
      kind: 'transcode',
      inputs: taskInputs(ids),
      nodes: opIds.map(taskNode),
      outputs: mine.map((o) => ({
        index: o.index,
        node: o.node,
        path: o.path,
        format: o.format,
        video: o.video,
        audio: o.audio,
        image: o.image,
        expect: o.expect,
        ...(graph.nodes.get(o.node)!.kind === 'operation' &&
        spec.operations[opIndex.get(o.node)!]!.op === 'sprite'
          ? { sidecar: { kind: 'sprite_vtt' as const, path: vttPath(o.path), node: o.node } }
          : {}),
      })),
      analysis_from: analysisFrom,
      deps,
      // Pictures (thumbnails every N s) have no duration of their own: progress follows the input.
      expected_duration:
        Math.max(0, ...mine.map((o) => o.expect.duration ?? 0)) ||
        Math.max(0, ...taskInputs(ids).map((i) => i.meta.duration ?? 0)) ||
        null,
      requirements: needs(valid, [...codecs].sort()),
    });
  });
  return tasks;
}
