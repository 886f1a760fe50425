/**
 * A worker without shared storage: a task the orchestrator marks `transfer` runs on copies. Its
 * paths are mirrored under the worker's scratch folder (`<scratch>/tasks/<attempt tag>/<the
 * orchestrator's path>`); before FFmpeg the inputs are fetched there, and after a success the
 * outputs are uploaded back, each with its SHA-256, through short-lived signed URLs asked for at
 * the moment they are used. Whatever the outcome, the copies go.
 */
import { createHash } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdir, realpath, rename, rm, stat } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { ReadableStream as WebReadable } from 'node:stream/web';
import type { Logger } from 'pino';
import {
  AppError,
  isAppError,
  type TaskAssignment,
  TRANSFER_CHECKSUM_HEADER,
  type TransferUrls,
} from '../core/index.js';
import type { OrchestratorClient } from './orchestrator-client.js';

export interface TransferHooks {
  /**
   * Before FFmpeg: the inputs fetched to where the local assignment reads them. `onBytes` hears
   * each piece that moves (the runner turns it into reports, so a long transfer is not taken
   * for a hung task).
   */
  fetch(a: TaskAssignment, signal: AbortSignal, onBytes?: () => void): Promise<void>;
  /** After a success, before the report: the outputs uploaded. */
  upload(a: TaskAssignment, signal: AbortSignal, onBytes?: () => void): Promise<void>;
  /** Whatever happened: the copies removed. */
  clean(a: TaskAssignment): Promise<void>;
}

const key = (a: Pick<TaskAssignment, 'task_id' | 'attempt'>) => `${a.task_id}#${a.attempt}`;

async function sha256(file: string, signal: AbortSignal): Promise<string> {
  const h = createHash('sha256');
  for await (const chunk of createReadStream(file, { signal })) h.update(chunk as Buffer);
  return h.digest('hex');
}

const failed = (why: string, cause?: unknown) =>
  new AppError('transfer_failed', why, cause === undefined ? undefined : { cause });

export class Transfers implements TransferHooks {
  readonly #client: OrchestratorClient;
  #root: string;
  readonly #log: Logger;

  constructor(o: { client: OrchestratorClient; root: string; logger: Logger }) {
    this.#client = o.client;
    this.#root = o.root;
    this.#log = o.logger;
  }

  get root(): string {
    return this.#root;
  }

  /**
   * At start: the folder made, emptied of copies a previous run left (its attempts are over; the
   * orchestrator re-queued them), and known by its real path, as the files under it are reported.
   */
  async sweep(): Promise<void> {
    await rm(this.#root, { recursive: true, force: true });
    await mkdir(this.#root, { recursive: true });
    this.#root = await realpath(this.#root);
  }

  /** The folder this attempt's copies live in. */
  mirror(a: Pick<TaskAssignment, 'task_id' | 'attempt'>): string {
    return join(this.#root, createHash('sha256').update(key(a)).digest('hex').slice(0, 16));
  }

  /** The orchestrator's path → this attempt's copy. */
  local(a: Pick<TaskAssignment, 'task_id' | 'attempt'>, path: string): string {
    return join(this.mirror(a), path);
  }

  /** This attempt's copy → the orchestrator's path (reports name the orchestrator's files). */
  remote(a: Pick<TaskAssignment, 'task_id' | 'attempt'>, path: string): string {
    const m = this.mirror(a);
    return path.startsWith(`${m}/`) ? path.slice(m.length) : path;
  }

  async #urls(a: TaskAssignment, signal: AbortSignal): Promise<TransferUrls> {
    return this.#client.transferUrls(a.task_id, a.attempt, signal);
  }

  /** A URL for one file, asked for when it is used: a long transfer outlives the URLs of the one before. */
  async #url(a: TaskAssignment, kind: 'downloads' | 'uploads', path: string, signal: AbortSignal) {
    const found = (await this.#urls(a, signal))[kind].find((x) => x.path === path);
    if (!found) throw failed(`the orchestrator gave no URL for ${path}`);
    return found.url;
  }

  async fetch(a: TaskAssignment, signal: AbortSignal, onBytes?: () => void): Promise<void> {
    const urls = await this.#urls(a, signal);
    for (const { path } of urls.downloads) {
      const d = { path, url: await this.#url(a, 'downloads', path, signal) };
      const dest = this.local(a, d.path);
      await mkdir(dirname(dest), { recursive: true });
      const part = `${dest}.part`;
      try {
        const res = await fetch(`${this.#client.url}${d.url}`, { signal, redirect: 'error' }).catch((e) => {
          throw failed(`cannot fetch ${d.path}: ${(e as Error).message}`, e);
        });
        if (res.status !== 200 || !res.body)
          throw failed(`fetching ${d.path}: the orchestrator answered ${res.status}`);
        const expected = Number(res.headers.get('content-length'));
        const body = Readable.fromWeb(res.body as WebReadable);
        if (onBytes) body.on('data', onBytes);
        await pipeline(body, createWriteStream(part));
        const got = (await stat(part)).size;
        if (Number.isFinite(expected) && got !== expected)
          throw failed(`fetching ${d.path}: ${got} bytes arrived of ${expected}`);
        await rename(part, dest);
      } catch (e) {
        if (signal.aborted || isAppError(e)) throw e;
        throw failed(`fetching ${d.path}: ${(e as Error).message}`, e);
      } finally {
        await rm(part, { force: true }).catch(() => {});
      }
    }
    this.#log.info(
      { task_id: a.task_id, files: urls.downloads.length },
      'inputs fetched from the orchestrator',
    );
  }

  async upload(a: TaskAssignment, signal: AbortSignal, onBytes?: () => void): Promise<void> {
    const urls = await this.#urls(a, signal);
    let sent = 0;
    for (const { path } of urls.uploads) {
      const file = this.local(a, path);
      // A series writes the pictures it has: a name planned but not written is not sent.
      const s = await stat(file).catch(() => null);
      if (!s?.isFile()) continue;
      const digest = await sha256(file, signal);
      const u = { path, url: await this.#url(a, 'uploads', path, signal) };
      const stream = createReadStream(file);
      if (onBytes) stream.on('data', onBytes);
      const res = await fetch(`${this.#client.url}${u.url}`, {
        method: 'PUT',
        headers: {
          'content-type': 'application/octet-stream',
          'content-length': String(s.size),
          [TRANSFER_CHECKSUM_HEADER]: digest,
        },
        body: Readable.toWeb(stream) as unknown as RequestInit['body'],
        duplex: 'half',
        redirect: 'error',
        signal,
      } as RequestInit).catch((e) => {
        throw failed(`cannot upload ${u.path}: ${(e as Error).message}`, e);
      });
      const text = await res.text();
      if (res.status !== 204)
        throw failed(`uploading ${u.path}: the orchestrator answered ${res.status} ${text}`);
      sent++;
    }
    this.#log.info({ task_id: a.task_id, files: sent }, 'outputs uploaded to the orchestrator');
  }

  async clean(a: TaskAssignment): Promise<void> {
    await rm(this.mirror(a), { recursive: true, force: true }).catch((e) =>
      this.#log.warn({ err: e, task_id: a.task_id }, 'could not remove the copies of a task'),
    );
  }
}
