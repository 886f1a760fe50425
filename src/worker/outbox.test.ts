import { mkdtempSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { Journal } from './journal.js';
import { Outbox, type OutboxTimer } from './outbox.js';

type Report = { n: number | string };

/** A stand-in for the orchestrator's events route: a real HTTP server on 127.0.0.1. */
class Receiver {
  readonly accepted: Report[] = [];
  /** Answer 503 to this many requests first. */
  failNext = 0;
  port = 0;
  #server: http.Server | null = null;

  async start(): Promise<void> {
    const server = http.createServer((req, res) => {
      let body = '';
      req.on('data', (c: Buffer) => {
        body += c.toString();
      });
      req.on('end', () => {
        if (this.failNext > 0) {
          this.failNext--;
          res.writeHead(503).end();
          return;
        }
        this.accepted.push(JSON.parse(body));
        res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ answer: 'ok' }));
      });
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen({ host: '127.0.0.1', port: this.port }, resolve);
    });
    this.port = (server.address() as AddressInfo).port;
    this.#server = server;
  }

  async stop(): Promise<void> {
    const server = this.#server;
    this.#server = null;
    if (!server) return;
    server.closeAllConnections(); // kept-alive sockets too: the port is really down
    await new Promise((resolve) => server.close(resolve));
  }

  /** What the worker will do: POST the report; a network error or a 5xx rejects (retry later). */
  deliver = async (entry: Report, signal: AbortSignal): Promise<'ok' | 'stale'> => {
    const res = await fetch(`http://127.0.0.1:${this.port}/api/v1/tasks/t/events`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(entry),
      signal: AbortSignal.any([signal, AbortSignal.timeout(10_000)]),
    });
    if (res.status >= 500) throw new Error(`HTTP ${res.status}`);
    return ((await res.json()) as { answer: 'ok' | 'stale' }).answer;
  };
}

function capturingLogger() {
  const lines: { level: number; msg: string }[] = [];
  const logger = pino({ level: 'info' }, { write: (s: string) => lines.push(JSON.parse(s)) });
  return { logger, lines };
}

