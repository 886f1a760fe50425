/**
 * `ffprobe -print_format json -show_format -show_streams` → MediaInfo.
 *
 * ffprobe writes most numbers as strings ("2.002000", "128000"), writes "N/A" or leaves a key out
 * when it does not know, and "0/0" for an unknown rate. Matroska files carry stream durations only
 * as `tags.DURATION` ("00:00:02.007000000"). Rotation comes from the display matrix side data
 * (FFmpeg ≥ 5) or, from older ffprobe builds, `tags.rotate`.
 */
import { AppError } from '../errors.js';
import type { MediaInfo, StreamInfo, StreamType } from '../spec/media-info.js';
import { type Rational, reduce } from '../spec/types.js';

type Json = Record<string, unknown>;

const isObject = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);

function num(v: unknown): number | undefined {
  if (typeof v === 'number') return Number.isFinite(v) ? v : undefined;
  if (typeof v !== 'string' || v.trim() === '' || v === 'N/A') return undefined;
  const n = Number(v);
  return Number.isFinite(n) ? n : undefined;
}

function str(v: unknown): string | undefined {
  return typeof v === 'string' && v !== '' && v !== 'N/A' ? v : undefined;
}

/** "30000/1001" → {30000, 1001}; "0/0" and other non-positive rates → undefined (unknown). */
export function parseRate(v: unknown): Rational | undefined {
  const m = typeof v === 'string' ? /^(\d+)\/(\d+)$/.exec(v) : null;
  if (!m) return undefined;
  const r = { num: Number(m[1]), den: Number(m[2]) };
  return r.num > 0 && r.den > 0 && Number.isSafeInteger(r.num) && Number.isSafeInteger(r.den)
    ? reduce(r)
    : undefined;
}

/** Matroska's `tags.DURATION`: "HH:MM:SS.nnnnnnnnn" → seconds. */
function tagDuration(v: unknown): number | undefined {
  const m = typeof v === 'string' ? /^(\d+):(\d{2}):(\d{2}(?:\.\d+)?)$/.exec(v) : null;
  return m ? Number(m[1]) * 3600 + Number(m[2]) * 60 + Number(m[3]) : undefined;
}

/** Degrees into (-180, 180], the range the display matrix reports. */
function normaliseDegrees(d: number): number {
  const r = (((Math.round(d) % 360) + 360) % 360) as number;
  return r > 180 ? r - 360 : r;
}

/**
 * Counter-clockwise degrees, FFmpeg's display matrix convention (what ffprobe prints as
 * `rotation`). The old `rotate` tag is clockwise, hence its sign flip. 0 is left out.
 */
function rotationOf(s: Json, tags: Json): number | undefined {
  const sideData = Array.isArray(s.side_data_list) ? s.side_data_list : [];
  for (const sd of sideData) {
    const r = isObject(sd) ? num(sd.rotation) : undefined;
    if (r !== undefined) return normaliseDegrees(r) || undefined;
  }
  const tag = num(tags.rotate);
  return tag === undefined ? undefined : normaliseDegrees(-tag) || undefined;
}

const STREAM_TYPES: ReadonlySet<string> = new Set<StreamType>([
  'video',
  'audio',
  'subtitle',
  'data',
  'attachment',
]);

function parseStream(s: Json, position: number): StreamInfo {
  const tags = isObject(s.tags) ? s.tags : {};
  const disposition = isObject(s.disposition) ? s.disposition : {};
  const type = (STREAM_TYPES.has(String(s.codec_type)) ? s.codec_type : 'data') as StreamType;
  const attachedPic = num(disposition.attached_pic) === 1;
  // Cover art has no meaningful rate (ffprobe says r_frame_rate=90000/1).
  const fps =
    type === 'video' && !attachedPic ? (parseRate(s.avg_frame_rate) ?? parseRate(s.r_frame_rate)) : undefined;
  const language = str(tags.language);
  const info: StreamInfo = {
    index: num(s.index) ?? position,
    type,
    codec: str(s.codec_name) ?? 'unknown',
    profile: str(s.profile),
    width: num(s.width),
    height: num(s.height),
    fps,
    pixFmt: str(s.pix_fmt),
    sampleRate: num(s.sample_rate),
    channels: num(s.channels),
    channelLayout: str(s.channel_layout),
    bitRate: num(s.bit_rate) ?? num(tags.BPS),
    duration: num(s.duration) ?? tagDuration(tags.DURATION),
    frames: num(s.nb_frames) ?? num(tags.NUMBER_OF_FRAMES),
    rotation: rotationOf(s, tags),
    language: language === 'und' ? undefined : language,
    attachedPic: attachedPic || undefined,
  };
  // Absent, not `undefined`: the objects compare and serialise cleanly.
  for (const k of Object.keys(info) as (keyof StreamInfo)[]) if (info[k] === undefined) delete info[k];
  return info;
}

export function parseFfprobeJson(json: unknown): MediaInfo {
  if (!isObject(json) || !isObject(json.format)) {
    throw new AppError(
      'probe_failed',
      'ffprobe gave no format section: the input could not be read as media',
    );
  }
  const f = json.format;
  const streams = Array.isArray(json.streams) ? json.streams : [];
  return {
    format: {
      name: str(f.format_name) ?? 'unknown',
      ...(str(f.format_long_name) ? { longName: str(f.format_long_name) } : {}),
      duration: num(f.duration) ?? null,
      size: num(f.size) ?? 0,
      bitRate: num(f.bit_rate) ?? null,
    },
    streams: streams.filter(isObject).map(parseStream),
  };
}

/**
 * Why ffprobe's answer is not media we should work on, or null. ffprobe reads any text file as
 * `tty` (ANSI art, a "video" stream) when its name does not suggest another format.
 */
export function notMediaReason(info: MediaInfo): string | null {
  if (/(^|,)tty(,|$)/.test(info.format.name)) return 'it looks like a text file';
  if (!info.streams.some((s) => s.type === 'video' || s.type === 'audio' || s.type === 'subtitle')) {
    return 'it has no audio, video or subtitle stream';
  }
  return null;
}
