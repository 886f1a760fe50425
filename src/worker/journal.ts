/**
 * An append-only journal on disk: the worker's task reports that the orchestrator has not taken
 * yet. One file, `journal.jsonl`, in a folder of its own (format in journal-format.ts). One
 * process per folder: nothing locks it.
 *
 * Durability: `append` resolves once the record is fsynced; `drop` once its acknowledgement is.
 * Operations run one at a time, in call order, so a crash can tear only the last record.
 *
 * Recovery on `open`: a torn tail (the record a crash interrupted) is cut off, and the file
 * truncated to the last good record. A damaged record *before* good ones cannot come from a crash
 * here; it is skipped with a warning and the file rewritten without it (a skipped entry is lost, a
 * skipped acknowledgement brings its entries back once more). Skipping, not refusing to start: the
 * orchestrator gets over one missing report (the task is tried again), while a worker that will
 * not start strands every other report in the file, and the node with them.
 *
 * Compaction: when the acknowledged records outnumber the live ones (and `compactAfter`), the live
 * entries are written to a temporary file, fsynced, renamed over the journal and the folder
 * fsynced: at every instant the name points at a complete file, old or new. When nothing is left
 * the file is simply truncated to zero (atomic too).
 *
 * Errors: a failed write is undone (truncated back) and the journal stays usable; a failed fsync
 * leaves the file in a state nobody can know, so the journal refuses everything after it (with
 * that error) until it is opened again.
 */
