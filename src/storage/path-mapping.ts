/**
 * Path mappings of a worker: the orchestrator's prefix → this machine's prefix (`/mnt/nas` →
 * `/Volumes/nas`), applied to every source and destination of a task on the way in, and undone
 * on the paths a report carries back. Pure. Prefixes match whole path components only (`/mnt/nas`
 * maps `/mnt/nas/a`, not `/mnt/nasty`), and the longest prefix wins.
 */
import { posix } from 'node:path';
import { AppError } from '../core/index.js';

export interface PathMapping {
  from: string;
  to: string;
}

const clean = (p: string) => {
  const n = posix.normalize(p);
  return n.length > 1 && n.endsWith('/') ? n.slice(0, -1) : n;
};

/** Parses `FROM=TO` entries; both sides absolute. */
export function parsePathMappings(entries: readonly string[]): PathMapping[] {
  return entries.map((e) => {
    const at = e.indexOf('=');
    const from = at > 0 ? e.slice(0, at).trim() : '';
    const to = at > 0 ? e.slice(at + 1).trim() : '';
    if (!from.startsWith('/') || !to.startsWith('/'))
      throw new AppError(
        'config_invalid',
        `path mapping "${e}" must be FROM=TO with two absolute paths, e.g. /mnt/nas=/Volumes/nas`,
      );
    return { from: clean(from), to: clean(to) };
  });
}

function rewrite(raw: string, pairs: ReadonlyArray<readonly [string, string]>): string {
  // Normalised first: `/mnt/nas/../etc` is not inside `/mnt/nas`.
  const path = clean(raw);
  let best: readonly [string, string] | undefined;
  for (const pair of pairs) {
    const [prefix] = pair;
    const inside = path === prefix || path.startsWith(prefix === '/' ? '/' : `${prefix}/`);
    if (inside && (!best || prefix.length > best[0].length)) best = pair;
  }
  if (!best) return path;
  const rest = path.slice(best[0] === '/' ? 0 : best[0].length);
  return clean(posix.join(best[1], rest));
}

/** The orchestrator's path as this worker sees it. */
export const toLocalPath = (path: string, maps: readonly PathMapping[]): string =>
  rewrite(
    path,
    maps.map((m) => [m.from, m.to] as const),
  );

/** This worker's path as the orchestrator names it. */
export const toOrchestratorPath = (path: string, maps: readonly PathMapping[]): string =>
  rewrite(
    path,
    maps.map((m) => [m.to, m.from] as const),
  );
