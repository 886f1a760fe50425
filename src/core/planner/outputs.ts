/**
 * An output's container and codecs: the destination's extension (or `format`) picks the
 * container, the container gives default codecs, and the media decides what can be written.
 */
import type { Issue } from '../errors.js';
import { CONTAINERS, formatFromPath, type OutputFormat, type VideoCodec } from '../spec/codecs.js';
import type { OutputSpec } from '../spec/job-spec.schema.js';
import type { StreamMeta } from '../spec/media-info.js';
import type { ResolvedAudio, ResolvedVideo } from '../spec/task-spec.schema.js';
import {
  DROPS_ROTATION,
  MAX_CHANNELS,
  PROBED_AUDIO,
  PROBED_IMAGE,
  PROBED_VIDEO,
  profileProblem,
  writtenSampleRate,
} from './codec-rules.js';

export interface ResolvedOutput {
  format: OutputFormat;
  video: ResolvedVideo | null;
  audio: ResolvedAudio | null;
  image: { frames: number } | null;
  /** The media the file should hold: what the verifier checks. */
  expect: StreamMeta;
}

/** x264/x265 take CRF 0–51; the others 0–63. */
const CRF_MAX: Record<string, number> = { h264: 51, hevc: 51, vp9: 63, av1: 63 };

export function resolveOutput(
  out: OutputSpec,
  j: number,
  meta: StreamMeta,
  fromInput: boolean,
): { value: ResolvedOutput | null; issues: Issue[] } {
  const issues: Issue[] = [];
  const at = (field: string) => `outputs[${j}]${field ? `.${field}` : ''}`;
  const format = out.format ?? formatFromPath(out.destination);
  if (!format) {
    return {
      value: null,
      issues: [
        {
          path: at('destination'),
          code: 'invalid_value',
          message: 'unknown file extension: name the container with "format" (mp4, mkv, webm, mp3, ...)',
        },
      ],
    };
  }
  const rule = CONTAINERS[format];

  if (rule.kind === 'image') {
    if (!meta.video)
      issues.push({
        path: at('id'),
        code: 'incompatible_input',
        message: `"${out.id}" has no video to write as ${format}`,
      });
    if (out.codec)
      issues.push({
        path: at('codec'),
        code: 'incompatible_codec',
        message: `${format} outputs take no codec settings`,
      });
    const frames = meta.frames ?? (meta.still ? 1 : undefined);
    if (meta.video && frames === undefined) {
      issues.push({
        path: at('id'),
        code: 'incompatible_input',
        message: `"${out.id}" is a video; use the thumbnail or sprite operator to make ${format} pictures`,
      });
    }
    return issues.length > 0 || !meta.video
      ? { value: null, issues }
      : {
          value: {
            format,
            video: null,
            audio: null,
            image: { frames: frames! },
            expect: {
              duration: null,
              video: { ...meta.video, codec: PROBED_IMAGE[format] },
              audio: null,
              frames: frames!,
            },
          },
          issues,
        };
  }

  const videoSpec = out.codec?.video ?? { codec: meta.video && !meta.still ? rule.defaultVideo : 'none' };
  const audioSpec = out.codec?.audio ?? { codec: meta.audio ? rule.defaultAudio : 'none' };
  if (!(rule.video as readonly string[]).includes(videoSpec.codec)) {
    issues.push({
      path: at(out.codec?.video ? 'codec.video.codec' : 'destination'),
      code: 'incompatible_codec',
      message: `${format} cannot hold ${videoSpec.codec} video (it takes ${rule.video.filter((c) => c !== 'none').join(', ') || 'no video'})`,
    });
  }
  if (!(rule.audio as readonly string[]).includes(audioSpec.codec)) {
    issues.push({
      path: at('codec.audio.codec'),
      code: 'incompatible_codec',
      message: `${format} cannot hold ${audioSpec.codec} audio (it takes ${rule.audio.filter((c) => c !== 'none').join(', ')})`,
    });
  }
  const wantsVideo = videoSpec.codec !== 'none';
  const wantsAudio = audioSpec.codec !== 'none';
  if (wantsVideo && out.codec?.video && !meta.video)
    issues.push({ path: at('codec.video'), code: 'incompatible_input', message: `"${out.id}" has no video` });
  if (wantsAudio && out.codec?.audio && !meta.audio)
    issues.push({ path: at('codec.audio'), code: 'incompatible_input', message: `"${out.id}" has no audio` });
  const hasVideo = wantsVideo && !!meta.video;
  const hasAudio = wantsAudio && !!meta.audio;
  if (!hasVideo && !hasAudio)
    issues.push({
      path: at('id'),
      code: 'incompatible_input',
      message: `nothing to write: "${out.id}" has no ${rule.kind === 'audio' ? 'audio' : 'video or audio'} for ${format}`,
    });
  if ((videoSpec.codec === 'copy' || audioSpec.codec === 'copy') && !fromInput) {
    issues.push({
      path: at('codec'),
      code: 'incompatible_codec',
      message:
        'copy keeps the stream unchanged, so it only works on an input written directly, not on an operation result',
    });
  }
  if (meta.still && hasVideo)
    issues.push({
      path: at('id'),
      code: 'incompatible_input',
      message: `"${out.id}" is a single picture; write it to jpg, png or webp`,
    });

  let video: ResolvedVideo | null = null;
  if (hasVideo && 'codec' in videoSpec) {
    const v = videoSpec as Partial<ResolvedVideo> & { codec: ResolvedVideo['codec'] };
    const max = CRF_MAX[v.codec];
    if (v.crf !== undefined && max !== undefined && v.crf > max)
      issues.push({
        path: at('codec.video.crf'),
        code: 'out_of_range',
        message: `${v.codec} takes crf 0–${max}`,
      });
    const pixelFormat = v.pixel_format ?? 'yuv420p';
    const { width, height } = meta.video!;
    if (v.codec !== 'copy' && pixelFormat !== 'yuv444p' && (width % 2 !== 0 || height % 2 !== 0)) {
      issues.push({
        path: at('id'),
        code: 'incompatible_codec',
        message: `${pixelFormat} needs even width and height, "${out.id}" is ${width}x${height}: scale or crop to even`,
      });
    }
    const profile = profileProblem(v.codec as VideoCodec, v.profile, pixelFormat);
    if (profile && v.codec !== 'copy')
      issues.push({ path: at('codec.video.profile'), code: 'incompatible_codec', message: profile });
    if (v.codec === 'copy' && meta.video!.rotation && DROPS_ROTATION.has(format)) {
      issues.push({
        path: at('codec.video.codec'),
        code: 'incompatible_codec',
        message: `the input is rotated ${meta.video!.rotation}° and ${format} cannot keep that when copying: write mp4 or mov, or re-encode`,
      });
    }
    video = { ...v, preset: v.preset ?? 'medium', pixel_format: pixelFormat } as ResolvedVideo;
  }
  let audio: ResolvedAudio | null = hasAudio ? ({ ...audioSpec } as ResolvedAudio) : null;
  if (audio && audio.codec !== 'copy') {
    const max = MAX_CHANNELS[audio.codec];
    if (max !== undefined && audio.channels !== undefined && audio.channels > max) {
      issues.push({
        path: at('codec.audio.channels'),
        code: 'out_of_range',
        message: `${audio.codec} takes at most ${max} channels`,
      });
    } else if (max !== undefined && audio.channels === undefined && meta.audio!.channels > max) {
      audio = { ...audio, channels: max }; // a downmix we choose and say, not one FFmpeg picks silently
    }
  }

  const expect: StreamMeta = {
    duration: meta.duration,
    video: video
      ? {
          ...meta.video!,
          ...(video.codec === 'copy' ? {} : { codec: PROBED_VIDEO[video.codec] ?? video.codec }),
        }
      : null,
    audio:
      audio && meta.audio
        ? audio.codec === 'copy'
          ? meta.audio
          : {
              channels: audio.channels ?? meta.audio.channels,
              sampleRate: writtenSampleRate(audio.codec, audio.sample_rate, meta.audio.sampleRate),
              codec: PROBED_AUDIO[audio.codec] ?? audio.codec,
            }
        : null,
  };
  return issues.length > 0
    ? { value: null, issues }
    : { value: { format, video, audio, image: null, expect }, issues };
}
