/**
 * A fake `ffmpeg` for hardware tests on machines without the hardware: a shell script (a test
 * fixture; production never runs a shell) that hands everything to the real FFmpeg, except that
 * `-encoders` also lists the encoders asked for, and a run naming one of them fails the way a
 * listed NVENC fails without a GPU.
 *
 *   const ffmpeg = writeFakeFfmpeg({ list: ['h264_nvenc'], fail: ['h264_nvenc'] });
 *   const flaky = writeFakeFfmpeg({ list: ['h264_nvenc'], failOutsideProbe: ['h264_nvenc'] });
 */
import { mkdtempSync } from 'node:fs';
import { join } from 'node:path';
import { PROBE_SOURCE } from '../hw-probe.js';
import { findExecutable } from '../process.js';
import { ffmpegForTests, makeExecutable, mediaTempDir } from './make-media.js';

export interface FakeFfmpegOptions {
  /** Encoders added to the real `-encoders` list (`h264_nvenc`: codec h264). */
  list?: readonly string[];
  /** Encoders whose every run fails ("Cannot load libcuda.so.1", exit 1). */
  fail?: readonly string[];
  /**
   * Encoders that pass the prober's test encode and fail on anything else: hardware that works
   * at the probe and breaks on a real task. The pass is made up (a progress report and a bench
   * line are printed, nothing is encoded): there is no such hardware here to encode with.
   */
  failOutsideProbe?: readonly string[];
  /** A file that gets each run's arguments, one line a run. */
  log?: string;
  /** The FFmpeg to hand over to; default MEDIAFORGE_FFMPEG or `ffmpeg` on PATH. */
  real?: string;
  /** Default: a new folder in this process's temp folder. */
  dir?: string;
}

const NAME = /^[a-z0-9_]+$/;
/** A single-quoted shell word. */
const sq = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;

const FAILURE = [
  'echo "[$enc @ 0x5648a0ab3680] Cannot load libcuda.so.1" >&2',
  'echo "Error initializing output stream 0:0 -- Error while opening encoder for output stream #0:0 - maybe incorrect parameters such as bit_rate, rate, width or height" >&2',
  // FFmpeg 5.1 prints its memory line on the way out of a failed run too.
  'case " $* " in *" -benchmark "*) echo "bench: maxrss=50936kB" >&2 ;; esac',
  'exit 1',
].join('; ');

export function writeFakeFfmpeg(options: FakeFfmpegOptions = {}): string {
  const names = [...(options.list ?? []), ...(options.fail ?? []), ...(options.failOutsideProbe ?? [])];
  const odd = names.find((n) => !NAME.test(n));
  if (odd !== undefined) throw new Error(`writeFakeFfmpeg: not an encoder name: ${odd}`);
  const real = options.real ?? findExecutable(ffmpegForTests(), process.env.PATH);
  if (!real) throw new Error('writeFakeFfmpeg: no real ffmpeg to hand over to');

  const lines = [`real=${sq(real)}`];
  if (options.log) lines.push(`printf '%s\\n' "$*" >> ${sq(options.log)}`);
  lines.push('case " $* " in', '  *" -encoders "*)', '    "$real" "$@" || exit $?');
  for (const n of options.list ?? [])
    lines.push(`    echo " V....D ${n.padEnd(20)} Fake hardware encoder (codec ${n.split('_')[0]})"`);
  lines.push('    exit 0 ;;', 'esac');
  for (const n of options.fail ?? []) lines.push(`case " $* " in *" ${n} "*) enc=${n}; ${FAILURE} ;; esac`);
  for (const n of options.failOutsideProbe ?? []) {
    lines.push(
      `case " $* " in *" ${n} "*)`,
      `  case " $* " in *" ${PROBE_SOURCE} "*)`,
      `    printf 'frame=60\\nfps=0.00\\nprogress=end\\n'`,
      `    echo "bench: utime=0.010s stime=0.000s rtime=0.100s" >&2`,
      '    exit 0 ;;',
      `  esac`,
      `  enc=${n}; ${FAILURE} ;;`,
      'esac',
    );
  }
  lines.push('exec "$real" "$@"');
  const dir = options.dir ?? mkdtempSync(join(mediaTempDir(), 'fake-ffmpeg-'));
  return makeExecutable('ffmpeg', lines.join('\n'), dir);
}
