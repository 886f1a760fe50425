/**
 * `ffmpeg -hide_banner -encoders` and `-hwaccels` output → names. What a build lists is only what it
 * was compiled with: an encoder listed here may still fail on this machine (no GPU, no driver), so
 * the worker's prober test-encodes before it advertises one.
 */

export type EncoderKind = 'video' | 'audio' | 'subtitle';

export interface EncoderEntry {
  /** What `-c:v`/`-c:a` takes: `libx264`, `h264_nvenc`. */
  name: string;
  kind: EncoderKind;
  /** The codec it produces: `h264` for `libx264` and `h264_nvenc`; the encoder's own name when FFmpeg says nothing. */
  codec: string;
  description: string;
  /** Flag X: FFmpeg wants `-strict experimental` for it. */
  experimental: boolean;
}

const KINDS: Record<string, EncoderKind> = { V: 'video', A: 'audio', S: 'subtitle' };
// ` V....D libx264              libx264 H.264 / AVC ... (codec h264)`: six flag columns, name, description.
const LINE = /^ ([VAS])[F.][S.]([X.])[B.][D.] (\S+) +(.*)$/;
const CODEC = /\(codec (\S+)\)\s*$/;

export function parseEncoderList(text: string): EncoderEntry[] {
  const lines = text.split(/\r?\n/);
  // The legend above `------` uses the same flag layout (` V..... = Video`): start after it.
  const start = lines.findIndex((l) => l.trim() === '------');
  const entries: EncoderEntry[] = [];
  for (const line of lines.slice(start + 1)) {
    const m = LINE.exec(line);
    if (!m || m[3] === '=') continue;
    const description = (m[4] ?? '').trim();
    entries.push({
      name: m[3] ?? '',
      kind: KINDS[m[1] ?? 'V'] ?? 'video',
      codec: CODEC.exec(description)?.[1] ?? m[3] ?? '',
      description: description.replace(CODEC, '').trim(),
      experimental: m[2] === 'X',
    });
  }
  return entries;
}

/** `Hardware acceleration methods:` followed by one name a line. */
export function parseHwaccelList(text: string): string[] {
  const lines = text.split(/\r?\n/).map((l) => l.trim());
  const start = lines.findIndex((l) => /^Hardware acceleration methods:?$/i.test(l));
  return lines.slice(start + 1).filter((l) => /^[a-z0-9_]+$/.test(l));
}
