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

/**
 * `json`: `-show_format -show_streams`. `tail`: for an mp3 that mp3TailFrom() names, its last packets
 * (MP3_TAIL_ENTRIES); with them the mp3's durations are what decoding gives rather than its header's.
 */
export function parseFfprobeJson(json: unknown, tail?: unknown): MediaInfo {
  if (!isObject(json) || !isObject(json.format)) {
    throw new AppError(
      'probe_failed',
      'ffprobe gave no format section: the input could not be read as media',
    );
  }
  const f = json.format;
  const streams = Array.isArray(json.streams) ? json.streams : [];
  const info: MediaInfo = {
    format: {
      name: str(f.format_name) ?? 'unknown',
      ...(str(f.format_long_name) ? { longName: str(f.format_long_name) } : {}),
      duration: num(f.duration) ?? null,
      size: num(f.size) ?? 0,
      bitRate: num(f.bit_rate) ?? null,
    },
    streams: streams.filter(isObject).map(parseStream),
  };
  const decoded = tail === undefined ? undefined : mp3DecodedSeconds(json, tail);
  if (decoded === undefined) return info;
  const audio = info.streams.find((s) => s.type === 'audio')!;
  audio.duration = decoded;
  info.format.duration = decoded;
  return info;
}

/*
 * MP3: the header's length and the decoded one. ffprobe states an mp3's duration as all its frames
 * (the Xing/Info header's frame count × 1152 samples). When the LAME tag (written by LAME and by
 * FFmpeg's mp3 muxer) gives the encoder's delay and padding, FFmpeg's mp3 demuxer has the decoder
 * drop both: the delay (plus the decoder's 529 samples) as skip_samples on the first packet, which
 * ffprobe shows as the stream's start_time, and the padding as discard_padding on the last packet,
 * which only the packets show. A 2 s 48 kHz tone from libmp3lame is 85 frames, 97920 samples, stated
 * 2.040 s; 1105 are skipped (start_time 0.023021) and 815 discarded, and decoding yields 96000, 2.000 s.
 * The decoded length is where the last packet ends less its discarded padding, from start_time.
 */

/** `-show_entries` for the tail of an mp3 (with `-select_streams a:0 -read_intervals FROM%`). */
export const MP3_TAIL_ENTRIES = 'packet=pts,duration:packet_side_data=discard_padding';

/** The mp3 demuxer's answer and its first audio stream, if that is mp3. */
function mp3Of(json: unknown): { format: Json; audio: Json } | undefined {
  if (!isObject(json) || !isObject(json.format) || str(json.format.format_name) !== 'mp3') return undefined;
  const streams = Array.isArray(json.streams) ? json.streams.filter(isObject) : [];
  const audio = streams.find((s) => s.codec_type === 'audio');
  return audio?.codec_name === 'mp3' ? { format: json.format, audio } : undefined;
}

/** Seconds before the end in which the padding is sure to lie: it is under 4096 samples, 0.52 s at 8 kHz. */
const TAIL_SECONDS = 2;

/**
 * Where to read an mp3's last packets from (seconds, for `-read_intervals FROM%`), or null when
 * `json` is not an mp3 whose audio FFmpeg trims: without an encoder delay (no Info tag: start_time
 * 0) the demuxer discards nothing, and the stated duration is what decodes.
 */
export function mp3TailFrom(json: unknown): number | null {
  const mp3 = mp3Of(json);
  if (!mp3 || !((num(mp3.audio.start_pts) ?? 0) > 0)) return null;
  const duration = num(mp3.audio.duration) ?? num(mp3.format.duration);
  return duration === undefined ? null : Math.max(0, Math.floor((duration - TAIL_SECONDS) * 1000) / 1000);
}

/**
 * What decoding an mp3 gives, in seconds (to the microsecond, as ffprobe writes times), from its
 * probe and its tail packets; undefined when they do not tell (not an mp3, no packets).
 */
function mp3DecodedSeconds(json: unknown, tail: unknown): number | undefined {
  const s = mp3Of(json)?.audio;
  const m = typeof s?.time_base === 'string' ? /^(\d+)\/(\d+)$/.exec(s.time_base) : null;
  const [start, rate] = [num(s?.start_pts), num(s?.sample_rate)];
  const packets = isObject(tail) && Array.isArray(tail.packets) ? tail.packets.filter(isObject) : [];
  if (!m || Number(m[2]) === 0 || start === undefined || !rate || packets.length === 0) return undefined;
  let end = -Infinity;
  let discarded = 0;
  for (const p of packets) {
    const [pts, duration] = [num(p.pts), num(p.duration)];
    if (pts === undefined || duration === undefined) return undefined;
    end = Math.max(end, pts + duration);
    for (const sd of Array.isArray(p.side_data_list) ? p.side_data_list : [])
      discarded += (isObject(sd) ? num(sd.discard_padding) : undefined) ?? 0;
  }
  const seconds = ((end - start) * Number(m[1])) / Number(m[2]) - discarded / rate;
  return seconds > 0 ? Math.round(seconds * 1e6) / 1e6 : undefined;
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
