/**
 * What this machine's FFmpeg can encode: the list it was built with, and a one-frame test encode
 * per candidate (a listed hardware encoder often fails: no GPU, no driver, no device). Used by
 * `mediaforge doctor` and the worker's hardware prober.
 */
import { AppError } from '../core/errors.js';
import {
  type EncoderEntry,
  type EncoderKind,
  parseEncoderList,
  parseHwaccelList,
} from '../core/ffmpeg/encoder-list.js';
import { cachedFact } from './binary-cache.js';
import { runProcess, stderrSummary } from './process.js';

export interface ListOptions {
  /** Default 15 s. */
  timeoutMs?: number;
}

async function ffmpegText(ffmpegPath: string, flag: string, options: ListOptions): Promise<string> {
  const r = await runProcess(ffmpegPath, ['-hide_banner', '-nostdin', flag], {
    timeoutMs: options.timeoutMs ?? 15_000,
  }).catch((e: Error) => {
    throw new AppError('ffmpeg_not_found', `cannot run ${ffmpegPath}: ${e.message}`, { cause: e });
  });
  if (r.code !== 0) {
    const why = r.timedOut ? 'timed out' : stderrSummary(r.stderr, 2) || `exit code ${r.code ?? r.signal}`;
    throw new AppError('ffmpeg_failed', `\`ffmpeg ${flag}\` failed: ${why}`);
  }
  return r.stdout;
}

/** `ffmpeg -encoders`, by encoder name. */
export async function listEncoders(
  ffmpegPath: string,
  options: ListOptions = {},
): Promise<ReadonlyMap<string, EncoderEntry>> {
  const list = parseEncoderList(await ffmpegText(ffmpegPath, '-encoders', options));
  return new Map(list.map((e) => [e.name, e]));
}

export async function listHwaccels(ffmpegPath: string, options: ListOptions = {}): Promise<string[]> {
  return parseHwaccelList(await ffmpegText(ffmpegPath, '-hwaccels', options));
}

const listed = new Map<string, Promise<ReadonlySet<string>>>();

/**
 * The names `ffmpeg -encoders` lists, asked once per binary path. Listed is not working: a
 * hardware encoder in this set still needs testEncode() before it is trusted.
 */
export function cachedEncoderList(ffmpegPath: string): Promise<ReadonlySet<string>> {
  let names = listed.get(ffmpegPath);
  if (!names) {
    names = cachedFact('encoders', ffmpegPath, async () => [...(await listEncoders(ffmpegPath)).keys()]).then(
      (list) => new Set(list),
    );
    listed.set(ffmpegPath, names);
    names.catch(() => listed.delete(ffmpegPath)); // a failure is not remembered
  }
  return names;
}

export interface TestEncodeOptions {
  /** Default: video, or audio for the usual audio encoders' names. Pass it when known (from listEncoders). */
  kind?: EncoderKind;
  /** Default 20 s: the first use of a GPU may load a driver. */
  timeoutMs?: number;
  /** The DRM render node for VAAPI encoders; default /dev/dri/renderD128. */
  vaapiDevice?: string;
}

export interface EncoderTestResult {
  ok: boolean;
  /** FFmpeg's last words when it failed. */
  error?: string;
  ms: number;
}

const ENCODER_NAME = /^[A-Za-z0-9][A-Za-z0-9_.-]*$/;
const AUDIO_NAMES =
  /^(aac|ac3|eac3|flac|alac|opus|vorbis|mp2|mp3|pcm_.*|lib(mp3lame|opus|vorbis|fdk_aac|shine|twolame)|.*_at)$/;

/** Arguments around the encoder that some hardware families need to receive frames at all. */
function hardwareArgs(encoder: string, options: TestEncodeOptions): { input: string[]; filter: string[] } {
  if (encoder.endsWith('_vaapi')) {
    return {
      input: ['-vaapi_device', options.vaapiDevice ?? '/dev/dri/renderD128'],
      filter: ['-vf', 'format=nv12,hwupload'],
    };
  }
  return { input: [], filter: [] };
}

/**
 * Encodes one black 256x256 frame (or 0.1 s of silence) to `-f null` with the encoder. The
 * encoder name is checked, never passed through as an arbitrary argument.
 */
export async function testEncode(
  ffmpegPath: string,
  encoder: string,
  options: TestEncodeOptions = {},
): Promise<EncoderTestResult> {
  if (!ENCODER_NAME.test(encoder)) return { ok: false, error: `not an encoder name: ${encoder}`, ms: 0 };
  const kind = options.kind ?? (AUDIO_NAMES.test(encoder) ? 'audio' : 'video');
  if (kind === 'subtitle') return { ok: false, error: 'subtitle encoders cannot be test-encoded', ms: 0 };
  const hw = hardwareArgs(encoder, options);
  const args = ['-hide_banner', '-nostdin', '-nostats', '-loglevel', 'error', ...hw.input];
  if (kind === 'video') {
    args.push(
      '-f',
      'lavfi',
      '-i',
      'color=c=black:s=256x256:d=0.1',
      ...hw.filter,
      '-frames:v',
      '1',
      '-c:v',
      encoder,
    );
  } else {
    args.push('-f', 'lavfi', '-i', 'anullsrc=r=48000:cl=stereo', '-t', '0.1', '-c:a', encoder);
  }
  args.push('-f', 'null', '-');

  const timeoutMs = options.timeoutMs ?? 20_000;
  let r: Awaited<ReturnType<typeof runProcess>>;
  try {
    r = await runProcess(ffmpegPath, args, { timeoutMs });
  } catch (e) {
    return { ok: false, error: `cannot run ${ffmpegPath}: ${(e as Error).message}`, ms: 0 };
  }
  const ms = Math.round(r.ms);
  if (r.code === 0) return { ok: true, ms };
  const error = r.timedOut
    ? `the test encode did not finish within ${timeoutMs} ms`
    : stderrSummary(r.stderr, 3) || `exit code ${r.code ?? r.signal}`;
  return { ok: false, error, ms };
}
