import { spawn } from 'node:child_process';
import { appendFileSync, mkdtempSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { describe, expect, it } from 'vitest';
import { Journal } from './journal.js';

const freshDir = () => mkdtempSync(join(tmpdir(), 'mf-journal-'));

/** A real pino logger whose lines the test reads back. */
function capturingLogger() {
  const lines: { msg: string }[] = [];
  const logger = pino({ level: 'warn' }, { write: (s: string) => lines.push(JSON.parse(s)) });
  return { logger, lines };
}

async function reopen<T>(dir: string, fn: (j: Journal<T>) => void | Promise<void>): Promise<Journal<T>> {
  const j = await Journal.open<T>(dir);
  try {
    await fn(j);
  } finally {
    await j.close();
  }
  return j;
}

describe('Journal', () => {
  it('keeps appended entries in order across a reopen, as JSON gives them back', async () => {
    const dir = freshDir();
    const j = await Journal.open<unknown>(dir);
    const at = new Date(0);
    await j.append({ type: 'running', task: 't1' });
    await j.append({ type: 'succeeded', at });
    await j.append('text with\nnewline and ünïcödé');
    await j.append(42);
    expect(j.entries()).toEqual([
      { type: 'running', task: 't1' },
      { type: 'succeeded', at: at.toISOString() },
      'text with\nnewline and ünïcödé',
      42,
    ]);
    await j.close();
    await reopen(dir, (k) => {
      expect(k.entries()).toEqual(j.entries());
      expect(k.recovery).toEqual({ truncatedBytes: 0, skippedRecords: 0 });
    });
  });

  it('writes appends asked for at once in call order', async () => {
    const dir = freshDir();
    const j = await Journal.open<number>(dir);
    await Promise.all(Array.from({ length: 50 }, (_, i) => j.append(i)));
    await j.close();
    await reopen<number>(dir, (k) => expect(k.entries()).toEqual(Array.from({ length: 50 }, (_, i) => i)));
  });

  it('refuses what is not JSON and stays usable', async () => {
    const j = await Journal.open<unknown>(freshDir());
    await expect(j.append(undefined)).rejects.toThrow(/JSON value/);
    await j.append('next');
    expect(j.entries()).toEqual(['next']);
    await j.close();
  });

  it('drops the oldest entries for good; dropping all leaves an empty file', async () => {
    const dir = freshDir();
    const j = await Journal.open<number>(dir);
    for (let i = 0; i < 5; i++) await j.append(i);
    await j.drop(2);
    expect(j.entries()).toEqual([2, 3, 4]);
    await expect(j.drop(4)).rejects.toMatchObject({ code: 'internal_error' });
    await j.close();
    await reopen<number>(dir, async (k) => {
      expect(k.entries()).toEqual([2, 3, 4]);
      await k.drop(3);
      expect(k.length).toBe(0);
    });
    expect(statSync(join(dir, 'journal.jsonl')).size).toBe(0);
    await reopen<number>(dir, async (k) => {
      expect(k.entries()).toEqual([]);
      await k.append(9);
    });
    await reopen<number>(dir, (k) => expect(k.entries()).toEqual([9]));
  });

  it('compacts the file once acknowledgements outnumber live entries', async () => {
    const dir = freshDir();
    const file = join(dir, 'journal.jsonl');
    const j = await Journal.open<{ i: number; pad: string }>(dir, { compactAfter: 10 });
    for (let i = 0; i < 30; i++) await j.append({ i, pad: 'x'.repeat(100) });
    const full = statSync(file).size;
    for (let i = 0; i < 20; i++) await j.drop(1);
    // 10 live entries of the 30: the file was rewritten, so it is about a third of its size.
    expect(statSync(file).size).toBeLessThan(full / 2);
    expect(readdirSync(dir)).toEqual(['journal.jsonl']); // no temporary file left behind
    await j.append({ i: 30, pad: '' }); // appends go to the new file, not the replaced one
    await j.close();
    await reopen<{ i: number }>(dir, (k) =>
      expect(k.entries().map((e) => e.i)).toEqual(Array.from({ length: 11 }, (_, n) => 20 + n)),
    );
  });

  it('cuts off a torn last record and goes on appending after the good ones', async () => {
    const dir = freshDir();
    const file = join(dir, 'journal.jsonl');
    await reopen<string>(dir, async (j) => {
      await j.append('a');
      await j.append('b');
    });
    const good = readFileSync(file);
    const lastLine = good.subarray(good.indexOf('\n') + 1);
    appendFileSync(file, lastLine.subarray(0, 7)); // a record cut short by a crash
    const { logger, lines } = capturingLogger();
    const j = await Journal.open<string>(dir, { logger });
    expect(j.recovery).toEqual({ truncatedBytes: 7, skippedRecords: 0 });
    expect(j.entries()).toEqual(['a', 'b']);
    expect(statSync(file).size).toBe(good.length);
    expect(lines.map((l) => l.msg)).toEqual([expect.stringMatching(/torn last record/)]);
    await j.append('c');
    await j.close();
    await reopen<string>(dir, (k) => expect(k.entries()).toEqual(['a', 'b', 'c']));
  });

  it('treats a last line whose bytes never reached the disk (zeros) as torn too', async () => {
    const dir = freshDir();
    const file = join(dir, 'journal.jsonl');
    await reopen<string>(dir, (j) => j.append('a'));
    const size = statSync(file).size;
    appendFileSync(file, Buffer.concat([Buffer.alloc(40), Buffer.from('\n')]));
    await reopen<string>(dir, (j) => {
      expect(j.recovery.truncatedBytes).toBe(41);
      expect(j.entries()).toEqual(['a']);
    });
    expect(statSync(file).size).toBe(size);
  });

  it('skips a damaged record in the middle with a warning, keeps the rest, and rewrites the file', async () => {
    const dir = freshDir();
    const file = join(dir, 'journal.jsonl');
    await reopen<string>(dir, async (j) => {
      for (const s of ['one', 'two', 'three']) await j.append(s);
    });
    const text = readFileSync(file, 'utf8');
    writeFileSync(file, text.replace('"two"', '"tWo"')); // same length, checksum no longer matches
    const { logger, lines } = capturingLogger();
    await reopen<string>(dir, (j) => {
      expect(j.recovery).toEqual({ truncatedBytes: 0, skippedRecords: 1 });
      expect(j.entries()).toEqual(['one', 'three']);
    });
    const j = await Journal.open<string>(dir, { logger });
    expect(j.recovery).toEqual({ truncatedBytes: 0, skippedRecords: 0 }); // the first open rewrote it
    await j.close();
    expect(lines).toEqual([]);
    writeFileSync(file, readFileSync(file, 'utf8').replace('"one"', '"0ne"'));
    const k = await Journal.open<string>(dir, { logger });
    expect(k.entries()).toEqual(['three']);
    await k.close();
    expect(lines.map((l) => l.msg)).toEqual([expect.stringMatching(/damaged records in the middle/)]);
  });

  it('close is idempotent and later calls are refused', async () => {
    const j = await Journal.open<number>(freshDir());
    const pending = j.append(1);
    await Promise.all([j.close(), j.close()]);
    await pending; // asked for before close: done, not dropped
    await expect(j.append(2)).rejects.toMatchObject({ code: 'internal_error' });
    await j.close();
  });
});

// ------------------------------------------------------------ a real crash: SIGKILL mid-append

/**
 * The child appends numbered entries (sizes up to 200 kB, so a kill often lands inside a write)
 * and drops from the front now and then (compactAfter 8, so it also rewrites the file), printing
 * each confirmed step: `a <i>` after append(i) resolved, `D <i>` before a drop through entry i and
 * `d <i>` once it resolved. Node runs the TypeScript source; the hook maps `./x.js` to `./x.ts`
 * as the bench scripts do.
 */
const CHILD = `
import { registerHooks } from 'node:module';
registerHooks({
  resolve(specifier, context, nextResolve) {
    try {
      return nextResolve(specifier, context);
    } catch (error) {
      if (specifier.startsWith('.') && specifier.endsWith('.js'))
        return nextResolve(specifier.slice(0, -3) + '.ts', context);
      throw error;
    }
  },
});
const { Journal } = await import(process.argv[2]);
const j = await Journal.open(process.argv[3], { compactAfter: 8 });
const have = j.entries();
let i = have.length > 0 ? have[have.length - 1].i + 1 : Number(process.argv[4]);
const say = (line) => new Promise((r) => process.stdout.write(line + '\\n', r));
for (let op = 1; ; op++) {
  await j.append({ i, pad: ${padFor.toString()}(i) });
  await say('a ' + i);
  i++;
  const n = op % 40 === 0 ? j.length : op % 4 === 0 ? Math.min(3, j.length) : 0;
  if (n > 0) {
    const through = j.entries()[n - 1].i;
    await say('D ' + through);
    await j.drop(n);
    await say('d ' + through);
  }
}
`;

function padFor(i: number): string {
  return String.fromCharCode(97 + (i % 26)).repeat((i * 7919) % 200_000);
}

interface Round {
  lastAppended: number; // -1: none
  lastDropped: number; // -1: none confirmed
  dropInFlight: number | null;
}

async function runChildUntilKilled(dir: string, start: number, steps: number): Promise<Round> {
  const script = join(dir, '..', `${Date.now()}-child.mjs`);
  writeFileSync(script, CHILD);
  const journalUrl = new URL('./journal.ts', import.meta.url).href;
  const child = spawn(
    process.execPath,
    [
      '--experimental-transform-types',
      '--disable-warning=ExperimentalWarning',
      script,
      journalUrl,
      dir,
      String(start),
    ],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  const round: Round = { lastAppended: -1, lastDropped: -1, dropInFlight: null };
  let stderr = '';
  let buffered = '';
  let seen = 0;
  child.stderr.on('data', (b: Buffer) => {
    stderr += b.toString();
  });
  child.stdout.on('data', (b: Buffer) => {
    buffered += b.toString();
    let nl = buffered.indexOf('\n');
    while (nl !== -1) {
      const [kind, n] = buffered.slice(0, nl).split(' ');
      buffered = buffered.slice(nl + 1);
      nl = buffered.indexOf('\n');
      if (kind === 'a') round.lastAppended = Number(n);
      if (kind === 'D') round.dropInFlight = Number(n);
      if (kind === 'd') {
        round.lastDropped = Number(n);
        round.dropInFlight = null;
      }
      if (++seen === steps) child.kill('SIGKILL');
    }
  });
  const [code, signal] = await new Promise<[number | null, NodeJS.Signals | null]>((resolve) =>
    child.on('close', (c, s) => resolve([c, s])),
  );
  if (signal !== 'SIGKILL') throw new Error(`child ended by itself (${code}): ${stderr.slice(-2000)}`);
  return round;
}

describe('Journal after SIGKILL', () => {
  it('holds every confirmed entry, in order, ungarbled, over several kill/reopen rounds', async () => {
    const dir = join(freshDir(), 'journal');
    let lastAppended = -1;
    let lastDropped = -1;
    for (let r = 0; r < 4; r++) {
      const steps = 40 + ((r * 37) % 60);
      const round = await runChildUntilKilled(dir, lastAppended + 1, steps);
      expect(round.lastAppended).toBeGreaterThan(lastAppended); // the child made progress
      lastAppended = round.lastAppended;
      lastDropped = Math.max(lastDropped, round.lastDropped);
      const j = await Journal.open<{ i: number; pad: string }>(dir);
      const got = j.entries();
      await j.close();
      expect(j.recovery.skippedRecords).toBe(0);
      // Nothing garbled: each entry is exactly what the child wrote.
      for (const e of got) expect(e.pad === padFor(e.i), `entry ${e.i} intact`).toBe(true);
      // In order, without gaps: a contiguous run of numbers.
      expect(got.map((e) => e.i)).toEqual(got.map((_, k) => got[0]!.i + k));
      // The newest: every confirmed append, plus at most the one that was being written.
      const newest = got.at(-1)?.i ?? -1;
      const dropFloor = round.dropInFlight ?? lastDropped;
      if (got.length > 0) {
        expect([lastAppended, lastAppended + 1]).toContain(newest);
        // The oldest: right after the last confirmed drop, or after the drop that was in flight.
        expect([lastDropped + 1, dropFloor + 1]).toContain(got[0]!.i);
      } else {
        // All gone: only if a drop (confirmed or in flight) covered every confirmed append.
        expect(Math.max(lastDropped, dropFloor)).toBeGreaterThanOrEqual(lastAppended);
      }
      lastAppended = Math.max(lastAppended, newest);
      if (got.length > 0) lastDropped = got[0]!.i - 1;
      else lastDropped = lastAppended;
    }
  });
});
