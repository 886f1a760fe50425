/**
 * Stopping a job part-way: cancel through the pipeline's AbortSignal, Ctrl-C (SIGINT) to a real
 * `mediaforge run`, and `kill -9` of it. Each time no FFmpeg may be left running, and the
 * destination is either absent or complete: never a partial file under its name. The FFmpeg of a
 * test is found in /proc by the test's unique media root, which its command line names.
 *
 * The job is made slow on purpose (a 60 s clip scaled up to 720p with x264 veryslow: minutes of
 * work), so that it is always still running when the test stops it; nothing here measures time.
 */
import { writeFileSync } from 'node:fs';
import { copyFile, writeFile } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { makeClip, makeExecutable, mediaTempDir } from '../src/media/test-support/make-media.js';
import type { JobProgress } from '../src/pipeline/index.js';
import { ensureBuilt, jsonLines, startCli } from './helpers/cli.js';
import { listFiles, runSpecError, tempRoot, testBinaries } from './helpers/pipeline.js';
import { killMentioning, processesMentioning, running, until } from './helpers/procs.js';

const SLOW = {
  inputs: [{ id: 'in', source: 'in.mp4' }],
  operations: [{ op: 'scale', input: 'in', output: 'big', params: { width: 1280, height: 720 } }],
  outputs: [
    {
      id: 'big',
      destination: 'out/big.mp4',
      codec: { video: { codec: 'h264', preset: 'veryslow' }, audio: { codec: 'aac' } },
    },
  ],
};

let clip: string;
const roots: string[] = [];

beforeAll(async () => {
  await ensureBuilt();
  clip = await makeClip({ seconds: 60, size: '160x120' });
}, 300_000);

afterEach(() => {
  // A failed test must not leave its veryslow encode burning the CPU for the next ones.
  for (const root of roots.splice(0)) killMentioning(`${root}/`);
});

async function slowRoot(): Promise<string> {
  const root = tempRoot('mf-cancel-');
  roots.push(root);
  await copyFile(clip, join(root, 'in.mp4'));
  await writeFile(join(root, 'job.json'), JSON.stringify({ spec: SLOW }));
  return root;
}

/** The FFmpeg of this root: started, running, and the only one. */
function ffmpegOf(root: string): number {
  const found = processesMentioning(`${root}/`).filter((p) => p.comm === 'ffmpeg');
  expect(found.map((p) => p.comm)).toEqual(['ffmpeg']);
  return found[0]!.pid;
}

describe('cancel through the pipeline', () => {
  it('an abort once progress is seen: cancelled, no FFmpeg left, no partial or temporary file', async () => {
    const root = await slowRoot();
    const abort = new AbortController();
    let ffmpeg = 0;
    const seen: JobProgress[] = [];
    const e = await runSpecError({ spec: SLOW }, root, {
      signal: abort.signal,
      onProgress: (p) => {
        seen.push(p);
        if (abort.signal.aborted) return;
        ffmpeg = ffmpegOf(root);
        abort.abort();
      },
    });
    expect(e.code, e.message).toBe('cancelled');
    // Stopped part-way. (FFmpeg, told to stop, still flushes and reports a last block marked done.)
    expect(seen[0]?.done).toBe(false);
    expect(ffmpeg).toBeGreaterThan(0);
    await until('FFmpeg is gone', () => !running(ffmpeg));
    expect(processesMentioning(`${root}/`)).toEqual([]);
    expect(listFiles(root)).toEqual(['in.mp4', 'job.json']);
  });

  it('an abort before it starts: cancelled, nothing run, nothing written', async () => {
    const root = await slowRoot();
    const e = await runSpecError({ spec: SLOW }, root, { signal: AbortSignal.abort() });
    expect(e.code, e.message).toBe('cancelled');
    expect(processesMentioning(`${root}/`)).toEqual([]);
    expect(listFiles(root)).toEqual(['in.mp4', 'job.json']);
  });
});

