/**
 * probe(): what ffprobe tells of a local file, as MediaInfo.
 *
 * The file is passed as `file:/absolute/path`, so no name (`-i`, `http:...`, `concat:a|b`) is
 * ever read as an option or another protocol, and `-protocol_whitelist file` stops a playlist
 * inside the file from reaching the network. `formats` adds `-format_whitelist` (both work on
 * ffprobe 5.1): the way to refuse demuxers such as hls or concat that read other files.
 */
import { stat } from 'node:fs/promises';
import { basename, resolve } from 'node:path';
import { AppError, type ErrorCode } from '../core/errors.js';
import {
  MP3_TAIL_ENTRIES,
  mp3TailFrom,
  notMediaReason,
  parseFfprobeJson,
} from '../core/ffmpeg/ffprobe-parse.js';
import type { MediaInfo } from '../core/spec/media-info.js';
import { runProcess, stderrSummary } from './process.js';

export interface ProbeOptions {
  /** The ffprobe binary. */
  ffprobe: string;
  /** Default 30 s. */
  timeoutMs?: number;
  signal?: AbortSignal;
  /** Demuxer names ffprobe may use (`-format_whitelist`), e.g. `['mov', 'matroska', 'mp3']`. */
  formats?: readonly string[];
  /** A demuxer to name rather than guess (`-f`), e.g. jpeg_pipe for a .jpg. */
  format?: string;
  /** Largest picture (width × height) the decoders may allocate while probing. */
  maxPixels?: number;
}

/** FFmpeg's word for a picture too large to decode, said even when ffprobe itself exits 0. */
const PICTURE_TOO_LARGE = /Picture size (\d+)x(\d+) (?:is invalid|exceeds)/;

export const DEFAULT_PROBE_TIMEOUT_MS = 30_000;

/** ffprobe's complaint → our code: the file's fault (422) or ours (probe_failed). */
const STDERR_CODES: [RegExp, ErrorCode, string][] = [
  [/No such file or directory/, 'input_not_found', 'it does not exist'],
  [/Permission denied/, 'input_unreadable', 'it cannot be read'],
  [/Failed to read frame size/, 'input_not_media', 'it is not a media file FFmpeg can read'],
  [/not on whitelist/, 'input_not_allowed', 'it needs a protocol or format that is not allowed here'],
  [
    /Invalid data found when processing input|moov atom not found|could not find codec parameters|EBML header parsing failed/i,
    'input_not_media',
    'it is not a media file FFmpeg can read',
  ],
];

async function checkFile(path: string, name: string): Promise<void> {
  let info: Awaited<ReturnType<typeof stat>>;
  try {
    info = await stat(path);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR')
      throw new AppError('input_not_found', `${name}: no such file`);
    throw new AppError('input_unreadable', `${name}: cannot be read (${code ?? String(e)})`);
  }
  if (info.isDirectory()) throw new AppError('input_not_media', `${name}: is a folder, not a media file`);
  // A FIFO or device would block ffprobe or read forever.
  if (!info.isFile()) throw new AppError('input_not_media', `${name}: is not a regular file`);
  if (info.size === 0) throw new AppError('input_not_media', `${name}: is empty (0 bytes)`);
}

/** The options every ffprobe run here starts with: what may be read, and how much it may allocate. */
function safetyArgs(options: ProbeOptions): string[] {
  const args = ['-v', 'error', '-hide_banner', '-protocol_whitelist', 'file'];
  if (options.formats?.length) args.push('-format_whitelist', options.formats.join(','));
  // A guard on what the decoders allocate while probing (a 67-byte PNG can claim 10000×10000), with
  // headroom: decoders pad frames (a 160×120 H.264 is decoded 192×120), and the exact limit is
  // applied afterwards to the stream's real size.
  if (options.maxPixels !== undefined)
    args.push('-max_pixels', String(Math.min(2 ** 31 - 1, options.maxPixels * 2 + 1_048_576)));
  return args;
}

