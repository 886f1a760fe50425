/** What a folder holds, down to sizes and times: to prove that a failed job changed nothing. */
import { lstatSync, readdirSync, statSync, utimesSync } from 'node:fs';
import { join } from 'node:path';

/**
 * Every entry under `dir` (files, folders, links: links are listed, never followed), relative,
 * with its type, size and mtime. A file left behind, a folder made, a file rewritten or a link
 * replaced all change it. (listFiles() lists files only, and readdir's recursive mode follows
 * symlinked folders, which loops on a link back up the tree.)
 */
export function snapshot(dir: string): string[] {
  const out: string[] = [];
  const walk = (rel: string) => {
    for (const name of readdirSync(join(dir, rel))) {
      const r = rel === '' ? name : `${rel}/${name}`;
      const st = lstatSync(join(dir, r));
      const type = st.isSymbolicLink() ? 'link' : st.isDirectory() ? 'dir' : st.isFile() ? 'file' : 'other';
      out.push(`${r} ${type} ${st.isDirectory() ? '' : st.size} ${st.mtimeMs}`);
      if (type === 'dir') walk(r);
    }
  };
  walk('');
  return out.sort();
}

const LONG_AGO = new Date('2000-01-01T00:00:00Z');

/** Sets atime far before mtime: the next read of the file moves it (relatime or strictatime). */
export function markUnread(file: string): void {
  utimesSync(file, LONG_AGO, statSync(file).mtime);
}

export function atimeMs(file: string): number {
  return statSync(file).atimeMs;
}
