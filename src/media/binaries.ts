/**
 * Which ffmpeg and ffprobe to run: an explicit path (config, or MEDIAFORGE_FFMPEG /
 * MEDIAFORGE_FFPROBE), else the first on PATH, else the static build of the optional
 * `@ffmpeg-installer/ffmpeg` / `@ffprobe-installer/ffprobe` packages (an old 4.1: a first-run
 * fallback, with a warning). An explicit path that does not work is an error, never a silent
 * fall-back to another binary.
 */
import { AppError } from '../core/errors.js';
import { cachedFact } from './binary-cache.js';
import { findExecutable, runProcess, stderrSummary } from './process.js';

export type BinaryName = 'ffmpeg' | 'ffprobe';
export type BinarySource = 'env' | 'path' | 'bundled';

export interface BinaryVersion {
  /** null for git builds (`N-112233-gabcdef`) and other unnumbered ones: assume recent. */
  major: number | null;
  minor: number | null;
  /** The version word as printed: `5.1.9-0+deb12u1`, `N-113684-g5fd1c6f`. */
  text: string;
}

export interface Binary {
  path: string;
  source: BinarySource;
  version: BinaryVersion;
}

export interface Binaries {
  ffmpeg: Binary;
  ffprobe: Binary;
  /** Things an operator should hear about (a bundled old build), for the log and `doctor`. */
  warnings: string[];
}

export interface ResolveOptions {
  /** Explicit paths from the config file; they win over the environment. */
  ffmpeg?: string;
  ffprobe?: string;
  /** The environment to read MEDIAFORGE_FFMPEG, MEDIAFORGE_FFPROBE and PATH from. */
  env?: Readonly<Record<string, string | undefined>>;
  /** How to load the optional installer packages; tests pass a fake. */
  importModule?: (specifier: string) => Promise<unknown>;
  /** For each `-version` run; default 10 s. */
  timeoutMs?: number;
}

const ENV_KEYS: Record<BinaryName, string> = { ffmpeg: 'MEDIAFORGE_FFMPEG', ffprobe: 'MEDIAFORGE_FFPROBE' };
const PACKAGES: Record<BinaryName, string> = {
  ffmpeg: '@ffmpeg-installer/ffmpeg',
  ffprobe: '@ffprobe-installer/ffprobe',
};
const INSTALL_HINT =
  'Install FFmpeg (Debian/Ubuntu: apt-get install ffmpeg; macOS: brew install ffmpeg; Windows: winget install ffmpeg), ' +
  'or point MEDIAFORGE_FFMPEG and MEDIAFORGE_FFPROBE at the binaries.';

/** `ffmpeg version 5.1.9-0+deb12u1 Copyright ...` → 5.1; `n6.1.1` → 6.1; `N-12345-g...` → unknown. */
export function parseVersion(output: string, name: BinaryName): BinaryVersion | null {
  const first = output.split(/\r?\n/, 1)[0] ?? '';
  const m = new RegExp(`^${name} version (\\S+)`).exec(first);
  if (!m?.[1]) return null;
  const text = m[1];
  const numbered = /^n?(\d+)\.(\d+)/.exec(text);
  return numbered
    ? { major: Number(numbered[1]), minor: Number(numbered[2]), text }
    : { major: null, minor: null, text };
}

async function versionOf(name: BinaryName, path: string, timeoutMs: number): Promise<BinaryVersion | string> {
  // Only a good answer is remembered; a failure is asked again next time.
  const cached = await cachedFact(`version-${name}`, path, async () => {
    const v = await runVersion(name, path, timeoutMs);
    if (typeof v === 'string') throw new VersionFailure(v);
    return v;
  }).catch((e: unknown) => (e instanceof VersionFailure ? e.message : Promise.reject(e)));
  return cached;
}

class VersionFailure extends Error {}