import { type FileHandle, mkdir, open, readFile, rename, rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { Logger } from 'pino';
import { AppError } from '../core/index.js';
import { encodeDrop, encodeEntry, type JournalItem, scanJournal } from './journal-format.js';

export interface JournalOptions {
  logger?: Pick<Logger, 'warn'>;
  /** Acknowledged records kept before a rewrite is considered (default 1024). */
  compactAfter?: number;
}

/** What `open` found and repaired. */
export interface JournalRecovery {
  /** Bytes of a torn last record cut off. */
  truncatedBytes: number;
  /** Damaged records skipped in the middle of the file (their entries are lost). */
  skippedRecords: number;
}

const FILE = 'journal.jsonl';

export class Journal<T = unknown> {
  readonly path: string;
  readonly recovery: JournalRecovery;
  readonly #dir: string;
  readonly #compactAfter: number;
  readonly #logger: Pick<Logger, 'warn'> | undefined;
  #fh: FileHandle;
  #items: JournalItem[];
  #nextSeq: number;
  #size: number;
  #dead: number;
  #tail: Promise<unknown> = Promise.resolve();
  #closed = false;
  #broken: Error | null = null;

  private constructor(
    dir: string,
    fh: FileHandle,
    state: { items: JournalItem[]; nextSeq: number; size: number; dead: number },
    recovery: JournalRecovery,
    options: JournalOptions,
  ) {
    this.#dir = dir;
    this.path = join(dir, FILE);
    this.#fh = fh;
    this.#items = state.items;
    this.#nextSeq = state.nextSeq;
    this.#size = state.size;
    this.#dead = state.dead;
    this.recovery = recovery;
    this.#compactAfter = options.compactAfter ?? 1024;
    this.#logger = options.logger;
  }

  /** Opens (creating the folder and file if needed) and repairs what a crash left. */
  static async open<T = unknown>(dir: string, options: JournalOptions = {}): Promise<Journal<T>> {
    await mkdir(dir, { recursive: true });
    const path = join(dir, FILE);
    await rm(`${path}.tmp`, { force: true }); // an interrupted compaction's leftover
    const buf = await readFile(path).catch((e: NodeJS.ErrnoException) => {
      if (e.code === 'ENOENT') return null;
      throw e;
    });
    const fh = await open(path, 'a');
    try {
      if (buf === null) await fsyncDir(dir); // the new file's name must survive a crash too
      return await Journal.#recover(dir, fh, buf, options);
    } catch (error) {
      await fh.close().catch(() => undefined);
      throw error;
    }
  }

  static async #recover<T>(
    dir: string,
    fh: FileHandle,
    buf: Buffer | null,
    options: JournalOptions,
  ): Promise<Journal<T>> {
    const path = join(dir, FILE);
    const scan = scanJournal(buf ?? Buffer.alloc(0));
    const recovery = {
      truncatedBytes: (buf?.length ?? 0) - scan.goodLength,
      skippedRecords: scan.damagedLines.length,
    };
    const state = { items: scan.items, nextSeq: scan.nextSeq, size: scan.goodLength, dead: scan.deadRecords };
    const journal = new Journal<T>(dir, fh, state, recovery, options);
    if (recovery.truncatedBytes > 0) {
      options.logger?.warn(
        { path, bytes: recovery.truncatedBytes },
        'journal: cut off a torn last record (a crash during its write; it had not been confirmed)',
      );
      await fh.truncate(scan.goodLength);
      await fh.sync();
    }
    if (recovery.skippedRecords > 0) {
      options.logger?.warn(
        { path, lines: scan.damagedLines },
        'journal: skipped damaged records in the middle of the file (disk damage or an outside edit): an entry there is lost',
      );
      await journal.#compact(); // rewritten without them, so later appends follow good data only
    }
    return journal;
  }

  get length(): number {
    return this.#items.length;
  }

  /** The confirmed entries, oldest first. */
  entries(): T[] {
    return this.#items.map((it) => it.value as T);
  }

  /** Resolves once the entry is on disk (fsynced). */
  append(entry: T): Promise<void> {
    return this.#run(async () => {
      const seq = this.#nextSeq;
      const record = encodeEntry(seq, entry);
      await this.#write(record);
      this.#nextSeq = seq + 1;
      // Kept as a reopen would give it back (JSON's view of it), not as a reference the caller owns.
      this.#items.push({ seq, value: JSON.parse(JSON.stringify(entry)) });
    });
  }

  /** Removes the n oldest entries; resolves once that is on disk. */
  drop(n: number): Promise<void> {
    return this.#run(async () => {
      if (!Number.isInteger(n) || n < 0 || n > this.#items.length)
        throw new AppError('internal_error', `journal: cannot drop ${n} of ${this.#items.length} entries`);
      if (n === 0) return;
      if (n === this.#items.length) {
        // Nothing left: an empty file says so without a record, and truncation is atomic.
        await this.#durably(async () => {
          await this.#fh.truncate(0);
          await this.#fh.sync();
        });
        this.#items = [];
        this.#size = 0;
        this.#dead = 0;
        return;
      }
      await this.#write(encodeDrop(this.#items[n - 1]!.seq));
      this.#items.splice(0, n);
      this.#dead += n + 1;
      if (this.#dead >= this.#compactAfter && this.#dead >= this.#items.length) await this.#compact();
    });
  }

  /** Waits for the operations already asked for, then closes the file. Idempotent. */
  close(): Promise<void> {
    if (this.#closed) return this.#tail.then(() => undefined);
    this.#closed = true;
    this.#tail = this.#tail.then(() => this.#fh.close()).catch(() => undefined);
    return this.#tail.then(() => undefined);
  }

  #run<R>(op: () => Promise<R>): Promise<R> {
    if (this.#closed) return Promise.reject(new AppError('internal_error', 'journal: closed'));
    const p = this.#tail.then(() => {
      if (this.#broken)
        throw new AppError(
          'internal_error',
          `journal: unusable after an earlier I/O error (${this.#broken.message})`,
          {
            cause: this.#broken,
          },
        );
      return op();
    });
    this.#tail = p.catch(() => undefined);
    return p;
  }

  /** Appends one record and fsyncs it; a failed write is undone so the file ends on a good record. */
  async #write(record: Buffer): Promise<void> {
    try {
      await writeAll(this.#fh, record);
    } catch (error) {
      await this.#durably(() => this.#fh.truncate(this.#size));
      throw error;
    }
    await this.#durably(() => this.#fh.datasync()); // fdatasync flushes the new size as well
    this.#size += record.length;
  }

  /** Runs an operation after which, if it fails, the file's state is unknown. */
  async #durably(op: () => Promise<void>): Promise<void> {
    try {
      await op();
    } catch (error) {
      this.#broken = error as Error;
      throw error;
    }
  }

  async #compact(): Promise<void> {
    const tmp = `${this.path}.tmp`;
    const body = Buffer.concat(this.#items.map((it) => encodeEntry(it.seq, it.value)));
    try {
      const t = await open(tmp, 'w');
      try {
        await writeAll(t, body);
        await t.sync();
      } finally {
        await t.close();
      }
    } catch (error) {
      // Before the rename the journal is untouched and still right: only the rewrite is lost.
      await rm(tmp, { force: true }).catch(() => undefined);
      this.#logger?.warn({ err: error, path: this.path }, 'journal: compaction failed; will try again later');
      return;
    }
    await this.#durably(async () => {
      await rename(tmp, this.path);
      await fsyncDir(this.#dir);
      const old = this.#fh;
      this.#fh = await open(this.path, 'a');
      await old.close();
    });
    this.#size = body.length;
    this.#dead = 0;
  }
}

async function writeAll(fh: FileHandle, buf: Buffer): Promise<void> {
  let done = 0;
  while (done < buf.length) {
    const { bytesWritten } = await fh.write(buf, done, buf.length - done, null);
    done += bytesWritten;
  }
}

async function fsyncDir(dir: string): Promise<void> {
  const d = await open(dir, 'r');
  try {
    await d.sync();
  } finally {
    await d.close();
  }
}
