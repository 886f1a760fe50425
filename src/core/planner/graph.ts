/**
 * The job graph: inputs and operation results are nodes, an operation's inputs are its edges.
 * Structural checks (duplicate ids, unknown references, cycles, unused nodes) and Kahn's
 * topological order with stages (groups that could run in parallel).
 */
import type { Issue } from '../errors.js';
import type { JobSpec } from '../spec/job-spec.schema.js';

export interface GraphNode {
  id: string;
  kind: 'input' | 'operation';
  /** Index into spec.inputs or spec.operations. */
  index: number;
  /** Ids this node reads (empty for inputs). */
  deps: string[];
  /** JSON path of the node's definition, for issues. */
  path: string;
}

export interface Graph {
  nodes: Map<string, GraphNode>;
  /** Topological order (inputs first). */
  order: string[];
  /** stage[k] = nodes whose longest path from an input has k edges. */
  stages: string[][];
}

export function operationInputs(op: { input?: string | undefined; inputs?: string[] | undefined }): string[] {
  return op.inputs ?? (op.input === undefined ? [] : [op.input]);
}

function inputsPath(i: number, op: { inputs?: string[] | undefined }, k: number): string {
  return op.inputs ? `operations[${i}].inputs[${k}]` : `operations[${i}].input`;
}

/** Builds and checks the graph; returns issues instead when it is not a DAG of known nodes. */
export function buildGraph(spec: JobSpec): { graph: Graph; issues: [] } | { graph: null; issues: Issue[] } {
  const issues: Issue[] = [];
  const nodes = new Map<string, GraphNode>();

  const declare = (n: GraphNode) => {
    const prior = nodes.get(n.id);
    if (prior) {
      issues.push({
        path: n.path,
        code: 'duplicate_id',
        message: `id "${n.id}" is already used at ${prior.path}`,
      });
      return;
    }
    nodes.set(n.id, n);
  };
  for (const [i, inp] of spec.inputs.entries()) {
    declare({ id: inp.id, kind: 'input', index: i, deps: [], path: `inputs[${i}].id` });
  }
  for (const [i, op] of spec.operations.entries()) {
    declare({
      id: op.output,
      kind: 'operation',
      index: i,
      deps: operationInputs(op),
      path: `operations[${i}].output`,
    });
  }

  spec.operations.forEach((op, i) => {
    operationInputs(op).forEach((ref, k) => {
      if (!nodes.has(ref))
        issues.push({
          path: inputsPath(i, op, k),
          code: 'unknown_reference',
          message: `no input or operation output named "${ref}"`,
        });
    });
  });
  spec.outputs.forEach((out, j) => {
    if (!nodes.has(out.id)) {
      issues.push({
        path: `outputs[${j}].id`,
        code: 'unknown_reference',
        message: `no input or operation output named "${out.id}"`,
      });
    }
  });
  const destinations = new Map<string, number>();
  spec.outputs.forEach((out, j) => {
    const prior = destinations.get(out.destination);
    if (prior !== undefined) {
      issues.push({
        path: `outputs[${j}].destination`,
        code: 'duplicate_id',
        message: `outputs[${prior}] writes the same destination`,
      });
    }
    destinations.set(out.destination, j);
  });
  if (issues.length > 0) return { graph: null, issues };

  const sorted = kahn(nodes);
  if (sorted.remaining.length > 0) {
    const cycle = findCycle(nodes, new Set(sorted.remaining));
    const first = nodes.get(cycle[0]!)!;
    return {
      graph: null,
      issues: [
        {
          path: first.path.replace(/\.output$/, ''),
          code: 'cycle',
          message: `operations form a cycle: ${cycle.join(' → ')}`,
        },
      ],
    };
  }

  const used = new Set<string>(spec.outputs.map((o) => o.id));
  for (const n of nodes.values()) for (const d of n.deps) used.add(d);
  for (const n of nodes.values()) {
    if (!used.has(n.id)) {
      issues.push({
        path: n.path,
        code: 'unused_node',
        message: `"${n.id}" is not used by any operation or output`,
      });
    }
  }
  if (issues.length > 0) return { graph: null, issues };

  return { graph: { nodes, order: sorted.order, stages: stagesOf(nodes, sorted.order) }, issues: [] };
}

/** Kahn's algorithm; `remaining` is non-empty when there is a cycle. Stable: ties keep declaration order. */
export function kahn(nodes: ReadonlyMap<string, GraphNode>): { order: string[]; remaining: string[] } {
  const indegree = new Map<string, number>();
  const consumers = new Map<string, string[]>();
  for (const n of nodes.values()) {
    indegree.set(n.id, new Set(n.deps).size);
    for (const d of new Set(n.deps)) consumers.set(d, [...(consumers.get(d) ?? []), n.id]);
  }
  const queue = [...nodes.values()].filter((n) => indegree.get(n.id) === 0).map((n) => n.id);
  const order: string[] = [];
  while (queue.length > 0) {
    const id = queue.shift()!;
    order.push(id);
    for (const c of consumers.get(id) ?? []) {
      const left = indegree.get(c)! - 1;
      indegree.set(c, left);
      if (left === 0) queue.push(c);
    }
  }
  return { order, remaining: [...nodes.keys()].filter((id) => !order.includes(id)) };
}

/** A cycle among `within`, as ids with the first repeated at the end: a → b → a. */
function findCycle(nodes: ReadonlyMap<string, GraphNode>, within: ReadonlySet<string>): string[] {
  const state = new Map<string, 'open' | 'done'>();
  const stack: string[] = [];
  const visit = (id: string): string[] | null => {
    state.set(id, 'open');
    stack.push(id);
    for (const d of nodes.get(id)?.deps ?? []) {
      if (!within.has(d)) continue;
      if (state.get(d) === 'open') return [...stack.slice(stack.indexOf(d)), d].reverse();
      if (!state.has(d)) {
        const found = visit(d);
        if (found) return found;
      }
    }
    stack.pop();
    state.set(id, 'done');
    return null;
  };
  for (const id of within) {
    if (!state.has(id)) {
      const found = visit(id);
      if (found) return found;
    }
  }
  return [...within];
}

function stagesOf(nodes: ReadonlyMap<string, GraphNode>, order: readonly string[]): string[][] {
  const level = new Map<string, number>();
  for (const id of order) {
    const deps = nodes.get(id)!.deps;
    level.set(id, deps.length === 0 ? 0 : Math.max(...deps.map((d) => level.get(d)!)) + 1);
  }
  const stages: string[][] = [];
  for (const id of order) {
    const k = level.get(id)!;
    if (!stages[k]) stages[k] = [];
    stages[k].push(id);
  }
  return stages;
}