async function runVersion(
  name: BinaryName,
  path: string,
  timeoutMs: number,
): Promise<BinaryVersion | string> {
  try {
    const r = await runProcess(path, ['-hide_banner', '-version'], { timeoutMs });
    if (r.timedOut) return `\`${path} -version\` did not answer within ${timeoutMs} ms`;
    const version = r.code === 0 ? parseVersion(r.stdout, name) : null;
    if (version) return version;
    const said = stderrSummary(r.stderr || r.stdout, 2) || `exit code ${r.code}`;
    return `\`${path} -version\` does not look like ${name}: ${said}`;
  } catch (e) {
    return `cannot run ${path}: ${e instanceof Error ? e.message : String(e)}`;
  }
}

async function bundledPath(name: BinaryName, load: (s: string) => Promise<unknown>): Promise<string | null> {
  try {
    const mod = (await load(PACKAGES[name])) as { default?: { path?: unknown }; path?: unknown };
    const path = mod.default?.path ?? mod.path;
    return typeof path === 'string' ? path : null;
  } catch {
    return null; // An optional dependency: not installed, or no build for this platform.
  }
}

export async function resolveBinary(
  name: BinaryName,
  options: ResolveOptions = {},
): Promise<{ binary: Binary; warnings: string[] }> {
  const env = options.env ?? {};
  const timeoutMs = options.timeoutMs ?? 10_000;
  const explicit = options[name] ?? env[ENV_KEYS[name]];
  const origin = options[name] ? `the configured ${name} path` : ENV_KEYS[name];

  if (explicit) {
    const path = findExecutable(explicit, env.PATH, env.PATHEXT);
    if (!path) {
      throw new AppError(
        'ffmpeg_not_found',
        `${origin} (${explicit}) is not an executable file. ${INSTALL_HINT}`,
      );
    }
    const version = await versionOf(name, path, timeoutMs);
    if (typeof version === 'string') throw new AppError('ffmpeg_not_found', `${origin}: ${version}`);
    return { binary: { path, source: 'env', version }, warnings: [] };
  }

  const tried: string[] = [`${ENV_KEYS[name]} (not set)`];
  const onPath = findExecutable(name, env.PATH, env.PATHEXT);
  if (onPath) {
    const version = await versionOf(name, onPath, timeoutMs);
    if (typeof version !== 'string')
      return { binary: { path: onPath, source: 'path', version }, warnings: [] };
    tried.push(`PATH: ${version}`);
  } else {
    tried.push('PATH (no such executable)');
  }

  const load = options.importModule ?? ((s: string) => import(s));
  const bundled = await bundledPath(name, load);
  if (bundled && findExecutable(bundled, undefined)) {
    const version = await versionOf(name, bundled, timeoutMs);
    if (typeof version !== 'string') {
      const warning =
        `Using the ${name} bundled by ${PACKAGES[name]} (${version.text}), an old static build: ` +
        `some jobs need a newer FFmpeg. ${INSTALL_HINT}`;
      return { binary: { path: bundled, source: 'bundled', version }, warnings: [warning] };
    }
    tried.push(`${PACKAGES[name]}: ${version}`);
  } else {
    tried.push(`${PACKAGES[name]} (not installed)`);
  }
  throw new AppError('ffmpeg_not_found', `${name} not found; looked at ${tried.join(', ')}. ${INSTALL_HINT}`);
}

export async function resolveBinaries(options: ResolveOptions = {}): Promise<Binaries> {
  const [ffmpeg, ffprobe] = await Promise.all([
    resolveBinary('ffmpeg', options),
    resolveBinary('ffprobe', options),
  ]);
  return {
    ffmpeg: ffmpeg.binary,
    ffprobe: ffprobe.binary,
    warnings: [...ffmpeg.warnings, ...ffprobe.warnings],
  };
}

/**
 * The version to hold a binary to: its own number, or 4.1 for the bundled static build (it
 * prints a git id, not a number); null (assumed recent) for other unnumbered builds.
 */
export function effectiveVersion(binary: Binary): { major: number; minor: number } | null {
  if (binary.version.major !== null) return { major: binary.version.major, minor: binary.version.minor ?? 0 };
  return binary.source === 'bundled' ? { major: 4, minor: 1 } : null;
}
