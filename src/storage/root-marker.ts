/**
 * Proof that a worker reaches the orchestrator's storage, not a folder that merely has the same
 * name on its own disk (a NAS that did not mount, a mapping to the wrong place): the orchestrator
 * keeps a random id in a marker file at the top of each media root, and a worker counts a root as
 * shared only when it reads that same id there.
 */
import { randomUUID } from 'node:crypto';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

export const ROOT_MARKER = '.mediaforge-root';

const ID = /^[0-9a-f-]{36}$/;

/** The id in `root`'s marker, or null when there is none (or not one of ours). */
export async function readRootMarker(root: string): Promise<string | null> {
  const text = await readFile(join(root, ROOT_MARKER), 'utf8').catch(() => null);
  const id = text?.trim() ?? null;
  return id !== null && ID.test(id) ? id : null;
}

/** The id of `root`, made on first use; null when the root cannot take a file (read-only). */
export async function ensureRootMarker(root: string): Promise<string | null> {
  const existing = await readRootMarker(root);
  if (existing) return existing;
  try {
    await writeFile(join(root, ROOT_MARKER), `${randomUUID()}\n`, { flag: 'wx', mode: 0o644 });
  } catch {
    // Another replica made it first (read below), or the root is read-only (null below).
  }
  return readRootMarker(root);
}
