/**
 * `npm start` until the orchestrator exists: make a short test clip with FFmpeg's own generators,
 * then run an example JobSpec on it (trim, scale, fade, a watermark-free fan-out to MP4, an MP3
 * and a sprite sheet) with a progress bar, exactly as `mediaforge run` would.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { testPatternArgs } from '../core/index.js';
import { runFfmpeg } from '../media/index.js';
import { runCommand } from './commands.js';
import { openContext } from './context.js';
import { EXIT_OK, type Io, reportError } from './output.js';

export const DEMO_SPEC = {
  spec: {
    inputs: [{ id: 'clip', source: 'demo/source.mp4' }],
    operations: [
      { op: 'trim', input: 'clip', output: 'cut', params: { start: '00:00:02', duration: '00:00:08' } },
      { op: 'scale', input: 'cut', output: 'small', params: { width: 640, algorithm: 'lanczos' } },
      { op: 'fade', input: 'small', output: 'faded', params: { in: 1, out: 1 } },
      { op: 'sprite', input: 'clip', output: 'sheet', params: { interval: 2, columns: 4, width: 160 } },
    ],
    outputs: [
      {
        id: 'faded',
        destination: 'demo/out/clip-640.mp4',
        codec: {
          video: { codec: 'h264', crf: 23, preset: 'fast' },
          audio: { codec: 'aac', bitrate: '128k' },
        },
      },
      { id: 'cut', destination: 'demo/out/clip-audio.mp3' },
      { id: 'sheet', destination: 'demo/out/sprite.jpg' },
    ],
  },
};

export async function demoCommand(opts: { dir?: string; json?: boolean }, io: Io): Promise<number> {
  const root = resolve(opts.dir ?? 'data');
  try {
    await mkdir(join(root, 'demo'), { recursive: true });
    const ctx = await openContext({ mediaRoot: root });
    io.err(`mediaforge demo: media root ${root}`);
    io.err('1/2 generating a 12 s test clip (testsrc2 + a tone) → demo/source.mp4');
    await runFfmpeg({
      ffmpeg: ctx.binaries.ffmpeg.path,
      args: testPatternArgs({
        size: '1280x720',
        seconds: 12,
        preset: 'veryfast',
        out: `file:${join(root, 'demo/source.mp4')}`,
      }),
      expectedDurationSeconds: 12,
    }).done;
    const specPath = join(root, 'demo/job.json');
    await writeFile(specPath, `${JSON.stringify(DEMO_SPEC, null, 2)}\n`);
    io.err(`2/2 running ${specPath} (the same as: mediaforge run ${specPath} --media-root ${root})`);
    const code = await runCommand(specPath, { mediaRoot: root, ...(opts.json ? { json: true } : {}) }, io);
    if (code === EXIT_OK) io.err(`done: outputs are in ${join(root, 'demo/out')}`);
    return code;
  } catch (e) {
    return reportError(e, io, !!opts.json);
  }
}
