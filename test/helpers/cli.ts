/**
 * The built CLI as a real process: `node bin/mediaforge.js ...`, what users and scripts run.
 * ensureBuilt() rebuilds dist/ once when a source is newer than its output (a lock keeps two test
 * files from building at the same time); runCli() runs a command to its end, startCli() returns
 * the live process for the cancel and crash tests.
 */
import { mkdirSync, readdirSync, rmdirSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type ChildHandle, runProcess, startProcess } from '../../src/media/process.js';

export const REPO = fileURLToPath(new URL('../..', import.meta.url));
export const BIN = join(REPO, 'bin', 'mediaforge.js');

/** Sources whose compiled file is missing or older than them (tsconfig.build.json's selection). */
export function staleOutputs(): string[] {
  const src = join(REPO, 'src');
  const stale: string[] = [];
  const walk = (dir: string) => {
    for (const d of readdirSync(dir, { withFileTypes: true })) {
      const p = join(dir, d.name);
      if (d.isDirectory()) {
        if (d.name !== 'test-support') walk(p);
      } else if (d.name.endsWith('.ts') && !d.name.endsWith('.test.ts')) {
        const out = join(REPO, 'dist', relative(src, p).replace(/\.ts$/, '.js'));
        let built = 0;
        try {
          built = statSync(out).mtimeMs;
        } catch {
          // Never built.
        }
        if (built < statSync(p).mtimeMs) stale.push(relative(REPO, p));
      }
    }
  };
  walk(src);
  return stale;
}

const LOCK = join(tmpdir(), `mediaforge-build-${Buffer.from(REPO).toString('hex').slice(-24)}.lock`);

/** Builds dist/ with `npm run build` when it is older than the sources; one build at a time. */
export async function ensureBuilt(): Promise<void> {
  if (staleOutputs().length === 0) return;
  const end = Date.now() + 300_000;
  for (;;) {
    try {
      mkdirSync(LOCK);
      break;
    } catch {
      // Another test file builds: wait for it, then look again. A lock left by a killed run ages out.
      const held = statSync(LOCK, { throwIfNoEntry: false });
      if (held && Date.now() - held.mtimeMs > 300_000) rmdirSync(LOCK);
      if (Date.now() > end) throw new Error(`waited too long for the build lock ${LOCK}`);
      await new Promise((r) => setTimeout(r, 200));
    }
  }
  try {
    const stale = staleOutputs();
    if (stale.length === 0) return;
    const r = await runProcess('npm', ['run', 'build'], { cwd: REPO, timeoutMs: 300_000 });
    if (r.code !== 0)
      throw new Error(`npm run build failed (${stale.join(', ')} stale):\n${r.stdout}\n${r.stderr}`);
  } finally {
    rmdirSync(LOCK);
  }
}

/**
 * The test process's environment without its MEDIAFORGE_* settings (a developer's shell must not
 * change what a test sees), except the binaries, then `extra`.
 */
export function cliEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const keep = new Set(['MEDIAFORGE_FFMPEG', 'MEDIAFORGE_FFPROBE', 'MEDIAFORGE_NODE_DIR']);
  const env = Object.fromEntries(
    Object.entries(process.env).filter(([k]) => !k.startsWith('MEDIAFORGE_') || keep.has(k)),
  );
  return { ...env, ...extra };
}

export interface CliResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  /** Its end (64 KiB, 100 lines), without the last newline. */
  stderr: string;
}

export interface CliOptions {
  cwd: string;
  env?: Record<string, string>;
  timeoutMs?: number;
}

export async function runCli(args: readonly string[], opts: CliOptions): Promise<CliResult> {
  const r = await runProcess(process.execPath, [BIN, ...args], {
    cwd: opts.cwd,
    env: cliEnv(opts.env),
    timeoutMs: opts.timeoutMs ?? 120_000,
  });
  if (r.timedOut) throw new Error(`mediaforge ${args.join(' ')} did not finish: ${r.stderr}`);
  return { code: r.code, signal: r.signal, stdout: r.stdout, stderr: r.stderr };
}

/** A running CLI; `stdout()`/`stderr()` give what it printed so far. It dies with the test process. */
export async function startCli(
  args: readonly string[],
  opts: Omit<CliOptions, 'timeoutMs'>,
): Promise<{ child: ChildHandle; stdout: () => string; stderr: () => string }> {
  const child = await startProcess(process.execPath, [BIN, ...args], {
    cwd: opts.cwd,
    env: cliEnv(opts.env),
  });
  let out = '';
  let err = '';
  child.stdout.setEncoding('utf8');
  child.stdout.on('data', (c: string) => {
    out += c;
  });
  child.stderr.setEncoding('utf8');
  child.stderr.on('data', (c: string) => {
    err += c;
  });
  return { child, stdout: () => out, stderr: () => err };
}

/** Each stdout line parsed as JSON; fails the caller with the line when one is not. */
export function jsonLines(stdout: string): Array<Record<string, unknown>> {
  return stdout
    .split('\n')
    .filter((l) => l !== '')
    .map((l) => {
      try {
        return JSON.parse(l) as Record<string, unknown>;
      } catch {
        throw new Error(`not a JSON line: ${l}`);
      }
    });
}