async function runFfprobe(
  args: string[],
  options: ProbeOptions,
  name: string,
  maxStdoutBytes: number,
): Promise<Awaited<ReturnType<typeof runProcess>>> {
  const timeoutMs = options.timeoutMs ?? DEFAULT_PROBE_TIMEOUT_MS;
  let r: Awaited<ReturnType<typeof runProcess>>;
  try {
    r = await runProcess(options.ffprobe, args, { timeoutMs, signal: options.signal, maxStdoutBytes });
  } catch (e) {
    throw new AppError(
      'ffmpeg_not_found',
      `cannot run ffprobe (${options.ffprobe}): ${(e as Error).message}`,
      {
        cause: e,
      },
    );
  }
  if (r.aborted) throw new AppError('cancelled', `probe of ${name} was cancelled`);
  if (r.timedOut)
    throw new AppError('probe_timeout', `ffprobe did not answer within ${timeoutMs} ms for ${name}`);
  return r;
}

export async function probe(input: string, options: ProbeOptions): Promise<MediaInfo> {
  const path = resolve(input);
  const name = basename(path);
  await checkFile(path, name);
  const args = safetyArgs(options);
  if (options.format) args.push('-f', options.format);
  args.push('-print_format', 'json', '-show_format', '-show_streams', `file:${path}`);

  const r = await runFfprobe(args, options, name, 16 * 1024 * 1024);
  if (r.stdoutOverflow) throw new AppError('probe_failed', `ffprobe's answer for ${name} is too large`);
  // Messages name the file, never the server's folders.
  const said = stderrSummary(r.stderr.replaceAll(`file:${path}`, name).replaceAll(path, name), 1);
  const huge = PICTURE_TOO_LARGE.exec(r.stderr);
  if (huge) {
    const [w, h] = [Number(huge[1]), Number(huge[2])];
    const over = options.maxPixels !== undefined && w * h > options.maxPixels;
    throw new AppError(
      'input_too_large',
      `${name}: ${w}x${h} is more than ${over ? `the ${options.maxPixels} pixel limit` : 'FFmpeg can decode (pixel limit)'}`,
    );
  }
  if (r.code !== 0) {
    const known = STDERR_CODES.find(([re]) => re.test(r.stderr));
    if (known) throw new AppError(known[1], `${name}: ${known[2]} (ffprobe: ${said})`);
    throw new AppError(
      'probe_failed',
      `ffprobe failed on ${name}: ${said || `exit code ${r.code ?? r.signal}`}`,
    );
  }

  let json: unknown;
  try {
    json = JSON.parse(r.stdout);
  } catch {
    throw new AppError('probe_failed', `ffprobe gave no readable answer for ${name}`);
  }
  const from = mp3TailFrom(json);
  const tail = from === null ? undefined : await mp3Tail(path, name, from, options);
  const info = parseFfprobeJson(json, tail);
  const notMedia = notMediaReason(info);
  if (notMedia) throw new AppError('input_not_media', `${name}: not a media file: ${notMedia}`);
  return info;
}

/**
 * The last packets of an mp3, from `from` seconds: their ends and the padding FFmpeg discards (see
 * ffprobe-parse). A second ffprobe run, for mp3s with an encoder delay only: it reads the last 2 s
 * of a CBR file (about as long as the first run, ~0.1 s), and demuxes a VBR file up to there without
 * decoding (FFmpeg's exact seek: 0.25 s in all for a 47 MB, 1 h VBR file). When it gives no answer,
 * the mp3 keeps the length its header states (a few tens of ms long): a refinement is no reason to
 * refuse a file the main probe read.
 */
async function mp3Tail(path: string, name: string, from: number, options: ProbeOptions): Promise<unknown> {
  const args = [
    ...safetyArgs(options),
    '-f',
    'mp3',
    '-read_intervals',
    `${from}%`,
    '-select_streams',
    'a:0',
    '-show_entries',
    MP3_TAIL_ENTRIES,
    '-print_format',
    'json=compact=1',
    `file:${path}`,
  ];
  const r = await runFfprobe(args, options, name, 1024 * 1024);
  if (r.code !== 0 || r.stdoutOverflow) return undefined;
  try {
    return JSON.parse(r.stdout) as unknown;
  } catch {
    return undefined;
  }
}
