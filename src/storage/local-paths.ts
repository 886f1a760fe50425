/**
 * Locations in a JobSpec → absolute paths under the configured media roots. The lexical part is
 * decided first (schemes, `..`, absolute paths elsewhere, NUL bytes); then, on disk, symlinks are
 * resolved and the real path must still be under a root, so a link cannot lead out.
 */
import { mkdir, realpath, stat } from 'node:fs/promises';
import { dirname, isAbsolute, join, normalize, relative, resolve, sep } from 'node:path';
import { AppError, type Issue } from '../core/index.js';

export interface MediaRoots {
  /** Where bare relative paths resolve. */
  default: string;
  /** Every root a file:// or absolute path may be under (the default included). */
  all: readonly string[];
}

export function mediaRoots(defaultRoot: string, extra: readonly string[] = []): MediaRoots {
  const d = resolve(defaultRoot);
  return { default: d, all: [d, ...extra.map((r) => resolve(r)).filter((r) => r !== d)] };
}

export function isInside(root: string, p: string): boolean {
  const rel = relative(root, p);
  return rel === '' || (!rel.startsWith(`..${sep}`) && rel !== '..' && !isAbsolute(rel));
}

/**
 * `text` with every path under a media root written relative to it, as users name files: what
 * the API shows (errors, plans) tells their names, not our disks' layout.
 */
export function relativeToRoots(text: string, roots: MediaRoots): string {
  let out = text;
  for (const root of roots.all) out = out.split(`${root}/`).join('');
  return out;
}

const SCHEME = /^([a-z][a-z0-9+.-]*):/i;

/** Linux's and macOS's limits, in bytes: a longer name or path fails every call with ENAMETOOLONG. */
const NAME_MAX = 255;
const PATH_MAX = 4096;

/** The absolute path a location names, or the issue that stops it. Pure: no file system access. */
export function resolveLocation(
  location: string,
  roots: MediaRoots,
  path: string,
): { path: string } | { issue: Issue } {
  const bad = (code: Issue['code'], message: string) => ({ issue: { path, code, message } });
  if (location.includes('\u0000')) return bad('invalid_value', 'contains a NUL byte');
  let p: string;
  const scheme = SCHEME.exec(location)?.[1]?.toLowerCase();
  if (scheme === 'file') {
    let url: URL;
    try {
      url = new URL(location);
    } catch {
      return bad('invalid_format', 'not a valid file:// URL');
    }
    if (url.host !== '' && url.host !== 'localhost')
      return bad('unsupported_source', 'file:// URLs must name a local path (file:///...)');
    if (url.search || url.hash) return bad('invalid_format', 'file:// URLs take no query or fragment');
    try {
      p = decodeURIComponent(url.pathname);
    } catch {
      return bad('invalid_format', 'bad %-escape in file:// URL (write a literal % as %25)');
    }
    if (p.includes('\u0000')) return bad('invalid_value', 'contains a NUL byte');
  } else if (scheme && scheme.length > 1) {
    // One-letter "schemes" are Windows drive letters, which are simply not our paths.
    return bad(
      'unsupported_source',
      `${scheme}:// locations are not supported here (use a path under the media root or file:///...)`,
    );
  } else {
    p = isAbsolute(location) ? location : join(roots.default, location);
  }
  const abs = normalize(resolve(p));
  if (!roots.all.some((r) => isInside(r, abs))) {
    return bad(
      'path_outside_root',
      `resolves outside the media root${roots.all.length > 1 ? 's' : ''} (${roots.all.join(', ')})`,
    );
  }
  if (roots.all.includes(abs)) return bad('invalid_value', 'names the media root itself, not a file');
  // Said here, at its path, rather than later as an unreadable input or a failed write.
  if (Buffer.byteLength(abs) >= PATH_MAX)
    return bad('out_of_range', `the full path is longer than ${PATH_MAX - 1} bytes`);
  if (abs.split(sep).some((name) => Buffer.byteLength(name) > NAME_MAX))
    return bad('out_of_range', `a file or folder name is longer than ${NAME_MAX} bytes`);
  return { path: abs };
}

async function realRoots(roots: MediaRoots): Promise<string[]> {
  return Promise.all(roots.all.map((r) => realpath(r).catch(() => r)));
}

/** An input: follows symlinks; the file must exist and really be under a root. */
export async function confirmSource(absPath: string, roots: MediaRoots): Promise<string> {
  let real: string;
  try {
    real = await realpath(absPath);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR')
      throw new AppError('input_not_found', `input file not found: ${absPath}`);
    throw new AppError('input_unreadable', `cannot read input ${absPath}: ${code ?? 'error'}`);
  }
  if (!(await realRoots(roots)).some((r) => isInside(r, real))) {
    throw new AppError('path_outside_root', `input ${absPath} is a link that leads outside the media root`);
  }
  return real;
}

/** The real path of `dir`, or of its nearest ancestor that exists. */
async function realExistingAncestor(dir: string): Promise<string> {
  for (let d = dir; ; d = dirname(d)) {
    try {
      return await realpath(d);
    } catch {
      if (dirname(d) === d) return d;
    }
  }
}

/** An output: its directory is created if missing, and must really be under a root. */
export async function prepareDestination(absPath: string, roots: MediaRoots): Promise<string> {
  const dir = dirname(absPath);
  // Checked before mkdir too: under a linked folder that leads out, mkdir -p would make the
  // missing folders outside the roots before the check below could refuse them.
  const existing = await realExistingAncestor(dir);
  if (!(await realRoots(roots)).some((r) => isInside(r, existing))) {
    throw new AppError(
      'path_outside_root',
      `output directory ${dir} is a link that leads outside the media root`,
    );
  }
  try {
    await mkdir(dir, { recursive: true });
  } catch (e) {
    throw new AppError(
      'output_write_failed',
      `cannot create the output directory ${dir}: ${(e as NodeJS.ErrnoException).code ?? 'error'}`,
    );
  }
  const realDir = await realpath(dir);
  if (!(await realRoots(roots)).some((r) => isInside(r, realDir))) {
    throw new AppError(
      'path_outside_root',
      `output directory ${dir} is a link that leads outside the media root`,
    );
  }
  return join(realDir, absPath.slice(dir.length + 1));
}

/**
 * Which file `path` is (device and inode, links followed), or null when nothing is there: two
 * paths with the same identity are one file, whatever links or hard links lead to it.
 */
export async function fileIdentity(path: string): Promise<string | null> {
  try {
    const st = await stat(path, { bigint: true });
    return `${st.dev}:${st.ino}`;
  } catch {
    return null;
  }
}
