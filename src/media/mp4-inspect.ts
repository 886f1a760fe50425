/**
 * Reads what the output check needs from an MP4/MOV/M4A file in-process: the moov box (tracks,
 * codecs, sizes, durations, rotation) and whether every sample it indexes lies inside the file.
 * A short job should not pay a second ffprobe start-up (~100 ms) to learn this; anything this
 * reader does not understand returns null and the caller asks ffprobe.
 */
import { constants } from 'node:fs';
import { open, stat } from 'node:fs/promises';
import { type MediaInfo, type Rational, reduce, type StreamInfo } from '../core/index.js';
import { avcCSize } from './h264-sps.js';

interface Box {
  type: string;
  start: number; // offset of the payload in `buf`
  end: number;
}

function* boxes(buf: Buffer, from: number, to: number): Generator<Box> {
  let p = from;
  while (p + 8 <= to) {
    let size = buf.readUInt32BE(p);
    const type = buf.toString('latin1', p + 4, p + 8);
    let header = 8;
    if (size === 1) {
      if (p + 16 > to) return;
      size = Number(buf.readBigUInt64BE(p + 8));
      header = 16;
    } else if (size === 0) size = to - p;
    if (size < header || p + size > to) return;
    yield { type, start: p + header, end: p + size };
    p += size;
  }
}

const child = (buf: Buffer, b: Box, type: string, skip = 0) => {
  for (const c of boxes(buf, b.start + skip, b.end)) if (c.type === type) return c;
  return undefined;
};
const path = (buf: Buffer, b: Box | undefined, ...types: string[]) => {
  let cur = b;
  for (const t of types) cur = cur && child(buf, cur, t);
  return cur;
};

const VIDEO: Record<string, string> = {
  avc1: 'h264',
  avc3: 'h264',
  hvc1: 'hevc',
  hev1: 'hevc',
  vp09: 'vp9',
  av01: 'av1',
  mp4v: 'mpeg4',
};
const AUDIO: Record<string, string> = {
  Opus: 'opus',
  fLaC: 'flac',
  'ac-3': 'ac3',
  'ec-3': 'eac3',
  alac: 'alac',
  '.mp3': 'mp3',
};

/** An MPEG-4 descriptor inside esds: tag, a length of 1-4 bytes (7 bits each), then the payload. */
function descriptor(
  buf: Buffer,
  from: number,
  to: number,
  tag: number,
): { start: number; end: number } | null {
  let p = from;
  while (p < to) {
    const t = buf[p]!;
    let len = 0;
    let q = p + 1;
    for (let k = 0; k < 4 && q < to; k++) {
      const b = buf[q++]!;
      len = (len << 7) | (b & 0x7f);
      if ((b & 0x80) === 0) break;
    }
    if (t === tag) return { start: q, end: Math.min(to, q + len) };
    // ES_Descriptor (3) nests the others after its 3-byte header; DecoderConfig (4) after 13 bytes.
    if (t === 3) p = q + 3;
    else if (t === 4) p = q + 13;
    else p = q + len;
  }
  return null;
}

/** mp4a carries AAC or MP3 (the object type says which); AAC's channels are in its AudioSpecificConfig. */
function mp4aStream(buf: Buffer, entry: Box): { codec: string; channels?: number } | null {
  // QuickTime's version-1 sound description has 16 more bytes and keeps esds inside a wave box.
  const version = buf.readUInt16BE(entry.start + 8);
  if (version > 1) return null;
  const skip = 28 + (version === 1 ? 16 : 0);
  const wave = child(buf, entry, 'wave', skip);
  const esds = child(buf, entry, 'esds', skip) ?? (wave && child(buf, wave, 'esds'));
  if (!esds) return null;
  const dcd = descriptor(buf, esds.start + 4, esds.end, 4);
  if (!dcd) return null;
  const oti = buf[dcd.start];
  if (oti === 0x6b || oti === 0x69) return { codec: 'mp3' };
  if (oti !== 0x40 && oti !== 0x66 && oti !== 0x67 && oti !== 0x68) return null;
  const asc = descriptor(buf, dcd.start + 13, dcd.end, 5);
  if (!asc || asc.end - asc.start < 2) return { codec: 'aac' };
  // 5 bits object type, 4 bits frequency index (15: 24 more bits of frequency), 4 bits channel configuration.
  const bits = buf.readUInt32BE(asc.start) >>> 0;
  const freqIndex = (bits >>> 23) & 0xf;
  const config =
    freqIndex === 15 ? ((buf.readUInt32BE(asc.start + 3) >>> 0) >>> 23) & 0xf : (bits >>> 19) & 0xf;
  const channels = config >= 1 && config <= 6 ? config : config === 7 ? 8 : undefined;
  return { codec: 'aac', ...(channels ? { channels } : {}) };
}

