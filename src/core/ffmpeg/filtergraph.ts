/**
 * Structured filtergraph nodes and the one place where they become FFmpeg's filtergraph text.
 * Operators never write filter strings: they return nodes; escaping happens here, at both levels
 * FFmpeg parses (the option value, then the graph), so a value can never open a new filter,
 * option or pad.
 */

export type FilterArg = string | number | boolean;
/** Named options (an `undefined` value is left out) or positional ones. */
export type FilterArgs = Readonly<Record<string, FilterArg | undefined>> | readonly FilterArg[];

export interface FilterNode {
  name: string;
  args?: FilterArgs;
  /** Input pad labels (without brackets). */
  in: readonly string[];
  /** Output pad labels (without brackets). */
  out: readonly string[];
}

const FILTER_NAME = /^[a-z0-9_]+$/;
const LABEL = /^[A-Za-z0-9_:]+$/;

/** Level 1: a value inside `key=value:key=value`. */
export function escapeValue(v: FilterArg): string {
  if (typeof v === 'boolean') return v ? '1' : '0';
  if (typeof v === 'number') {
    if (!Number.isFinite(v)) throw new Error(`filter argument is not a finite number: ${v}`);
    // Avoid exponent notation, which some filters do not parse.
    return Number.isInteger(v) ? String(v) : v.toFixed(6).replace(/0+$/, '').replace(/\.$/, '');
  }
  return v.replace(/[\\':]/g, (c) => `\\${c}`);
}

/** Level 2: the filter's whole argument string inside the graph. */
export function escapeGraph(s: string): string {
  return s.replace(/[\\'[\],;]/g, (c) => `\\${c}`);
}

function renderArgs(args: FilterArgs | undefined): string {
  if (args === undefined) return '';
  const parts = Array.isArray(args)
    ? (args as readonly FilterArg[]).map(escapeValue)
    : Object.entries(args as Record<string, FilterArg | undefined>).flatMap(([k, v]) => {
        if (!FILTER_NAME.test(k)) throw new Error(`bad filter option name: ${k}`);
        return v === undefined ? [] : [`${k}=${escapeValue(v)}`];
      });
  return parts.length === 0 ? '' : `=${escapeGraph(parts.join(':'))}`;
}

function pads(labels: readonly string[]): string {
  return labels
    .map((l) => {
      // A missing pad (`undefined`) must not pass as the label "undefined".
      if (typeof l !== 'string' || !LABEL.test(l)) throw new Error(`bad pad label: ${l}`);
      return `[${l}]`;
    })
    .join('');
}

export function renderNode(n: FilterNode): string {
  if (!FILTER_NAME.test(n.name)) throw new Error(`bad filter name: ${n.name}`);
  return `${pads(n.in)}${n.name}${renderArgs(n.args)}${pads(n.out)}`;
}

/** The `-filter_complex` argument: one chain per node, `;`-separated. */
export function renderGraph(nodes: readonly FilterNode[]): string {
  return nodes.map(renderNode).join(';');
}

/** Fresh, unique pad labels for one graph. */
export function labeller(): (hint: string) => string {
  let n = 0;
  return (hint) => `${hint.replace(/[^A-Za-z0-9_]/g, '_').slice(0, 24)}_${n++}`;
}

/** A linear chain: `in → f1 → f2 → ... → out`, with generated labels in between. */
export function chain(
  input: string,
  filters: ReadonlyArray<{ name: string; args?: FilterArgs }>,
  label: (hint: string) => string,
): { nodes: FilterNode[]; out: string } {
  let current = input;
  const nodes: FilterNode[] = [];
  for (const f of filters) {
    const out = label(f.name);
    nodes.push({
      name: f.name,
      ...(f.args === undefined ? {} : { args: f.args }),
      in: [current],
      out: [out],
    });
    current = out;
  }
  return { nodes, out: current };
}
