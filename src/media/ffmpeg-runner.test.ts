import { existsSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { AppError } from '../core/errors.js';
import type { Progress } from '../core/ffmpeg/progress.js';
import { FfmpegRun, FfmpegRunError, runFfmpeg, withRunnerArgs } from './ffmpeg-runner.js';
import { deathSignalSupport, findExecutable, startProcess } from './process.js';
import { makeExecutable, mediaTempDir } from './test-support/make-media.js';

const ffmpeg = process.env.MEDIAFORGE_FFMPEG ?? findExecutable('ffmpeg', process.env.PATH) ?? 'ffmpeg';
const bin = join(mediaTempDir(), 'runner-bin');
/** A source that runs for minutes at real time: only a stop ends it. */
const LONG = ['-re', '-f', 'lavfi', '-i', 'testsrc2=size=64x48:rate=10:duration=600', '-f', 'null', '-'];

/** Gone, or a zombie nobody reaps (this container's init does not): either way it runs no more. */
function running(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  try {
    const state = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]?.[0];
    return state !== 'Z' && state !== 'X';
  } catch {
    return existsSync(`/proc/${pid}`);
  }
}

function groupExists(pgid: number): boolean {
  try {
    process.kill(-pgid, 0);
    return true;
  } catch (e) {
    expect((e as NodeJS.ErrnoException).code).toBe('ESRCH');
    return false;
  }
}

