/**
 * TaskSpec + encoder choice → FFmpeg's argv. Pure, never a shell. Every path goes as `file:` +
 * an absolute path (a name starting with `-` is never an option), inputs may only use the
 * `file` protocol, and nothing the user typed becomes an option by itself: codecs are enums
 * mapped through the encoder registry, numbers are numbers, the filtergraph is escaped in one place.
 */
import { FORMAT_WHITELIST, pictureDemuxer } from '../spec/admission.js';
import { CONTAINERS, IMAGE_ENCODERS } from '../spec/codecs.js';
import type { TaskSpec } from '../spec/task-spec.schema.js';
import { rationalToNumber } from '../spec/types.js';
import { type EncoderChoice, type VideoEncodeArgs, videoEncodeArgs } from './encoders.js';
import { renderGraph } from './filtergraph.js';
import { renderTask } from './render.js';

export const PREAMBLE = ['-hide_banner', '-nostdin', '-nostats', '-progress', 'pipe:1', '-y'] as const;
export const INPUT_PROTOCOLS = 'file';

export class EncoderUnavailableError extends Error {
  constructor(readonly codec: string) {
    super(`no encoder available for ${codec}`);
    this.name = 'EncoderUnavailableError';
  }
}

export interface BuildOptions {
  /** Measurements from analysis tasks, by node id (loudnorm's second pass). */
  analysis?: Readonly<Record<string, Readonly<Record<string, unknown>>>>;
  /** Where each output is really written (a temporary name beside the destination), by task output position. */
  outputPaths?: readonly string[];
  threads?: number;
}

export function fileUrl(absolutePath: string): string {
  if (!absolutePath.startsWith('/')) throw new Error(`not an absolute path: ${absolutePath}`);
  return `file:${absolutePath}`;
}

/** Seconds as FFmpeg parses them (to the microsecond). */
const secs = (s: number) => s.toFixed(6);

export function buildArgs(task: TaskSpec, encoders: EncoderChoice, opts: BuildOptions = {}): string[] {
  if (task.kind === 'join') return joinArgs(task, opts);
  const rendered = renderTask(task, opts.analysis);
  const args: string[] = [...PREAMBLE];
  if (opts.threads !== undefined) args.push('-threads', String(opts.threads));
  for (const input of task.inputs) {
    const demuxer = pictureDemuxer(input.path);
    args.push('-protocol_whitelist', INPUT_PROTOCOLS, '-format_whitelist', FORMAT_WHITELIST);
    if (demuxer) args.push('-f', demuxer);
    // A chunk: an exact seek (FFmpeg drops the frames before it) just before its keyframe, and a
    // stop past its last frame; -frames:v below makes the count exact.
    if (task.range?.seek != null) args.push('-ss', secs(task.range.seek));
    if (task.range?.read != null) args.push('-t', secs(task.range.read));
    args.push('-i', fileUrl(input.path));
  }
  if (rendered.nodes.length > 0) args.push('-filter_complex', renderGraph(rendered.nodes));
  // Where a hardware encoder's device and upload filter go once the outputs have said so.
  const graphAt = args.length;
  const hw = { device: [] as readonly string[], uploads: [] as string[] };

  if (task.kind === 'measure') {
    args.push('-map', rendered.measureMap!, '-f', 'null', '-');
    return args;
  }

  task.outputs.forEach((out, k) => {
    const map = rendered.maps[k]!;
    const direct = task.inputs.some((i) => i.id === out.node);
    const video = out.video && map.video && out.video.codec !== 'copy' ? encodeVideo(out, encoders) : null;
    let videoMap = map.video;
    if (video?.upload && map.video) {
      // The last step of this output's video moves it onto the device (VAAPI).
      videoMap = `[hwup${k}]`;
      hw.uploads.push(
        `${map.video.startsWith('[') ? map.video : `[${map.video}]`}${video.upload}${videoMap}`,
      );
    }
    if (video?.device.length) hw.device = video.device;
    if (videoMap) args.push('-map', videoMap);
    if (map.audio) args.push('-map', map.audio);

    if (out.image && map.video) {
      const fmt = out.format as keyof typeof IMAGE_ENCODERS;
      args.push('-c:v', IMAGE_ENCODERS[fmt]);
      if (fmt === 'jpg') args.push('-q:v', '3');
      if (fmt === 'webp') args.push('-quality', '80');
      args.push('-frames:v', String(out.image.frames));
      if (out.image.frames === 1) args.push('-update', '1');
    }
    if (out.video && map.video) {
      if (out.video.codec === 'copy') args.push('-c:v', 'copy');
      // NUT takes no MP4 tag (hvc1): the join, writing the container, asks for it again.
      else args.push(...(task.range ? withoutTag(video!.output) : video!.output));
    }
    if (out.audio && map.audio) {
      if (out.audio.codec === 'copy') args.push('-c:a', 'copy');
      else {
        const enc = encoders.audio(out.audio.codec as Exclude<typeof out.audio.codec, 'copy' | 'none'>);
        if (!enc) throw new EncoderUnavailableError(out.audio.codec);
        args.push('-c:a', enc.name, ...enc.args(out.audio));
        if (out.audio.sample_rate) args.push('-ar', String(out.audio.sample_rate));
        if (out.audio.channels) args.push('-ac', String(out.audio.channels));
      }
    }
    // Chapters no longer line up once operations have changed the timeline.
    if (!direct) args.push('-map_chapters', '-1');
    const path = fileUrl(opts.outputPaths?.[k] ?? out.path);
    // A chunk goes to NUT, whatever the final container: it keeps every timestamp exact, and
    // unshifted (a B-frame's negative decode time would otherwise move the first chunk).
    if (task.range) {
      args.push('-frames:v', String(task.range.frames), '-avoid_negative_ts', 'disabled', '-f', 'nut', path);
      return;
    }
    if (out.format === 'mp4' || out.format === 'mov' || out.format === 'm4a')
      args.push('-movflags', '+faststart');
    args.push('-f', CONTAINERS[out.format].muxer, path);
  });
  if (hw.uploads.length > 0) {
    // One graph: a filter's output label can only feed a filter of its own graph.
    const uploads = hw.uploads.join(';');
    if (rendered.nodes.length > 0) args[graphAt - 1] += `;${uploads}`;
    else args.splice(graphAt, 0, '-filter_complex', uploads);
  }
  if (hw.device.length > 0) args.splice(PREAMBLE.length, 0, ...hw.device);
  return args;
}

