/**
 * The journal's file format: JSON Lines, each line `<crc32 as 8 hex digits> <json>\n`.
 *
 * Why lines and not length-prefixed records: JSON.stringify never emits a raw newline, so the
 * newline alone frames a record unambiguously, and the file stays readable with `cat` and `jq`
 * when someone has to look at a stuck worker. The checksum covers the JSON bytes: a record torn by
 * a crash (the end missing, or a block of zeros where the data never reached the disk) fails it.
 *
 * Two kinds of record: `{"s": seq, "e": entry}` appends an entry with the next sequence number;
 * `{"d": seq}` says every entry up to that number was dropped (an acknowledgement costs one small
 * append instead of a rewrite). Numbers, not counts, so that a damaged record costs only itself.
 */
import { crc32 } from 'node:zlib';

export type JournalRecord =
  | { kind: 'entry'; seq: number; value: unknown }
  | { kind: 'drop'; through: number };

const NEWLINE = 0x0a;
const SPACE = 0x20;
const HEX8 = /^[0-9a-f]{8}$/;

export function encodeEntry(seq: number, value: unknown): Buffer {
  // JSON.stringify(undefined / a function) leaves the key out: the entry would come back as undefined.
  if (JSON.stringify(value) === undefined) throw new TypeError('a journal entry must be a JSON value');
  return frame(JSON.stringify({ s: seq, e: value }));
}

export function encodeDrop(through: number): Buffer {
  return frame(JSON.stringify({ d: through }));
}

function frame(json: string): Buffer {
  const payload = Buffer.from(json, 'utf8');
  const head = Buffer.from(`${crc32(payload).toString(16).padStart(8, '0')} `, 'latin1');
  return Buffer.concat([head, payload, Buffer.from([NEWLINE])]);
}

const isSeq = (v: unknown): v is number => Number.isSafeInteger(v) && (v as number) >= 0;

/** One line without its newline → the record, or null when it is torn or damaged. */
export function decodeLine(line: Buffer): JournalRecord | null {
  if (line.length < 10 || line[8] !== SPACE) return null;
  const hex = line.subarray(0, 8).toString('latin1');
  if (!HEX8.test(hex)) return null;
  const payload = line.subarray(9);
  if (crc32(payload) !== Number.parseInt(hex, 16)) return null;
  let o: { s?: unknown; e?: unknown; d?: unknown };
  try {
    o = JSON.parse(payload.toString('utf8'));
  } catch {
    return null;
  }
  if (typeof o !== 'object' || o === null) return null;
  const keys = Object.keys(o).sort().join(',');
  if (keys === 'e,s' && isSeq(o.s)) return { kind: 'entry', seq: o.s, value: o.e };
  if (keys === 'd' && isSeq(o.d)) return { kind: 'drop', through: o.d };
  return null;
}

export interface JournalItem {
  seq: number;
  value: unknown;
}

export interface ScannedJournal {
  /** Live entries, oldest first, after applying the drop records. */
  items: JournalItem[];
  /** The sequence number the next entry gets. */
  nextSeq: number;
  /** Records in the good part of the file that no longer count (dropped entries, drop records). */
  deadRecords: number;
  /** Byte length of the good part: everything after it is a torn tail. */
  goodLength: number;
  /** 1-based line numbers of damaged records followed by good ones (not a crash's doing). */
  damagedLines: number[];
}

/**
 * Reads a whole journal file. The one record a crash can tear is the last one written (appends
 * are sequential, each fsynced before the next starts), so damage after the last good record is a
 * torn tail; damage before a good record is something else (a bad disk, an outside edit).
 */
export function scanJournal(buf: Buffer): ScannedJournal {
  const items: JournalItem[] = [];
  let nextSeq = 0;
  let deadRecords = 0;
  let goodLength = 0;
  const damagedLines: number[] = [];
  let pendingDamage: number[] = [];
  let start = 0;
  let lineNo = 0;
  while (start < buf.length) {
    const nl = buf.indexOf(NEWLINE, start);
    if (nl === -1) break; // no newline: the end of a record that was being written
    lineNo++;
    const rec = decodeLine(buf.subarray(start, nl));
    // Sequence numbers only grow: one that goes back was not written by us.
    if (rec === null || (rec.kind === 'entry' && rec.seq < nextSeq)) {
      pendingDamage.push(lineNo);
    } else {
      damagedLines.push(...pendingDamage);
      pendingDamage = [];
      if (rec.kind === 'entry') {
        items.push({ seq: rec.seq, value: rec.value });
        nextSeq = rec.seq + 1;
      } else {
        let k = 0;
        while (k < items.length && items[k]!.seq <= rec.through) k++;
        items.splice(0, k);
        deadRecords += k + 1;
      }
      goodLength = nl + 1;
    }
    start = nl + 1;
  }
  return { items, nextSeq, deadRecords, goodLength, damagedLines };
}
