/**
 * A task's operator applications → one filtergraph. Works out which streams each node must
 * carry (backwards from the outputs), splits a stream consumed more than once, hands each
 * operator its input pads, and sinks any pad nobody reads, so FFmpeg never sees an unconnected
 * pad. Outputs that write an input unchanged map the input stream directly (needed for copy).
 */
import { getOperator } from '../operators/registry.js';
import type { StreamMeta } from '../spec/media-info.js';
import type { TaskSpec } from '../spec/task-spec.schema.js';
import { type FilterNode, labeller } from './filtergraph.js';

type Kind = 'video' | 'audio';
const KINDS: readonly Kind[] = ['video', 'audio'];

/**
 * Input `i`'s stream of a kind, as FFmpeg selects it. `V` (not `v`) skips attached pictures: the
 * planner's meta describes the first video that is not cover art, and an MP4 may list the cover first.
 */
const inputStream = (i: number, k: Kind) => `${i}:${k === 'video' ? 'V' : 'a'}:0`;

export interface RenderedTask {
  nodes: FilterNode[];
  /** Per task output (same order): the `-map` argument for its video and audio, when written. */
  maps: Array<{ video?: string; audio?: string }>;
  /** For a measure task: the pad carrying the measured node's audio. */
  measureMap?: string;
}

export function renderTask(
  task: TaskSpec,
  analysis: Readonly<Record<string, Readonly<Record<string, unknown>>>> = {},
): RenderedTask {
  const label = labeller();
  const nodes: FilterNode[] = [];
  const metaOf = new Map<string, StreamMeta>();
  const inputIndex = new Map<string, number>();
  task.inputs.forEach((inp, i) => {
    metaOf.set(inp.id, inp.meta);
    inputIndex.set(inp.id, i);
  });
  for (const n of task.nodes) metaOf.set(n.id, n.meta);

  // 1. Which kinds each node must carry, from the outputs backwards.
  const needs = new Map<string, Set<Kind>>();
  const need = (id: string, k: Kind) => {
    if (metaOf.get(id)?.[k]) (needs.get(id) ?? needs.set(id, new Set()).get(id)!).add(k);
  };
  for (const o of task.outputs) {
    if (o.video || o.image) need(o.node, 'video');
    if (o.audio) need(o.node, 'audio');
  }
  if (task.measure) need(task.measure, 'audio');
  for (const n of [...task.nodes].reverse())
    for (const k of needs.get(n.id) ?? []) for (const r of n.inputs) need(r, k);

  // 2. How many readers each (node, kind) has, so streams read twice are split.
  const readers = new Map<string, number>();
  const key = (id: string, k: Kind) => `${id}\u0000${k}`;
  const addReader = (id: string, k: Kind) => readers.set(key(id, k), (readers.get(key(id, k)) ?? 0) + 1);
  for (const n of task.nodes)
    for (const k of needs.get(n.id) ?? [])
      for (const r of n.inputs) if (needs.get(r)?.has(k)) addReader(r, k);
  for (const o of task.outputs) {
    if (inputIndex.has(o.node)) continue; // mapped directly
    if ((o.video || o.image) && needs.get(o.node)?.has('video')) addReader(o.node, 'video');
    if (o.audio && needs.get(o.node)?.has('audio')) addReader(o.node, 'audio');
  }
  if (task.measure) addReader(task.measure, 'audio');

  const supply = new Map<string, string[]>();
  const offer = (id: string, k: Kind, pad: string) => {
    const n = readers.get(key(id, k)) ?? 0;
    if (n === 0) {
      nodes.push({ name: k === 'video' ? 'nullsink' : 'anullsink', in: [pad], out: [] });
      return;
    }
    if (n === 1) {
      supply.set(key(id, k), [pad]);
      return;
    }
    const outs = Array.from({ length: n }, () => label(`${id}_${k[0]}`));
    nodes.push({ name: k === 'video' ? 'split' : 'asplit', args: [n], in: [pad], out: outs });
    supply.set(key(id, k), [...outs]);
  };
  const take = (id: string, k: Kind): string => {
    const pad = supply.get(key(id, k))?.shift();
    if (!pad) throw new Error(`internal: no ${k} pad left for "${id}"`);
    return pad;
  };

  task.inputs.forEach((inp, i) => {
    for (const k of KINDS)
      if (needs.get(inp.id)?.has(k) && (readers.get(key(inp.id, k)) ?? 0) > 0)
        offer(inp.id, k, inputStream(i, k));
  });

  // 3. Each operator, in order.
  for (const n of task.nodes) {
    const operator = getOperator(n.op);
    if (!operator) throw new Error(`unknown operator "${n.op}"`);
    const want = needs.get(n.id) ?? new Set<Kind>();
    const given: Array<{ pad: string; kind: Kind }> = [];
    const inputs = n.inputs.map((r) => {
      const pads: { video?: string; audio?: string; meta: StreamMeta } = { meta: metaOf.get(r)! };
      for (const k of KINDS) {
        if (want.has(k) && needs.get(r)?.has(k)) {
          pads[k] = take(r, k);
          given.push({ pad: pads[k]!, kind: k });
        }
      }
      return pads;
    });
    const result = operator.filter(operator.params.parse(n.params), {
      inputs,
      meta: n.meta,
      label,
      ...(analysis[n.id] ? { analysis: analysis[n.id] } : {}),
      ...(task.measure === n.id ? { measure: true } : {}),
    });
    nodes.push(...result.nodes);
    const consumed = new Set(result.nodes.flatMap((f) => f.in));
    for (const g of given) {
      if (!consumed.has(g.pad) && result.video !== g.pad && result.audio !== g.pad) {
        nodes.push({ name: g.kind === 'video' ? 'nullsink' : 'anullsink', in: [g.pad], out: [] });
      }
    }
    for (const k of KINDS) {
      const pad = result[k];
      if (pad === undefined) continue;
      if (want.has(k)) offer(n.id, k, pad);
      else nodes.push({ name: k === 'video' ? 'nullsink' : 'anullsink', in: [pad], out: [] });
    }
  }

  // 4. What each output maps. A stream that no filter touched is still an input stream
  // (`0:a:0`), mapped as such; a filter's output is a label (`[x_3]`).
  const asMap = (pad: string) => (pad.includes(':') ? pad : `[${pad}]`);
  const maps = task.outputs.map((o) => {
    const i = inputIndex.get(o.node);
    const m: { video?: string; audio?: string } = {};
    if ((o.video || o.image) && metaOf.get(o.node)?.video)
      m.video = i !== undefined ? inputStream(i, 'video') : asMap(take(o.node, 'video'));
    if (o.audio && metaOf.get(o.node)?.audio)
      m.audio = i !== undefined ? inputStream(i, 'audio') : asMap(take(o.node, 'audio'));
    return m;
  });
  const measureMap = task.measure ? asMap(take(task.measure, 'audio')) : undefined;
  return { nodes, maps, ...(measureMap ? { measureMap } : {}) };
}