const CHROMA = ['yuv400', 'yuv420p', 'yuv422p', 'yuv444p'];

/** FFmpeg's name for a chroma layout and bit depth: yuv420p, yuv422p10le, ... */
function pixName(chroma: number, depth: number): string | undefined {
  const base = CHROMA[chroma];
  if (!base || base === 'yuv400') return undefined; // monochrome: let ffprobe name it
  return depth === 8 ? base : depth === 10 || depth === 12 ? `${base}${depth}le` : undefined;
}

/**
 * The decoded pixel format, from the codec's configuration box. Full-range H.264 (which FFmpeg
 * calls yuvj420p) is flagged inside the SPS, not here: it reads as yuv420p.
 */
function pixFmtOf(buf: Buffer, entry: Box): string | undefined {
  const config = (type: string) => child(buf, entry, type, 78);
  if (entry.type === 'avc1' || entry.type === 'avc3') {
    const c = config('avcC');
    if (!c || c.end - c.start < 7) return undefined;
    const profile = buf[c.start + 1]!;
    if (![100, 110, 122, 244].includes(profile)) return 'yuv420p'; // baseline, main, extended: 4:2:0, 8 bits
    let p = c.start + 6;
    for (let n = buf[c.start + 5]! & 0x1f; n > 0; n--) p += 2 + buf.readUInt16BE(p);
    for (let n = buf[p++]!; n > 0; n--) p += 2 + buf.readUInt16BE(p);
    if (p + 2 > c.end) return undefined;
    return pixName(buf[p]! & 3, (buf[p + 1]! & 7) + 8);
  }
  if (entry.type === 'hvc1' || entry.type === 'hev1') {
    const c = config('hvcC');
    if (!c || c.end - c.start < 18) return undefined;
    return pixName(buf[c.start + 16]! & 3, (buf[c.start + 17]! & 7) + 8);
  }
  if (entry.type === 'vp09') {
    const c = config('vpcC');
    if (!c || c.end - c.start < 7) return undefined;
    const b = buf[c.start + 6]!;
    const sub = (b >> 1) & 7; // 0, 1: 4:2:0; 2: 4:2:2; 3: 4:4:4
    return pixName(sub <= 1 ? 1 : sub === 2 ? 2 : 3, b >> 4);
  }
  if (entry.type === 'av01') {
    const c = config('av1C');
    if (!c || c.end - c.start < 3) return undefined;
    const b = buf[c.start + 2]!;
    const depth = b & 0x40 ? (b & 0x20 ? 12 : 10) : 8;
    if (b & 0x10) return undefined;
    const sx = (b >> 3) & 1;
    const sy = (b >> 2) & 1;
    return pixName(sx && sy ? 1 : sx ? 2 : 3, depth);
  }
  return undefined;
}

/** Channels of the other audio codecs, from their own boxes; undefined when not known here. */
function otherChannels(buf: Buffer, entry: Box): number | undefined {
  if (entry.type === 'Opus') {
    const dops = child(buf, entry, 'dOps', 28);
    return dops ? buf[dops.start + 1] : undefined;
  }
  return undefined;
}

function rotationOf(buf: Buffer, tkhd: Box): number {
  const version = buf[tkhd.start]!;
  const m = tkhd.start + (version === 1 ? 52 : 40);
  const a = buf.readInt32BE(m) / 65536;
  const b = buf.readInt32BE(m + 4) / 65536;
  // ffprobe's convention: counter-clockwise degrees of the display matrix, in (-180, 180].
  const deg = Math.round((Math.atan2(b, a) * 180) / Math.PI);
  return deg === -180 ? 180 : -deg === 0 ? 0 : -deg;
}

/**
 * Where the track's sample data ends: the largest chunk offset + the bytes of the samples stsc puts
 * in that chunk (sizes from stsz). A file cut inside its last chunk still has every chunk START
 * inside it. Null when the tables do not describe the same samples.
 */
