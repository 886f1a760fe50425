import { spawn, spawnSync } from 'node:child_process';
import {
  chmodSync,
  copyFileSync,
  linkSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  renameSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checkStorage, type StorageCheckResult, StorageWatch } from './storage-check.js';

const freshDir = () => mkdtempSync(join(tmpdir(), 'mf-storage-'));

async function until(what: string, test: () => boolean, timeoutMs = 15_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!test()) {
    if (Date.now() > end) throw new Error(`timed out waiting until ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

describe('checkStorage', () => {
  it('passes for readable roots and writable folders, and leaves no probe file behind', async () => {
    const base = freshDir();
    for (const d of ['a', 'b', 'out']) mkdirSync(join(base, d));
    writeFileSync(join(base, 'a', 'clip.mp4'), 'x');
    const r = await checkStorage({
      readRoots: [join(base, 'a'), join(base, 'b')],
      writeDirs: [join(base, 'out')],
      timeoutMs: 5000,
    });
    expect(r).toEqual({ ok: true });
    expect(readdirSync(join(base, 'out'))).toEqual([]);
  });

  it('fails for a root that is gone, and passes again once it is back', async () => {
    const base = freshDir();
    const root = join(base, 'media');
    mkdirSync(root);
    const o = { readRoots: [root], writeDirs: [], timeoutMs: 5000 };
    renameSync(root, join(base, 'away'));
    expect(await checkStorage(o)).toEqual({
      ok: false,
      reason: `media root ${root}: cannot list it: no such file or folder (ENOENT)`,
    });
    renameSync(join(base, 'away'), root);
    expect(await checkStorage(o)).toEqual({ ok: true });
  });

  it('fails for a root or an output folder replaced by a plain file, naming each', async () => {
    const base = freshDir();
    const root = join(base, 'media');
    const out = join(base, 'out');
    writeFileSync(root, 'not a folder');
    writeFileSync(out, 'not a folder either');
    const r = await checkStorage({ readRoots: [root], writeDirs: [out], timeoutMs: 5000 });
    expect(r).toEqual({
      ok: false,
      reason:
        `media root ${root}: is not a folder (ENOTDIR); ` +
        `output folder ${out}: cannot write a probe file in it: a part of the path is not a folder (ENOTDIR)`,
    });
  });
});

describe('StorageWatch', () => {
  it('reports the first result, then only changes', async () => {
    const base = freshDir();
    const root = join(base, 'media');
    mkdirSync(root);
    const seen: StorageCheckResult[] = [];
    const watch = new StorageWatch({
      readRoots: [root],
      writeDirs: [base],
      timeoutMs: 5000,
      onChange: (r) => seen.push(r),
    });
    watch.start(5);
    try {
      await until('the first result', () => seen.length === 1);
      expect(seen[0]).toEqual({ ok: true });
      const checksThen = watch.checks;
      await until('three more checks', () => watch.checks >= checksThen + 3);
      expect(seen).toHaveLength(1); // still ok: nothing reported

      renameSync(root, join(base, 'away'));
      await until('the failure', () => seen.length === 2);
      expect(seen[1]).toMatchObject({ ok: false, reason: expect.stringContaining('(ENOENT)') });
      const failingSince = watch.checks;
      await until('three more checks', () => watch.checks >= failingSince + 3);
      expect(seen).toHaveLength(2); // the same failure is not reported again

      writeFileSync(root, 'a file where the root was');
      await until('the new reason', () => seen.length === 3);
      expect(seen[2]).toMatchObject({ ok: false, reason: expect.stringContaining('is not a folder') });

      rmSync(root);
      renameSync(join(base, 'away'), root);
      await until('the recovery', () => seen.length === 4);
      expect(seen[3]).toEqual({ ok: true });
      expect(watch.current).toEqual({ ok: true });
    } finally {
      await watch.close();
      await watch.close();
    }
  });
});

// ------------------------------------------------ cases a root process cannot see from inside

/**
 * Root reads and writes through any mode bits, so the unreadable-root case runs in a child process
 * as nobody (65534). Nobody cannot reach this test's usual temporary folder (0700, root's) nor,
 * on most machines, the Node binary under root's home: the child gets a folder of its own under
 * /tmp, a hard link to (or a copy of) the Node binary, and a copy of storage-check.ts, which
 * imports nothing of the project at run time.
 */
const NOBODY = 65534;
let shared = '';
let node = '';

beforeAll(() => {
  shared = mkdtempSync('/tmp/mf-storage-nobody-');
  chmodSync(shared, 0o755);
  node = join(shared, 'node');
  try {
    linkSync(process.execPath, node);
  } catch {
    copyFileSync(process.execPath, node);
  }
  chmodSync(node, 0o755);
  copyFileSync(
    fileURLToPath(new URL('./storage-check.ts', import.meta.url)),
    join(shared, 'storage-check.ts'),
  );
  writeFileSync(join(shared, 'check.mjs'), CHECK_SCRIPT);
});
afterAll(() => rmSync(shared, { recursive: true, force: true }));

const CHECK_SCRIPT = `import { open } from 'node:fs/promises';
import { checkStorage } from './storage-check.ts';
const o = JSON.parse(process.argv[2]);
// With a one-thread pool, a FIFO opened for reading (no writer ever comes) hangs every fs call
// after it, as a dead network mount does.
if (o.hangOn) void open(o.hangOn, 'r');
const result = await checkStorage(o);
await new Promise((done) => process.stdout.write(JSON.stringify(result) + '\\n', done));
if (o.hangOn) process.kill(process.pid, 'SIGKILL'); // the stuck thread would keep the process
`;

type ChildRun = { spawnError: Error } | { result: StorageCheckResult };

function runCheck(
  o: { readRoots: string[]; writeDirs: string[]; timeoutMs: number; hangOn?: string },
  as: { uid?: number; gid?: number; env?: NodeJS.ProcessEnv } = {},
): Promise<ChildRun> {
  return new Promise((resolve, reject) => {
    const child = spawn(node, [join(shared, 'check.mjs'), JSON.stringify(o)], {
      cwd: shared,
      stdio: ['ignore', 'pipe', 'pipe'],
      ...as,
    });
    let out = '';
    let err = '';
    child.stdout.on('data', (b: Buffer) => {
      out += b.toString();
    });
    child.stderr.on('data', (b: Buffer) => {
      err += b.toString();
    });
    child.on('error', (e) => resolve({ spawnError: e }));
    child.on('close', () => {
      const line = out.split('\n')[0];
      if (!line) reject(new Error(`the check child printed nothing: ${err.slice(-2000)}`));
      else resolve({ result: JSON.parse(line) });
    });
  });
}

describe('checkStorage seen by another user', () => {
  it('fails for a root nobody may read and an output folder nobody may write; passes once restored', async (ctx) => {
    const readable = join(shared, 'readable');
    const locked = join(shared, 'locked');
    const writable = join(shared, 'writable');
    const readOnly = join(shared, 'read-only');
    for (const d of [readable, locked, writable, readOnly]) mkdirSync(d);
    chmodSync(writable, 0o777);
    chmodSync(locked, 0o000);
    chmodSync(readOnly, 0o555);
    const asNobody = { uid: NOBODY, gid: NOBODY };

    const control = await runCheck(
      { readRoots: [readable], writeDirs: [writable], timeoutMs: 5000 },
      asNobody,
    );
    if ('spawnError' in control)
      return ctx.skip(`cannot start a process as uid ${NOBODY} here: ${control.spawnError.message}`);
    expect(control.result).toEqual({ ok: true });
    expect(readdirSync(writable)).toEqual([]);

    const denied = await runCheck({ readRoots: [locked], writeDirs: [readOnly], timeoutMs: 5000 }, asNobody);
    expect(denied).toEqual({
      result: {
        ok: false,
        reason:
          `media root ${locked}: cannot list it: permission denied (EACCES); ` +
          `output folder ${readOnly}: cannot write a probe file in it: permission denied (EACCES)`,
      },
    });
    // The same folders pass for root: what failed above is the permission, nothing else.
    expect(await checkStorage({ readRoots: [locked], writeDirs: [readOnly], timeoutMs: 5000 })).toEqual({
      ok: true,
    });

    chmodSync(locked, 0o755);
    chmodSync(readOnly, 0o777);
    const restored = await runCheck(
      { readRoots: [locked], writeDirs: [readOnly], timeoutMs: 5000 },
      asNobody,
    );
    expect(restored).toEqual({ result: { ok: true } });
  });

  it('answers "timed out", naming each folder, when the file system does not answer', async () => {
    const folder = join(shared, 'hung');
    mkdirSync(folder);
    const fifo = join(shared, 'never-written.fifo');
    const made = spawnSync('mkfifo', [fifo]);
    expect(made.status, String(made.stderr)).toBe(0);
    const run = await runCheck(
      { readRoots: [folder], writeDirs: [folder], timeoutMs: 300, hangOn: fifo },
      { env: { ...process.env, UV_THREADPOOL_SIZE: '1' } },
    );
    expect(run).toEqual({
      result: {
        ok: false,
        reason:
          `media root ${folder}: no answer within 300 ms (timed out; a hung network mount?); ` +
          `output folder ${folder}: no answer within 300 ms (timed out; a hung network mount?)`,
      },
    });
  });
});
