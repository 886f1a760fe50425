/**
 * FFmpeg's `-progress pipe:1` stream: blocks of `key=value` lines, each block closed by
 * `progress=continue` (or `progress=end` for the last one). Output arrives in arbitrary chunks, so
 * the parser keeps the unfinished line between pushes.
 *
 * Values are not always numbers: `bitrate=N/A`, `total_size=N/A` (e.g. output to `-f null`),
 * `speed=N/A` (nothing muxed yet), `speed=   0x` (padded), `speed=4e+04x` (printf `%g`), and
 * FFmpeg ≥ 6 prints `out_time_us=N/A` before the first packet. FFmpeg 5.1 instead starts from
 * `INT64_MIN + 1` when no stream has a timestamp yet, i.e. a huge negative `out_time_us`: a
 * negative time is "unknown" here, never a position.
 */

export interface ProgressBlock {
  /** The block's keys as FFmpeg wrote them (last value wins), including `progress`. */
  values: Readonly<Record<string, string>>;
  /** `progress=end`: FFmpeg's final report. */
  end: boolean;
}

export interface Progress {
  /** Seconds of output written so far; null while unknown. */
  outTimeSeconds: number | null;
  /** 0..100 of the expected duration; null when either is unknown. */
  percent: number | null;
  fps: number | null;
  /** Media seconds per wall-clock second, averaged by FFmpeg over the whole run. */
  speed: number | null;
  frame: number | null;
  totalSizeBytes: number | null;
  /** Wall-clock seconds left, from the remaining media time and the speed; 0 once done. */
  etaSeconds: number | null;
  done: boolean;
}

/** A line longer than this is not FFmpeg's progress output: drop it rather than grow without bound. */
const MAX_LINE = 4096;
/** The same guard for a block that never ends. */
const MAX_KEYS = 256;

export interface ProgressParser {
  /** Feed a chunk; returns the blocks it completed (often none, sometimes several). */
  push(chunk: string): ProgressBlock[];
}

export function createProgressParser(): ProgressParser {
  let partial = '';
  let values: Record<string, string> = {};
  let keys = 0;

  const line = (raw: string, out: ProgressBlock[]): void => {
    const text = raw.endsWith('\r') ? raw.slice(0, -1) : raw;
    const eq = text.indexOf('=');
    if (eq <= 0) return;
    const key = text.slice(0, eq).trim();
    const value = text.slice(eq + 1).trim();
    if (key === 'progress') {
      out.push({ values: { ...values, progress: value }, end: value === 'end' });
      values = {};
      keys = 0;
      return;
    }
    if (!(key in values)) {
      if (keys >= MAX_KEYS) return;
      keys++;
    }
    values[key] = value;
  };

  return {
    push(chunk) {
      const out: ProgressBlock[] = [];
      const lines = (partial + chunk).split('\n');
      partial = lines.pop() ?? '';
      if (partial.length > MAX_LINE) partial = '';
      for (const l of lines) if (l.length <= MAX_LINE) line(l, out);
      return out;
    },
  };
}

/** A finite number, or null for `N/A`, empty or garbage. */
function numberOf(v: string | undefined): number | null {
  if (v === undefined) return null;
  const s = v.trim();
  if (s === '' || s === 'N/A') return null;
  const n = Number(s);
  return Number.isFinite(n) ? n : null;
}

/** `HH:MM:SS.micro` → seconds; null for `N/A` and negative times. */
function clockSeconds(v: string | undefined): number | null {
  const m = v === undefined ? null : /^(\d+):(\d{2}):(\d{2}(?:\.\d+)?)$/.exec(v.trim());
  return m ? Number(m[1]) * 3600 + Number(m[2]) * 60 + Number(m[3]) : null;
}

function outTimeOf(values: Readonly<Record<string, string>>): number | null {
  // out_time_ms is microseconds too (a long-standing FFmpeg misnomer), so both read the same.
  for (const key of ['out_time_us', 'out_time_ms']) {
    const us = numberOf(values[key]);
    if (us !== null) return us >= 0 ? us / 1e6 : null;
  }
  return clockSeconds(values.out_time);
}

export function toProgress(block: ProgressBlock, expectedDurationSeconds: number | null): Progress {
  const v = block.values;
  const outTimeSeconds = outTimeOf(v);
  const expected =
    expectedDurationSeconds !== null && expectedDurationSeconds > 0 ? expectedDurationSeconds : null;
  const percent =
    expected !== null && outTimeSeconds !== null
      ? Math.min(100, Math.max(0, (outTimeSeconds / expected) * 100))
      : null;
  const speedText = v.speed?.trim();
  const speed = numberOf(speedText?.endsWith('x') ? speedText.slice(0, -1) : speedText);
  const size = numberOf(v.total_size);
  let etaSeconds: number | null = null;
  if (block.end) etaSeconds = 0;
  else if (expected !== null && outTimeSeconds !== null && speed !== null && speed > 0) {
    etaSeconds = Math.max(0, (expected - outTimeSeconds) / speed);
  }
  return {
    outTimeSeconds,
    percent,
    fps: numberOf(v.fps),
    speed: speed !== null && speed >= 0 ? speed : null,
    frame: numberOf(v.frame),
    totalSizeBytes: size !== null && size >= 0 ? size : null,
    etaSeconds,
    done: block.end,
  };
}
