/**
 * Ordered delivery of a worker's reports over a link that fails: one delivery at a time, oldest
 * first, retried with exponential backoff and full jitter (a fleet of workers coming back at once
 * does not hit the orchestrator in step).
 *
 * Durable entries (running, succeeded, failed, released) are in the journal, fsynced, before the
 * first attempt, and leave it only once delivered: a worker that dies meanwhile replays them on its
 * next start, before anything new. Delivery is at least once: a report the receiver took just
 * before a crash comes again, so the receiver must treat a repeat as a no-op (it answers `stale`).
 *
 * Non-durable entries (progress) are sent only when nothing waits ahead of them, and never retried:
 * a newer one follows soon, and an old progress behind a queue of reports would only be noise.
 *
 * `deliver` resolves with the receiver's answer, whatever it is, for an entry that is done with
 * (accepted, or refused for good: answer `stale` or the like); it rejects only when trying again
 * later may help (no connection, a 5xx). It gets a signal that `close` aborts, and should bound
 * its own wait (a request timeout): until it settles, nothing behind it moves.
 */
import type { Logger } from 'pino';
import { AppError } from '../core/index.js';
import type { Journal } from './journal.js';

export interface OutboxTimer {
  set(fn: () => void, ms: number): unknown;
  clear(handle: unknown): void;
}

export interface OutboxOptions<T, A> {
  journal: Journal<T>;
  deliver: (entry: T, signal: AbortSignal) => Promise<A>;
  logger: Pick<Logger, 'warn' | 'info' | 'error'>;
  backoff: { baseMs: number; maxMs: number };
  /** In [0, 1); Math.random by default. */
  random?: () => number;
  timer?: OutboxTimer;
}

interface Item<T, A> {
  entry: T;
  durable: boolean;
  /** Settles when the entry is in the journal (durable only). */
  journaled: Promise<void>;
  /** The caller of `send`; none for an entry replayed from an earlier run. */
  waiter?: { resolve: (a: A | 'dropped') => void; reject: (e: unknown) => void };
}

const realTimer: OutboxTimer = {
  set: (fn, ms) => setTimeout(fn, ms),
  clear: (h) => clearTimeout(h as NodeJS.Timeout),
};

export class Outbox<T, A = 'ok' | 'stale'> {
  readonly #o: OutboxOptions<T, A>;
  readonly #timer: OutboxTimer;
  readonly #random: () => number;
  readonly #queue: Item<T, A>[];
  #started = false;
  #closed = false;
  #pump: Promise<void> | null = null;
  #failures = 0;
  /** Delivered durable entries whose removal from the journal failed: taken with the next one. */
  #dropsOwed = 0;
  #abort = new AbortController();
  #wake: (() => void) | null = null;
  /** flush calls waiting: told true when the queue emptied by delivery, false when by close. */
  #emptyWaiters: ((delivered: boolean) => void)[] = [];

  constructor(options: OutboxOptions<T, A>) {
    this.#o = options;
    this.#timer = options.timer ?? realTimer;
    this.#random = options.random ?? Math.random;
    // What an earlier run left comes first; taken now, before any new append can land behind it.
    this.#queue = options.journal
      .entries()
      .map((entry) => ({ entry, durable: true, journaled: Promise.resolve() }));
  }

  /** Entries not yet delivered, the one being delivered included. */
  get pending(): number {
    return this.#queue.length;
  }