function dataEnd(buf: Buffer, stbl: Box): number | null {
  const stsz = child(buf, stbl, 'stsz');
  const stsc = child(buf, stbl, 'stsc');
  const co = child(buf, stbl, 'stco') ?? child(buf, stbl, 'co64');
  if (!stsz || !stsc || !co) return null;
  const fixed = buf.readUInt32BE(stsz.start + 4);
  const samples = buf.readUInt32BE(stsz.start + 8);
  const chunks = buf.readUInt32BE(co.start + 4);
  const runs = buf.readUInt32BE(stsc.start + 4);
  const wide = co.type === 'co64';
  if (co.start + 8 + chunks * (wide ? 8 : 4) > co.end || stsc.start + 8 + runs * 12 > stsc.end) return null;
  if (fixed === 0 && stsz.start + 12 + samples * 4 > stsz.end) return null;
  let end = 0;
  let sample = 0;
  for (let run = 0; run < runs; run++) {
    const at = stsc.start + 8 + run * 12;
    const first = buf.readUInt32BE(at);
    const last = run + 1 < runs ? buf.readUInt32BE(at + 12) - 1 : chunks;
    const perChunk = buf.readUInt32BE(at + 4);
    if (first < 1 || last > chunks) return null;
    for (let c = first; c <= last; c++) {
      if (sample + perChunk > samples) return null;
      let bytes = fixed * perChunk;
      if (fixed === 0)
        for (let k = 0; k < perChunk; k++) bytes += buf.readUInt32BE(stsz.start + 12 + (sample + k) * 4);
      sample += perChunk;
      const offset = wide
        ? Number(buf.readBigUInt64BE(co.start + 8 + (c - 1) * 8))
        : buf.readUInt32BE(co.start + 8 + (c - 1) * 4);
      end = Math.max(end, offset + bytes);
    }
  }
  return sample === samples ? end : null;
}

/**
 * The average frame rate as FFmpeg's MOV demuxer gives it (avg_frame_rate): frames × timescale /
 * the sum of all stts deltas. The first delta alone is the rate only when the frames are evenly spaced.
 */
function averageFps(buf: Buffer, stts: Box, timescale: number): Rational | undefined {
  let frames = 0;
  let ticks = 0;
  for (let i = 0, n = buf.readUInt32BE(stts.start + 4); i < n; i++) {
    const count = buf.readUInt32BE(stts.start + 8 + i * 8);
    frames += count;
    ticks += count * buf.readUInt32BE(stts.start + 12 + i * 8);
  }
  if (!frames || !ticks || !timescale) return undefined;
  const fps = reduce({ num: timescale * frames, den: ticks });
  // FFmpeg bounds the fraction to 32 bits and rounds past that: leave such a rate to ffprobe.
  return fps.num <= 0x7fffffff && fps.den <= 0x7fffffff ? fps : undefined;
}

/** Codecs whose frame size this reader checks against the stream's own parameter sets. */
const SIZE_FROM_STREAM = new Set(['h264']);

/**
 * The frame size of a video sample entry, when the stream agrees with the label the muxer wrote
 * there (for H.264, the SPS); for other codecs the label, which only an output check may trust.
 */
function videoSize(buf: Buffer, entry: Box): { width: number; height: number } | null {
  const label = { width: buf.readUInt16BE(entry.start + 24), height: buf.readUInt16BE(entry.start + 26) };
  if (entry.type !== 'avc1' && entry.type !== 'avc3') return label;
  const avcC = child(buf, entry, 'avcC', 78);
  const real = avcC && avcCSize(buf, avcC.start, avcC.end);
  return real && real.width === label.width && real.height === label.height ? label : null;
}