/** Polls instead of sleeping a fixed time: the machine is shared and its timing is not ours. */
async function until(what: string, test: () => boolean, timeoutMs = 15_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!test()) {
    if (Date.now() > end) throw new Error(`timed out waiting until ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

async function failure(run: FfmpegRun): Promise<FfmpegRunError> {
  const e = await run.done.then(
    () => null,
    (err: unknown) => err,
  );
  if (!(e instanceof FfmpegRunError)) throw new Error(`expected a FfmpegRunError, got ${String(e)}`);
  return e;
}

describe('FfmpegRun with real FFmpeg', () => {
  it('encodes, reporting progress up to 100 %', async () => {
    const out = join(mediaTempDir(), 'runner-out.mp4');
    const events: Progress[] = [];
    const run = runFfmpeg({
      ffmpeg,
      args: [
        '-f',
        'lavfi',
        '-i',
        'testsrc2=size=160x120:rate=25:duration=3',
        '-c:v',
        'libx264',
        '-preset',
        'ultrafast',
        '-y',
        out,
      ],
      expectedDurationSeconds: 3,
      onProgress: (p) => events.push(p),
    });
    const result = await run.done;
    expect(result.exitCode).toBe(0);
    expect(statSync(out).size).toBeGreaterThan(1000);
    expect(events.length).toBeGreaterThan(0);
    const last = events.at(-1);
    expect(last).toMatchObject({ done: true, etaSeconds: 0, frame: 75 });
    // The last report is the start of the last frame (2.96 s of 3): ~100, and `done`.
    expect(last?.percent).toBeGreaterThan(95);
    expect(result.lastProgress).toEqual(last);
    expect(result.durationMs).toBeGreaterThan(0);
    // Percent never goes backwards.
    const percents = events.map((p) => p.percent ?? 0);
    expect(percents).toEqual([...percents].sort((a, b) => a - b));
  });

  it('fails with ffmpeg_failed and FFmpeg’s own words', async () => {
    const run = runFfmpeg({
      ffmpeg,
      args: ['-f', 'lavfi', '-i', 'testsrc2=duration=1', '-vf', 'scale=w=abc:h=-2', '-f', 'null', '-'],
    });
    const e = await failure(run);
    expect(e.code).toBe('ffmpeg_failed');
    expect(e.message).toMatch(/^FFmpeg exited with code 1; FFmpeg said:\n/);
    expect(e.message).toContain("Error initializing filter 'scale'");
    expect(e.message).not.toMatch(/@ 0x[0-9a-f]+/);
    expect(e.outcome.exitCode).toBe(1);
    expect(e.outcome.stderrTail).toContain("Cannot parse expression for width: 'abc'");
  });

  it.each([
    ['SIGTERM', 'trapped: exit 255, "received signal 15"'],
    ['SIGKILL', 'killed outright'],
  ] as const)(
    'stopped from outside with %s (%s): ffmpeg_killed, worth another attempt',
    async (signal, _how) => {
      const run = runFfmpeg({ ffmpeg, args: LONG, stallTimeoutMs: null });
      await until('progress is reported', () => run.lastProgress !== null);
      process.kill(run.pid as number, signal);
      const e = await failure(run);
      expect(e.code).toBe('ffmpeg_killed');
      expect(e.message).toMatch(/^FFmpeg was stopped by (SIGKILL|a signal) from outside/);
    },
  );

  it('cancels: SIGTERM to the group, nothing left, done rejects with cancelled', async () => {
    const run = runFfmpeg({ ffmpeg, args: LONG, stallTimeoutMs: null });
    await until('progress is reported', () => run.lastProgress !== null);
    const pid = run.pid as number;
    expect(running(pid)).toBe(true);
    run.cancel();
    run.cancel(); // idempotent
    const e = await failure(run);
    expect(e.code).toBe('cancelled');
    expect(e.status).toBe(409);
    expect(running(pid)).toBe(false);
    expect(groupExists(pid)).toBe(false);
  });

  it('cancels through an AbortSignal', async () => {
    const abort = new AbortController();
    const run = runFfmpeg({ ffmpeg, args: LONG, signal: abort.signal, stallTimeoutMs: null });
    await until('it runs', () => run.pid !== undefined);
    abort.abort();
    expect((await failure(run)).code).toBe('cancelled');
    expect(groupExists(run.pid as number)).toBe(false);
  });

  it('does not start when the signal is already aborted', async () => {
    const run = runFfmpeg({ ffmpeg, args: LONG, signal: AbortSignal.abort() });
    expect((await failure(run)).code).toBe('cancelled');
    expect(run.pid).toBeUndefined();
  });

  it('stops a run past its deadline: timeout', async () => {
    const run = runFfmpeg({ ffmpeg, args: LONG, deadlineMs: 500, stallTimeoutMs: null });
    const e = await failure(run);
    expect(e.code).toBe('timeout');
    expect(e.message).toContain('deadline of 500 ms');
    expect(groupExists(run.pid as number)).toBe(false);
  });

  it('stops the run when a progress listener throws, with that error', async () => {
    const run = runFfmpeg({
      ffmpeg,
      args: LONG,
      stallTimeoutMs: null,
      onProgress: () => {
        throw new Error('listener broke');
      },
    });
    const e = await failure(run);
    expect(e.code).toBe('internal_error');
    expect(e.message).toContain('listener broke');
  });
});

describe('FfmpegRun with fake FFmpegs', () => {
  it('kills an FFmpeg that prints nothing: stalled', async () => {
    const silent = makeExecutable('ffmpeg-silent', 'exec sleep 60', bin);
    const run = runFfmpeg({ ffmpeg: silent, args: [], stallTimeoutMs: 300 });
    await until('it runs', () => run.pid !== undefined);
    const e = await failure(run);
    expect(e.code).toBe('stalled');
    expect(e.message).toContain('no progress for 300 ms');
    expect(groupExists(run.pid as number)).toBe(false);
  });

  it('a crash (SIGSEGV) is the run failing, not a stop from outside: ffmpeg_failed', async () => {
    const crashing = makeExecutable('ffmpeg-crash', 'kill -SEGV $$', bin);
    const e = await failure(runFfmpeg({ ffmpeg: crashing, args: [] }));
    expect(e.code).toBe('ffmpeg_failed');
    expect(e.message).toMatch(/^FFmpeg crashed \(SIGSEGV\)/);
  });

  it('SIGKILLs what ignores SIGTERM once the grace period is over', async () => {
    const stubborn = makeExecutable(
      'ffmpeg-stubborn',
      'trap \'\' TERM\ntouch "$0.ready"\nexec sleep 60',
      bin,
    );
    const run = runFfmpeg({ ffmpeg: stubborn, args: [], killGraceMs: 200, stallTimeoutMs: null });
    await until('it ignores SIGTERM', () => existsSync(`${stubborn}.ready`));
    run.cancel();
    const e = await failure(run);
    expect(e.code).toBe('cancelled');
    expect(e.outcome.signal).toBe('SIGKILL');
    expect(groupExists(run.pid as number)).toBe(false);
  });

  it('kills the whole process group, children included', async () => {
    // A shell that starts a child and waits: the child is in the group, not the shell's pid.
    const parent = makeExecutable('ffmpeg-parent', 'sleep 60 &\necho $! > "$0.child"\nwait', bin);
    const run = runFfmpeg({ ffmpeg: parent, args: [], stallTimeoutMs: null });
    await until(
      'the child is started',
      () => existsSync(`${parent}.child`) && readFileSync(`${parent}.child`, 'utf8').trim() !== '',
    );
    const child = Number(readFileSync(`${parent}.child`, 'utf8'));
    expect(running(child)).toBe(true);
    await run.close();
    await until('the child is gone', () => !running(child));
  });

  it('says ffmpeg_not_found for a binary that does not exist', async () => {
    const e = await failure(runFfmpeg({ ffmpeg: '/nonexistent/ffmpeg', args: [] }));
    expect(e.code).toBe('ffmpeg_not_found');
  });
});

describe('FfmpegRun lifecycle', () => {
  it('close() before start() settles done as cancelled and never throws', async () => {
    const run = new FfmpegRun({ ffmpeg, args: LONG });
    await run.close();
    await run.close();
    expect((await failure(run)).code).toBe('cancelled');
    run.start(); // after close: nothing happens
    expect(run.pid).toBeUndefined();
  });

  it('close() after a successful run changes nothing', async () => {
    const run = runFfmpeg({ ffmpeg, args: ['-f', 'lavfi', '-i', 'color=d=0.2', '-f', 'null', '-'] });
    const result = await run.done;
    await run.close();
    await expect(run.done).resolves.toBe(result);
  });
});

describe('withRunnerArgs', () => {
  it('adds what the runner needs, once', () => {
    expect(withRunnerArgs(['-i', 'x'])).toEqual([
      '-hide_banner',
      '-nostdin',
      '-nostats',
      '-progress',
      'pipe:1',
      '-i',
      'x',
    ]);
    const full = ['-hide_banner', '-nostdin', '-nostats', '-progress', 'pipe:1', '-y', '-i', 'x'];
    expect(withRunnerArgs(full)).toEqual(full);
  });

  it('refuses progress sent anywhere but pipe:1', () => {
    expect(() => withRunnerArgs(['-progress', 'file:/tmp/p'])).toThrow(AppError);
    expect(() => new FfmpegRun({ ffmpeg, args: ['-progress'] })).toThrow(/pipe:1/);
  });
});

describe.runIf(deathSignalSupport() !== null)('killing the parent', () => {
  it('leaves no orphan FFmpeg', async () => {
    // A node process stands for the worker: it runs FFmpeg through the runner and prints its pid.
    const script = new URL('./test-support/orphan-child.mjs', import.meta.url).pathname;
    const worker = await startProcess(process.execPath, [script, ffmpeg], { dieWithParent: false });
    let out = '';
    worker.stdout.setEncoding('utf8');
    worker.stdout.on('data', (c: string) => {
      out += c;
    });
    let err = '';
    worker.stderr.setEncoding('utf8');
    worker.stderr.on('data', (c: string) => {
      err += c;
    });
    await until(`the child prints FFmpeg's pid (stderr: ${err})`, () => /^\d+\n/.test(out));
    const pid = Number(out.trim());
    expect(running(pid)).toBe(true);

    process.kill(worker.pid, 'SIGKILL'); // only the node process: FFmpeg is in a group of its own
    await worker.exited;
    await until('FFmpeg is gone', () => !running(pid));
  });
});