  start(): void {
    if (this.#started || this.#closed) return;
    this.#started = true;
    this.#kick();
  }

  /**
   * Queues an entry; the promise gives the receiver's answer, or `'dropped'` for a non-durable
   * entry that was not sent. A durable entry's promise rejects if the journal refuses it, or with
   * `shutting_down` if the outbox closes first (it stays in the journal for the next run).
   */
  send(
    entry: T,
    { durable, onJournaled }: { durable: boolean; onJournaled?: () => void },
  ): Promise<A | 'dropped'> {
    if (this.#closed) return Promise.reject(new AppError('shutting_down', 'outbox: closed'));
    if (!durable && (this.#queue.length > 0 || !this.#started)) return Promise.resolve('dropped');
    return new Promise((resolve, reject) => {
      const item: Item<T, A> = {
        entry,
        durable,
        journaled: durable ? this.#o.journal.append(entry) : Promise.resolve(),
        waiter: { resolve, reject },
      };
      item.journaled.catch(() => undefined); // handled where the pump awaits it
      // The caller may move on once the entry is safe on disk, before it is delivered.
      if (onJournaled) item.journaled.then(onJournaled, () => undefined);
      this.#queue.push(item);
      this.#kick();
    });
  }

  /** Ends a backoff wait now (e.g. the orchestrator answered a heartbeat). */
  retryNow(): void {
    this.#wake?.();
  }

  /**
   * For shutdown: tries at once, then waits until nothing is pending or `timeoutMs` passed.
   * True when everything was delivered.
   */
  flush(timeoutMs: number): Promise<boolean> {
    if (this.#queue.length === 0) return Promise.resolve(true);
    this.retryNow();
    return new Promise((resolve) => {
      const done = (delivered: boolean) => {
        this.#timer.clear(handle);
        resolve(delivered);
      };
      const handle = this.#timer.set(() => {
        this.#emptyWaiters = this.#emptyWaiters.filter((w) => w !== done);
        resolve(this.#queue.length === 0);
      }, timeoutMs);
      this.#emptyWaiters.push(done);
    });
  }

  /**
   * Stops delivering (an attempt under way is aborted) and waits for the journal writes asked for.
   * Durable entries not delivered stay in the journal; their senders get `shutting_down`. The
   * journal is the caller's to close afterwards. Idempotent.
   */
  async close(): Promise<void> {
    if (!this.#closed) {
      this.#closed = true;
      this.#abort.abort(new AppError('shutting_down', 'outbox: closed'));
      this.#wake?.();
    }
    await this.#pump;
    const left = this.#queue.splice(0);
    await Promise.allSettled(left.map((it) => it.journaled));
    for (const it of left) {
      if (it.durable)
        it.waiter?.reject(
          new AppError('shutting_down', 'outbox closed before delivery; the report stays in the journal'),
        );
      else it.waiter?.resolve('dropped');
    }
    for (const w of this.#emptyWaiters.splice(0)) w(false);
  }

  #kick(): void {
    if (this.#pump || !this.#started || this.#closed) return;
    this.#pump = this.#run().finally(() => {
      this.#pump = null;
      if (this.#queue.length > 0) this.#kick(); // something arrived as the loop ended
    });
  }

  async #run(): Promise<void> {
    while (!this.#closed && this.#queue.length > 0) {
      const item = this.#queue[0]!;
      try {
        await item.journaled;
      } catch (error) {
        this.#queue.shift(); // not in the journal, so nothing to drop for it there
        item.waiter?.reject(error);
        continue;
      }
      let answer: A;
      try {
        answer = await this.#o.deliver(item.entry, this.#abort.signal);
      } catch (error) {
        if (this.#closed) break;
        await this.#failed(item, error);
        continue;
      }
      if (this.#failures > 0)
        this.#o.logger.info(
          { failures: this.#failures, pending: this.#queue.length },
          'outbox: delivering again',
        );
      this.#failures = 0;
      this.#queue.shift();
      if (item.durable) await this.#dropDelivered();
      item.waiter?.resolve(answer);
    }
    this.#notifyIfEmpty();
  }

  async #failed(item: Item<T, A>, error: unknown): Promise<void> {
    this.#failures++;
    if (this.#failures === 1)
      this.#o.logger.warn(
        { err: error, pending: this.#queue.length },
        'outbox: delivery failed; reports are kept and retried with backoff',
      );
    if (!item.durable) {
      this.#queue.shift();
      item.waiter?.resolve('dropped');
    }
    if (this.#queue.length > 0) await this.#sleep(this.#delay());
  }

  /** Full jitter: uniform in [0, min(max, base · 2^(failures-1))). */
  #delay(): number {
    const { baseMs, maxMs } = this.#o.backoff;
    const ceiling = Math.min(maxMs, baseMs * 2 ** Math.min(this.#failures - 1, 30));
    return Math.floor(this.#random() * ceiling);
  }

  #sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const handle = this.#timer.set(() => {
        this.#wake = null;
        resolve();
      }, ms);
      this.#wake = () => {
        this.#timer.clear(handle);
        this.#wake = null;
        resolve();
      };
    });
  }

  async #dropDelivered(): Promise<void> {
    const n = this.#dropsOwed + 1;
    try {
      await this.#o.journal.drop(n);
      this.#dropsOwed = 0;
    } catch (error) {
      // Delivered all the same; the journal still holds it, so the next drop takes it too. If the
      // process dies first, the receiver sees it again (and answers stale).
      this.#dropsOwed = n;
      this.#o.logger.error({ err: error }, 'outbox: could not remove a delivered report from the journal');
    }
  }

  #notifyIfEmpty(): void {
    if (this.#queue.length > 0) return;
    for (const w of this.#emptyWaiters.splice(0)) w(true);
  }
}
