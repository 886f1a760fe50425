/**
 * Facts about a binary that only change when the binary does (its version, its encoder list),
 * kept on disk keyed by the file's identity (real path, size, mtime, inode), so a short job does
 * not pay two extra FFmpeg start-ups to learn them again. Any trouble with the cache means
 * "compute it": the cache can make a run faster, never wrong.
 */
import { createHash } from 'node:crypto';
import { mkdir, readFile, realpath, rename, stat, writeFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { join } from 'node:path';

export function cacheDir(env: Readonly<Record<string, string | undefined>> = process.env): string {
  return join(env.XDG_CACHE_HOME || join(homedir(), '.cache'), 'mediaforge', 'binaries');
}

/** A binary file's identity (real path, size, mtime, inode), hashed: it changes when the file does. */
export async function binaryIdentity(binary: string): Promise<string | null> {
  try {
    const real = await realpath(binary);
    const s = await stat(real);
    return createHash('sha256')
      .update(`${real}\0${s.size}\0${s.mtimeMs}\0${s.ino}`)
      .digest('hex')
      .slice(0, 32);
  } catch {
    return null;
  }
}

/** `compute()` once per binary file and fact; later calls read the answer from disk. */
export async function cachedFact<T>(
  fact: string,
  binary: string,
  compute: () => Promise<T>,
  dir = cacheDir(),
): Promise<T> {
  const id = await binaryIdentity(binary);
  if (!id) return compute();
  const file = join(dir, `${fact}-${id}.json`);
  try {
    return JSON.parse(await readFile(file, 'utf8')) as T;
  } catch {
    // not cached yet, or unreadable: compute below
  }
  const value = await compute();
  try {
    await mkdir(dir, { recursive: true });
    const tmp = `${file}.${process.pid}.tmp`;
    await writeFile(tmp, JSON.stringify(value));
    await rename(tmp, file);
  } catch {
    // a read-only home is fine: we just compute again next time
  }
  return value;
}
