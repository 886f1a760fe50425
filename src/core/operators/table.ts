/**
 * The README's operator table, generated from the registry: each operator's summary, inputs and
 * parameters (type, default, range), read from the same zod schemas that validate requests.
 */
import { z } from 'zod';
import { OPERATORS } from './registry.js';

type JsonSchema = {
  type?: string | string[];
  enum?: unknown[];
  const?: unknown;
  default?: unknown;
  minimum?: number;
  maximum?: number;
  exclusiveMinimum?: number;
  exclusiveMaximum?: number;
  description?: string;
  anyOf?: JsonSchema[];
  oneOf?: JsonSchema[];
  items?: JsonSchema;
  properties?: Record<string, JsonSchema>;
  allOf?: JsonSchema[];
};

function typeOf(s: JsonSchema): string {
  if (s.enum) return s.enum.map((v) => `\`${String(v)}\``).join(' \\| ');
  if (s.const !== undefined) return `\`${String(s.const)}\``;
  const alts = s.anyOf ?? s.oneOf;
  if (alts) return alts.map(typeOf).join(' \\| ');
  if (s.type === 'array') return `${s.items ? typeOf(s.items) : 'any'}[]`;
  if (Array.isArray(s.type)) return s.type.join(' \\| ');
  return s.type ?? 'any';
}

function range(s: JsonSchema): string {
  const lo = s.minimum ?? s.exclusiveMinimum;
  const hi = s.maximum ?? s.exclusiveMaximum;
  if (lo === undefined && hi === undefined) return '';
  return ` ${lo ?? '…'}–${hi ?? '…'}`;
}

function describeParam(name: string, s: JsonSchema, required: boolean): string {
  const parts = [
    `\`${name}\`${required ? '' : '?'}: ${s.description ? s.description.replace(/\|/g, '\\|') : typeOf(s)}${range(s)}`,
  ];
  if (s.default !== undefined) parts.push(`default \`${JSON.stringify(s.default)}\``);
  return parts.join(', ');
}

export function operatorTable(): string {
  const rows = [
    '| operator | what it does | inputs | params | chunk-safe |',
    '| --- | --- | --- | --- | --- |',
  ];
  for (const op of OPERATORS.values()) {
    const schema = z.toJSONSchema(op.params, { io: 'input', unrepresentable: 'any' }) as JsonSchema & {
      required?: string[];
    };
    const object = schema.properties ? schema : (schema.allOf?.find((s) => s.properties) ?? schema);
    const required = new Set((object as { required?: string[] }).required ?? []);
    const params = Object.entries(object.properties ?? {}).map(([k, s]) =>
      describeParam(k, s, required.has(k) && s.default === undefined),
    );
    const { kind, min, max } = op.inputs;
    const inputs = `${min === max ? min : `${min}–${max}`} ${kind}`;
    rows.push(
      `| \`${op.name}\` | ${op.summary.replace(/\|/g, '\\|')} | ${inputs} | ${params.join('<br>') || '—'} | ${op.chunkSafe ? 'yes' : 'no'} |`,
    );
  }
  return rows.join('\n');
}