describe('a real `mediaforge run` stopped from outside', () => {
  /** Starts the CLI on the slow job and returns once FFmpeg reports progress, with its pid. */
  async function startSlowRun(root: string, env: Record<string, string> = {}) {
    const cli = await startCli(['run', 'job.json', '--json'], { cwd: root, env });
    let exited = false;
    void cli.child.exited.then(() => {
      exited = true;
    });
    await until(
      `the CLI reports progress (stdout: ${cli.stdout()}; stderr: ${cli.stderr()})`,
      () => exited || cli.stdout().includes('"type":"progress"'),
      60_000,
    );
    expect(exited, cli.stdout() + cli.stderr()).toBe(false);
    return { ...cli, ffmpeg: ffmpegOf(root) };
  }

  it('SIGINT (Ctrl-C): exit non-zero with a cancelled error, no FFmpeg left, no partial file', async () => {
    const root = await slowRoot();
    const run = await startSlowRun(root);
    process.kill(run.child.pid, 'SIGINT');
    const exit = await run.child.exited;
    expect(exit.code).not.toBe(0);
    expect(exit.code).toBe(1);
    const lines = jsonLines(run.stdout());
    expect(lines.at(-1)).toEqual({ type: 'error', error: 'cancelled', message: expect.any(String) });
    expect(lines.slice(0, -1).every((l) => l.type === 'progress')).toBe(true);
    await until('FFmpeg is gone', () => !running(run.ffmpeg));
    expect(processesMentioning(`${root}/`)).toEqual([]);
    expect(listFiles(root)).toEqual(['in.mp4', 'job.json']);
  }, 120_000);

  it('SIGINT twice (an impatient Ctrl-C): still a clean cancel, the temporary file removed', async () => {
    const root = await slowRoot();
    // An FFmpeg that is slow to stop: a shell runs the real one and, on SIGTERM, waits for a
    // release file before it exits. The second Ctrl-C lands deterministically while the CLI
    // waits for FFmpeg to stop, i.e. before it could remove its temporary file.
    const bin = join(mediaTempDir(), basename(root));
    const release = join(bin, 'release');
    const slowToStop = makeExecutable(
      'slow-to-stop.sh',
      [
        `trap 'while [ ! -e "${release}" ]; do sleep 0.05; done; exit 255' TERM`,
        `"${(await testBinaries()).ffmpeg.path}" "$@" &`,
        'wait $!',
      ].join('\n'),
      bin,
    );
    const run = await startSlowRun(root, {
      MEDIAFORGE_FFMPEG: slowToStop,
      MEDIAFORGE_KILL_GRACE_SECONDS: '600',
    });
    process.kill(run.child.pid, 'SIGINT');
    await until('the first SIGINT stopped the real FFmpeg', () => !running(run.ffmpeg));
    process.kill(run.child.pid, 'SIGINT');
    writeFileSync(release, '');
    const exit = await run.child.exited;
    expect(exit).toEqual({ code: 1, signal: null });
    expect(jsonLines(run.stdout()).at(-1)).toMatchObject({ type: 'error', error: 'cancelled' });
    expect(processesMentioning(`${root}/`)).toEqual([]);
    expect(listFiles(root)).toEqual(['in.mp4', 'job.json']);
  }, 120_000);

  it('SIGTERM (a service manager stopping it): the same clean cancel', async () => {
    const root = await slowRoot();
    const run = await startSlowRun(root);
    process.kill(run.child.pid, 'SIGTERM');
    const exit = await run.child.exited;
    expect(exit).toEqual({ code: 1, signal: null });
    expect(jsonLines(run.stdout()).at(-1)).toMatchObject({ type: 'error', error: 'cancelled' });
    await until('FFmpeg is gone', () => !running(run.ffmpeg));
    expect(listFiles(root)).toEqual(['in.mp4', 'job.json']);
  }, 120_000);

  it('kill -9: its FFmpeg dies too, and the destination never holds a partial file', async () => {
    const root = await slowRoot();
    const run = await startSlowRun(root);
    expect(running(run.ffmpeg)).toBe(true);
    process.kill(run.child.pid, 'SIGKILL');
    const exit = await run.child.exited;
    expect(exit.signal).toBe('SIGKILL');
    await until('the orphaned FFmpeg is gone', () => !running(run.ffmpeg), 60_000);
    expect(processesMentioning(`${root}/`)).toEqual([]);
    // Nothing can clean up after SIGKILL: the temporary file may stay, but only under its own
    // hidden name (.big.mp4.mediaforge-<token>.part), never as the destination.
    const files = listFiles(root);
    expect(files).not.toContain('out/big.mp4');
    expect(files.filter((f) => !['in.mp4', 'job.json'].includes(f))).toEqual(
      files.filter((f) => /^out\/\.big\.mp4\.mediaforge-[0-9a-f]{8}\.part$/.test(f)),
    );
  }, 120_000);
});