function encodeVideo(out: TaskSpec['outputs'][number], encoders: EncoderChoice): VideoEncodeArgs {
  const v = out.video!;
  const enc = encoders.video(v.codec as Exclude<typeof v.codec, 'copy' | 'none'>);
  if (!enc) throw new EncoderUnavailableError(v.codec);
  const fps = out.expect.video ? rationalToNumber(out.expect.video.fps) : 25;
  return videoEncodeArgs(enc, v, fps);
}

function withoutTag(args: readonly string[]): string[] {
  return args.filter((a, i) => a !== '-tag:v' && args[i - 1] !== '-tag:v');
}

/**
 * A join: the concat demuxer reads the chunk list (relative names only: `-safe 1`; chunks of our
 * own making: NUT only), the chunks are stream-copied, the audio piece is muxed beside them.
 */
function joinArgs(task: TaskSpec, opts: BuildOptions): string[] {
  const [list, audio] = task.inputs;
  const out = task.outputs[0]!;
  const args: string[] = [...PREAMBLE];
  args.push('-protocol_whitelist', 'file', '-format_whitelist', 'concat,nut', '-f', 'concat', '-safe', '1');
  if (task.join!.video_offset > 0) args.push('-itsoffset', secs(task.join!.video_offset));
  args.push('-i', fileUrl(list!.path));
  if (audio) {
    args.push('-protocol_whitelist', INPUT_PROTOCOLS, '-format_whitelist', FORMAT_WHITELIST);
    args.push('-i', fileUrl(audio.path));
  }
  args.push('-map', '0:v:0', ...(audio ? ['-map', '1:a:0'] : []), '-c', 'copy', '-map_chapters', '-1');
  const iso = out.format === 'mp4' || out.format === 'mov';
  // What the HEVC encoder asks for in MP4 (Apple players want hvc1); a stream copy must ask again.
  if (iso && out.video?.codec === 'hevc') args.push('-tag:v', 'hvc1');
  if (iso) args.push('-movflags', '+faststart');
  args.push('-f', CONTAINERS[out.format].muxer, fileUrl(opts.outputPaths?.[0] ?? out.path));
  return args;
}
