/**
 * Can this worker still use its storage? Each media root must be a folder it can list; each
 * output folder must take a probe file (created, written, fsynced, closed, removed). A worker whose
 * storage fails goes to ERROR and takes no new work; when the check passes again it is IDLE.
 *
 * Every check is bounded: a hung network mount does not answer at all, and a worker stuck waiting
 * for it would be as bad as one that uses it. The fs call cannot be cancelled, so it is raced
 * against a timer and left running; StorageWatch issues no new call while one is still stuck
 * (each stuck call holds one of libuv's four threads, which the rest of the worker needs too).
 *
 * This file imports nothing of the project's at run time: a test runs it, copied, as another user.
 */
import { randomBytes } from 'node:crypto';
import { open, opendir, stat, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import type { Logger } from 'pino';

export interface StorageCheckOptions {
  readRoots: string[];
  writeDirs: string[];
  timeoutMs: number;
}

export type StorageCheckResult = { ok: true } | { ok: false; reason: string };

/** Checks every folder at once; the reason lists each failing one. */
export function checkStorage(o: StorageCheckOptions): Promise<StorageCheckResult> {
  return startStorageCheck(o).result;
}

/** The check, plus a promise that settles once every fs call returned (later, if one hung). */
export function startStorageCheck(o: StorageCheckOptions): {
  result: Promise<StorageCheckResult>;
  settled: Promise<void>;
} {
  const calls = [
    ...o.readRoots.map((dir) => ({ dir, label: 'media root', action: 'cannot list it', op: listOne(dir) })),
    ...o.writeDirs.map((dir) => ({
      dir,
      label: 'output folder',
      action: 'cannot write a probe file in it',
      op: writeProbe(dir),
    })),
  ];
  const settled = Promise.allSettled(calls.map((c) => c.op)).then(() => undefined);
  const result = Promise.all(
    calls.map(async (c) => {
      const outcome = await bounded(c.op, o.timeoutMs);
      if (outcome === null) return null;
      if (outcome === 'timeout')
        return `${c.label} ${c.dir}: no answer within ${o.timeoutMs} ms (timed out; a hung network mount?)`;
      if (outcome instanceof NotAFolder) return `${c.label} ${c.dir}: is not a folder (ENOTDIR)`;
      const code = (outcome as NodeJS.ErrnoException).code;
      return `${c.label} ${c.dir}: ${c.action}: ${code ? `${plainWords(code)} (${code})` : String(outcome)}`;
    }),
  ).then((reasons): StorageCheckResult => {
    const failing = reasons.filter((r): r is string => r !== null);
    return failing.length === 0 ? { ok: true } : { ok: false, reason: failing.join('; ') };
  });
  return { result, settled };
}

class NotAFolder extends Error {
  readonly code = 'ENOTDIR';
}

async function listOne(dir: string): Promise<void> {
  if (!(await stat(dir)).isDirectory()) throw new NotAFolder(dir);
  // One entry proves the folder can be read; a full readdir of a big library every minute costs.
  const d = await opendir(dir, { bufferSize: 1 });
  try {
    await d.read();
  } finally {
    await d.close();
  }
}

async function writeProbe(dir: string): Promise<void> {
  const path = join(dir, `.mediaforge-probe-${randomBytes(8).toString('hex')}`);
  const fh = await open(path, 'wx');
  try {
    await fh.write('mediaforge storage probe\n');
    await fh.sync();
  } finally {
    await fh.close().finally(() => unlink(path));
  }
}

/** null when it worked, the error when it failed, 'timeout' when it did not answer in time. */
function bounded(op: Promise<void>, ms: number): Promise<unknown> {
  return new Promise((resolve) => {
    const timer = setTimeout(() => resolve('timeout'), ms);
    op.then(
      () => resolve(null),
      (error: unknown) => resolve(error),
    ).finally(() => clearTimeout(timer));
  });
}

const PLAIN: Record<string, string> = {
  ENOENT: 'no such file or folder',
  EACCES: 'permission denied',
  EPERM: 'operation not permitted',
  ENOTDIR: 'a part of the path is not a folder',
  EROFS: 'read-only file system',
  ENOSPC: 'no space left on the device',
  EDQUOT: 'disk quota exceeded',
  EIO: 'input/output error',
  ESTALE: 'stale network file handle (the share was remounted or the file server restarted)',
  ENOTCONN: 'the network mount is not connected',
  EHOSTDOWN: 'the file server is down',
  EHOSTUNREACH: 'the file server cannot be reached',
  ETIMEDOUT: 'the file server did not answer',
  ELOOP: 'too many symbolic links',
  ENAMETOOLONG: 'the path is too long',
  EMFILE: 'too many open files in this process',
  ENFILE: 'too many open files on this machine',
  EBUSY: 'the device is busy',
};

function plainWords(code: string): string {
  return PLAIN[code] ?? 'error';
}

export interface StorageWatchOptions extends StorageCheckOptions {
  /** The first result, then each change (ok ↔ failing, or a different reason). */
  onChange: (result: StorageCheckResult) => void;
  logger?: Pick<Logger, 'error'>;
}

/** Runs the check every interval (the next one starts when the last has finished). */
export class StorageWatch {
  readonly #o: StorageWatchOptions;
  #current: StorageCheckResult | null = null;
  #checks = 0;
  #timer: NodeJS.Timeout | null = null;
  #running: Promise<void> | null = null;
  #stuck: Promise<void> | null = null;
  #closed = false;

  constructor(options: StorageWatchOptions) {
    this.#o = options;
  }

  /** The last result; null before the first check ends. */
  get current(): StorageCheckResult | null {
    return this.#current;
  }

  /** Checks run so far (a round skipped behind a hung call does not count). */
  get checks(): number {
    return this.#checks;
  }

  start(intervalMs: number): void {
    if (this.#closed || this.#running || this.#timer) return;
    const loop = () => {
      this.#running = this.#round().finally(() => {
        this.#running = null;
        if (!this.#closed) this.#timer = setTimeout(loop, intervalMs).unref();
      });
    };
    loop();
  }

  /** Stops; waits for a check under way to give its result (not for a hung fs call). Idempotent. */
  async close(): Promise<void> {
    this.#closed = true;
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = null;
    await this.#running;
  }

  async #round(): Promise<void> {
    // A call from an earlier round still hangs: asking again would only pile up stuck threads,
    // and the answer stands (timed out) until it returns.
    if (this.#stuck) return;
    const { result, settled } = startStorageCheck(this.#o);
    this.#stuck = settled.then(() => {
      this.#stuck = null;
    });
    const r = await result;
    this.#checks++;
    if (this.#closed || sameResult(this.#current, r)) return;
    this.#current = r;
    try {
      this.#o.onChange(r);
    } catch (error) {
      this.#o.logger?.error({ err: error }, 'storage watch: onChange threw');
    }
  }
}

function sameResult(a: StorageCheckResult | null, b: StorageCheckResult): boolean {
  if (a === null || a.ok !== b.ok) return false;
  return a.ok || a.reason === (b as { reason: string }).reason;
}