async function until(what: string, test: () => boolean, timeoutMs = 15_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!test()) {
    if (Date.now() > end) throw new Error(`timed out waiting until ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function setUp(options: { dir?: string; backoff?: { baseMs: number; maxMs: number } } = {}) {
  const receiver = new Receiver();
  const journal = await Journal.open<Report>(options.dir ?? mkdtempSync(join(tmpdir(), 'mf-outbox-')));
  const { logger, lines } = capturingLogger();
  let failures = 0;
  const outbox = new Outbox<Report>({
    journal,
    deliver: (e, signal) =>
      receiver.deliver(e, signal).catch((error) => {
        failures++;
        throw error;
      }),
    logger,
    backoff: options.backoff ?? { baseMs: 5, maxMs: 40 },
  });
  cleanups.push(async () => {
    await outbox.close();
    await journal.close();
    await receiver.stop();
  });
  return { receiver, journal, outbox, lines, failures: () => failures };
}

describe('Outbox over a real HTTP link', () => {
  it('delivers what was sent while the receiver was down once it is back: in order, each once', async () => {
    const { receiver, journal, outbox, lines, failures } = await setUp();
    await receiver.start();
    outbox.start();
    expect(await outbox.send({ n: 1 }, { durable: true })).toBe('ok');
    expect(await outbox.send({ n: 'progress-1' }, { durable: false })).toBe('ok');

    await receiver.stop();
    const sent = [2, 3, 4, 5].map((n) => outbox.send({ n }, { durable: true }));
    // Progress behind queued reports is not kept: a newer one will follow.
    expect(await outbox.send({ n: 'progress-2' }, { durable: false })).toBe('dropped');
    await until('three failed attempts', () => failures() >= 3);
    await until('the four reports on disk', () => journal.length === 4); // each fsync takes its time
    expect(journal.entries()).toEqual([{ n: 2 }, { n: 3 }, { n: 4 }, { n: 5 }]);
    expect(outbox.pending).toBe(4);

    receiver.failNext = 1; // the first answer after the restart is a 503: retried too
    await receiver.start(); // same port
    expect(await Promise.all(sent)).toEqual(['ok', 'ok', 'ok', 'ok']);
    expect(receiver.accepted.map((r) => r.n)).toEqual([1, 'progress-1', 2, 3, 4, 5]);
    expect(journal.length).toBe(0);
    expect(outbox.pending).toBe(0);
    // One warning for the outage, not one per attempt; one line when it is over.
    expect(lines.filter((l) => /delivery failed/.test(l.msg))).toHaveLength(1);
    expect(lines.filter((l) => /delivering again/.test(l.msg))).toHaveLength(1);
  });

  it('drops a progress the link could not carry, and does not send it later', async () => {
    const { receiver, outbox } = await setUp();
    await receiver.start();
    await receiver.stop();
    outbox.start();
    expect(await outbox.send({ n: 'progress' }, { durable: false })).toBe('dropped');
    await receiver.start();
    expect(await outbox.send({ n: 'report' }, { durable: true })).toBe('ok');
    expect(receiver.accepted).toEqual([{ n: 'report' }]);
  });

  it('replays, on a new outbox over the same journal, what a closed one had not delivered', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'mf-outbox-'));
    const first = await setUp({ dir });
    await first.receiver.start();
    const port = first.receiver.port;
    await first.receiver.stop();
    first.outbox.start();
    const outcomes = [1, 2, 3].map((n) =>
      first.outbox.send({ n }, { durable: true }).then(
        (a) => a,
        (e: { code?: string }) => e.code,
      ),
    );
    await until('a failed attempt', () => first.failures() >= 1);
    expect(await first.outbox.flush(50)).toBe(false); // still down: nothing delivered
    const flushing = first.outbox.flush(60_000);
    await first.outbox.close(); // the worker stops (or dies) here
    expect(await flushing).toBe(false); // emptied by close, not by delivery
    await first.outbox.close();
    expect(await Promise.all(outcomes)).toEqual(['shutting_down', 'shutting_down', 'shutting_down']);
    await expect(first.outbox.send({ n: 9 }, { durable: true })).rejects.toMatchObject({
      code: 'shutting_down',
    });
    await first.journal.close();

    const second = await setUp({ dir });
    second.receiver.port = port;
    await second.receiver.start();
    const fourth = second.outbox.send({ n: 4 }, { durable: true }); // before start: still after the replay
    expect(second.outbox.pending).toBe(4);
    second.outbox.start();
    expect(await second.outbox.flush(15_000)).toBe(true);
    expect(await fourth).toBe('ok');
    expect(second.receiver.accepted.map((r) => r.n)).toEqual([1, 2, 3, 4]);
    expect(second.journal.length).toBe(0);
    expect(first.receiver.accepted).toEqual([]);
  });

  it('retryNow ends a long backoff wait at once', async () => {
    const { receiver, outbox, failures } = await setUp({ backoff: { baseMs: 120_000, maxMs: 120_000 } });
    await receiver.start();
    await receiver.stop();
    outbox.start();
    const sent = outbox.send({ n: 1 }, { durable: true });
    await until('a failed attempt', () => failures() >= 1);
    await receiver.start();
    outbox.retryNow(); // without it, the next attempt would be minutes away and the test would time out
    expect(await sent).toBe('ok');
    expect(receiver.accepted).toEqual([{ n: 1 }]);
  });

  it('rejects a durable entry the journal refuses, and goes on with the next', async () => {
    const { receiver, journal, outbox } = await setUp();
    await receiver.start();
    outbox.start();
    await journal.close();
    await expect(outbox.send({ n: 1 }, { durable: true })).rejects.toMatchObject({ code: 'internal_error' });
    expect(await outbox.send({ n: 2 }, { durable: false })).toBe('ok');
    expect(receiver.accepted).toEqual([{ n: 2 }]);
  });
});

describe('Outbox backoff', () => {
  it('waits base · 2^k times the jitter, capped at max, and starts over after a success', async () => {
    const journal = await Journal.open<Report>(mkdtempSync(join(tmpdir(), 'mf-outbox-')));
    const waits: { ms: number; fire: () => void }[] = [];
    const timer: OutboxTimer = { set: (fire, ms) => waits.push({ ms, fire }), clear: () => undefined };
    let failuresLeft = 7;
    const outbox = new Outbox<Report>({
      journal,
      deliver: async () => {
        if (failuresLeft-- > 0) throw new Error('ECONNREFUSED');
        return 'ok';
      },
      logger: pino({ level: 'silent' }),
      backoff: { baseMs: 100, maxMs: 1000 },
      random: () => 0.5,
      timer,
    });
    outbox.start();
    const first = outbox.send({ n: 1 }, { durable: true });
    for (let k = 0; k < 7; k++) {
      await until(`wait ${k + 1}`, () => waits.length > k);
      waits[k]!.fire();
    }
    expect(await first).toBe('ok');
    expect(waits.map((w) => w.ms)).toEqual([50, 100, 200, 400, 500, 500, 500]);
    failuresLeft = 1;
    const second = outbox.send({ n: 2 }, { durable: true });
    await until('the wait after a new failure', () => waits.length > 7);
    expect(waits[7]!.ms).toBe(50);
    waits[7]!.fire();
    expect(await second).toBe('ok');
    await outbox.close();
    await journal.close();
  });
});
