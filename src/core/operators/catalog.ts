/**
 * The operators as data, for the API (`GET /api/v1/operators`): each one's category, summary,
 * inputs and parameters (type, required, default, range, description, JSON Schema), read from the
 * same zod schemas that validate requests.
 */
import { z } from 'zod';
import type { AnyOperator } from './operator.js';
import { OPERATORS } from './registry.js';

export const OPERATOR_CATEGORIES: Readonly<Record<string, string>> = {
  trim: 'time',
  speed: 'time',
  concat: 'time',
  fps: 'time',
  scale: 'geometry',
  crop: 'geometry',
  pad: 'geometry',
  rotate: 'geometry',
  overlay: 'composition',
  mix: 'composition',
  fade: 'effect',
  deinterlace: 'effect',
  loudnorm: 'audio',
  volume: 'audio',
  extract_audio: 'audio',
  thumbnail: 'image',
  sprite: 'image',
};

export interface ParamInfo {
  name: string;
  type: string;
  required: boolean;
  default?: unknown;
  range?: { min?: number; max?: number };
  description?: string;
  schema: Record<string, unknown>;
}

export interface OperatorInfo {
  name: string;
  category: string;
  description: string;
  inputs: { kind: 'video' | 'audio' | 'any'; min: number; max: number };
  chunk_safe: boolean;
  parameters: ParamInfo[];
  schema: Record<string, unknown>;
}

type JsonSchema = Record<string, unknown> & {
  type?: string | string[];
  properties?: Record<string, JsonSchema>;
  required?: string[];
  allOf?: JsonSchema[];
  anyOf?: JsonSchema[];
  oneOf?: JsonSchema[];
  enum?: unknown[];
  default?: unknown;
  description?: string;
  minimum?: number;
  maximum?: number;
  exclusiveMinimum?: number;
  exclusiveMaximum?: number;
};

function typeName(s: JsonSchema): string {
  if (s.enum) return 'enum';
  const alts = s.anyOf ?? s.oneOf;
  if (alts) return [...new Set(alts.map(typeName))].join(' | ');
  if (Array.isArray(s.type)) return s.type.join(' | ');
  return s.type ?? 'any';
}

export function describeOperator(op: AnyOperator): OperatorInfo {
  const schema = z.toJSONSchema(op.params, { io: 'input', unrepresentable: 'any' }) as JsonSchema;
  const object = schema.properties ? schema : (schema.allOf?.find((s) => s.properties) ?? schema);
  const required = new Set(object.required ?? []);
  const parameters = Object.entries(object.properties ?? {}).map(([name, s]): ParamInfo => {
    const min = s.minimum ?? s.exclusiveMinimum;
    const max = s.maximum ?? s.exclusiveMaximum;
    return {
      name,
      type: typeName(s),
      required: required.has(name) && s.default === undefined,
      ...(s.default === undefined ? {} : { default: s.default }),
      ...(min === undefined && max === undefined
        ? {}
        : { range: { ...(min === undefined ? {} : { min }), ...(max === undefined ? {} : { max }) } }),
      ...(s.description ? { description: s.description } : {}),
      schema: s,
    };
  });
  return {
    name: op.name,
    category: OPERATOR_CATEGORIES[op.name] ?? 'other',
    description: op.summary,
    inputs: { ...op.inputs },
    chunk_safe: op.chunkSafe,
    parameters,
    schema,
  };
}

export function operatorCatalog(): OperatorInfo[] {
  return [...OPERATORS.values()].map(describeOperator);
}