/** Parses a moov box; `fileSize` bounds every sample. Null when anything is not as expected. */
export function parseMoov(buf: Buffer, fileSize: number): MediaInfo | null {
  const moov = { type: 'moov', start: 0, end: buf.length };
  const mvhd = child(buf, moov, 'mvhd');
  if (!mvhd) return null;
  const v1 = buf[mvhd.start] === 1;
  const timescale = buf.readUInt32BE(mvhd.start + (v1 ? 20 : 12));
  const duration = v1 ? Number(buf.readBigUInt64BE(mvhd.start + 24)) : buf.readUInt32BE(mvhd.start + 16);
  if (!timescale) return null;
  // A fragmented file indexes its samples in moof boxes after the moov: its moov says 0 s.
  if (child(buf, moov, 'mvex')) return null;
  const streams: StreamInfo[] = [];
  for (const trak of boxes(buf, moov.start, moov.end)) {
    if (trak.type !== 'trak') continue;
    const tkhd = child(buf, trak, 'tkhd');
    const mdia = child(buf, trak, 'mdia');
    const mdhd = mdia && child(buf, mdia, 'mdhd');
    const hdlr = mdia && child(buf, mdia, 'hdlr');
    const stbl = path(buf, mdia, 'minf', 'stbl');
    const stsd = stbl && child(buf, stbl, 'stsd');
    if (!tkhd || !mdhd || !hdlr || !stbl || !stsd) return null;
    const handler = buf.toString('latin1', hdlr.start + 8, hdlr.start + 12);
    const entry = [...boxes(buf, stsd.start + 8, stsd.end)][0];
    if (!entry) return null;
    const mv1 = buf[mdhd.start] === 1;
    const mts = buf.readUInt32BE(mdhd.start + (mv1 ? 20 : 12));
    const mdur = mv1 ? Number(buf.readBigUInt64BE(mdhd.start + 24)) : buf.readUInt32BE(mdhd.start + 16);
    const stts = child(buf, stbl, 'stts');
    let frames = 0;
    if (stts)
      for (let i = 0, n = buf.readUInt32BE(stts.start + 4); i < n; i++)
        frames += buf.readUInt32BE(stts.start + 8 + i * 8);
    // Truncation: every chunk, to its last byte, must lie inside the file.
    const end = dataEnd(buf, stbl);
    if (end === null || end > fileSize || frames === 0) return null;
    const seconds = mts ? mdur / mts : undefined;
    const base = { index: streams.length, ...(seconds !== undefined ? { duration: seconds } : {}) };
    if (handler === 'vide') {
      const codec = VIDEO[entry.type];
      const size = videoSize(buf, entry);
      if (!codec || !size) return null;
      const rotation = rotationOf(buf, tkhd);
      const fps = stts && averageFps(buf, stts, mts);
      streams.push({
        ...base,
        type: 'video',
        codec,
        ...size,
        frames,
        ...(pixFmtOf(buf, entry) ? { pixFmt: pixFmtOf(buf, entry)! } : {}),
        ...(fps ? { fps } : {}),
        ...(rotation ? { rotation } : {}),
      });
    } else if (handler === 'soun') {
      // The sample entry's channel count is often a fixed 2 in MP4: the codec's own config says the truth.
      const a =
        entry.type === 'mp4a'
          ? mp4aStream(buf, entry)
          : AUDIO[entry.type]
            ? { codec: AUDIO[entry.type]!, channels: otherChannels(buf, entry) }
            : null;
      if (!a) return null;
      streams.push({
        ...base,
        type: 'audio',
        codec: a.codec,
        ...(a.channels ? { channels: a.channels } : {}),
        sampleRate: buf.readUInt32BE(entry.start + 24) >>> 16,
      });
    } else return null; // subtitles, chapters, timecode: let ffprobe say
  }
  return {
    format: {
      name: 'mov,mp4,m4a,3gp,3g2,mj2',
      duration: duration / timescale,
      size: fileSize,
      bitRate: null,
    },
    streams,
  };
}

const MAX_MOOV = 64 * 1024 * 1024;

/**
 * Everything the planner reads of an input is known: frame size, rate, pixel format, channels. An
 * input's frame size decides its admission (max_pixels), so it must come from the stream itself.
 */
export function isComplete(info: MediaInfo): boolean {
  return (
    info.streams.length > 0 &&
    info.streams.every((s) =>
      s.type === 'video'
        ? !!(s.width && s.height && s.fps && s.pixFmt && SIZE_FROM_STREAM.has(s.codec))
        : s.type === 'audio'
          ? !!(s.channels && s.sampleRate)
          : false,
    )
  );
}

/** The moov of an ISO-BMFF file, parsed; null when absent, odd, or larger than is worth reading. */
export async function inspectMp4(file: string): Promise<MediaInfo | null> {
  // Only regular files: opening a FIFO would wait for a writer forever.
  const st = await stat(file).catch(() => null);
  if (!st?.isFile()) return null;
  // O_NONBLOCK too, in case it was swapped for a FIFO since: then the open cannot hang either.
  const fh = await open(file, constants.O_RDONLY | constants.O_NONBLOCK);
  try {
    const size = (await fh.stat()).size;
    const head = Buffer.alloc(16);
    let p = 0;
    while (p + 8 <= size) {
      const { bytesRead } = await fh.read(head, 0, 16, p);
      if (bytesRead < 8) return null;
      let boxSize = head.readUInt32BE(0);
      const type = head.toString('latin1', 4, 8);
      let header = 8;
      if (boxSize === 1) {
        boxSize = Number(head.readBigUInt64BE(8));
        header = 16;
      } else if (boxSize === 0) boxSize = size - p;
      if (boxSize < header || p + boxSize > size) return null;
      if (type === 'moov') {
        if (boxSize > MAX_MOOV) return null;
        const buf = Buffer.alloc(boxSize - header);
        await fh.read(buf, 0, buf.length, p + header);
        return parseMoov(buf, size);
      }
      p += boxSize;
    }
    return null;
  } catch {
    return null;
  } finally {
    await fh.close();
  }
}
