/**
 * Config is parsed once at the edge: defaults, then a YAML file, then MEDIAFORGE_* environment
 * variables, then explicit command-line flags; strict (an unknown key is an error naming it),
 * then frozen and passed down.
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import type { z } from 'zod';
import { AppError, formatPath } from '../core/index.js';
import { RESERVED_ENV, ROLES, type Role } from './schema.js';

export interface LoadOptions {
  env?: Readonly<Record<string, string | undefined>>;
  file?: string;
  /** Flags the user gave on the command line (already named as settings). */
  overrides?: Readonly<Record<string, unknown>>;
}

const envName = (key: string) => `MEDIAFORGE_${key.toUpperCase()}`;

function allKeys(): Set<string> {
  return new Set(Object.values(ROLES).flatMap((schema) => Object.keys(schema.shape)));
}

function readFile(file: string): Record<string, unknown> {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    throw new AppError(
      'config_invalid',
      `cannot read config file ${file}: ${(e as NodeJS.ErrnoException).code ?? 'error'}`,
    );
  }
  let doc: unknown;
  try {
    // Loaded only when there is a file: most runs have none, and start-up time is job time.
    const { parse } = createRequire(import.meta.url)('yaml') as typeof import('yaml');
    doc = parse(text);
  } catch (e) {
    throw new AppError(
      'config_invalid',
      `config file ${file} is not valid YAML: ${(e as Error).message.split('\n')[0]}`,
    );
  }
  if (doc === null || doc === undefined) return {};
  if (typeof doc !== 'object' || Array.isArray(doc))
    throw new AppError('config_invalid', `config file ${file} must be a mapping of settings`);
  return doc as Record<string, unknown>;
}

export function loadConfig<R extends Role>(
  role: R,
  opts: LoadOptions = {},
): Readonly<z.infer<(typeof ROLES)[R]>> {
  const schema = ROLES[role];
  const known = Object.keys(schema.shape);
  const env = opts.env ?? {};
  const merged: Record<string, unknown> = {};
  const origin: Record<string, string> = {};

  const file = opts.file ?? env.MEDIAFORGE_CONFIG;
  if (file) {
    for (const [k, v] of Object.entries(readFile(file))) {
      merged[k] = v;
      origin[k] = `${file}: ${k}`;
    }
  }
  const everyKey = allKeys();
  for (const [name, value] of Object.entries(env)) {
    if (
      !name.startsWith('MEDIAFORGE_') ||
      value === undefined ||
      (RESERVED_ENV as readonly string[]).includes(name)
    )
      continue;
    const key = name.slice('MEDIAFORGE_'.length).toLowerCase();
    if (!everyKey.has(key))
      throw new AppError(
        'config_invalid',
        `unknown setting ${name} (known: ${[...everyKey].map(envName).join(', ')})`,
      );
    if (!known.includes(key)) continue; // another role's setting
    if (value.trim() === '')
      throw new AppError('config_invalid', `${name} is set but empty: give a value or unset it`);
    merged[key] = value;
    origin[key] = name;
  }
  for (const [k, v] of Object.entries(opts.overrides ?? {})) {
    if (v === undefined) continue;
    merged[k] = v;
    origin[k] = `--${k.replace(/_/g, '-')}`;
  }

  const parsed = schema.safeParse(merged);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((i) => {
      if (i.code === 'unrecognized_keys')
        return `unknown setting ${i.keys.map((k) => origin[k] ?? k).join(', ')} (known: ${known.join(', ')})`;
      const key = formatPath(i.path);
      return `${origin[String(i.path[0])] ?? key}: ${i.message}`;
    });
    throw new AppError('config_invalid', `invalid configuration: ${problems.join('; ')}`);
  }
  return Object.freeze(parsed.data) as Readonly<z.infer<(typeof ROLES)[R]>>;
}
