/**
 * What mediaforge adds to an encode: the same FFmpeg job run by bare `ffmpeg` and by
 * `mediaforge run`, alternating, ROUNDS rounds each, in one run. The bare argv is the one
 * `mediaforge plan --json` prints for that job, so both do exactly the same encode.
 * Target (issue #3): ratio ≤ 1.02 and ≤ 150 ms added per job.
 * Last line: `overhead_ratio=X added_ms=Y`: X = median(mediaforge) / median(bare); Y = the median,
 * over runs, of mediaforge's wall time less the time its own FFmpeg process ran (the encode's
 * run-to-run variance on a shared machine would drown a plain difference; that is printed too).
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const ROUNDS = Number(process.env.ROUNDS ?? 5);
// Long enough (~12 s of encoding here) that a ratio is about the job, not the run-to-run jitter.
const SECONDS = Number(process.env.SECONDS_OF_MEDIA ?? 60);
const bin = join(import.meta.dirname, '..', 'bin', 'mediaforge.js');
const root = mkdtempSync(join(tmpdir(), 'mf-bench-'));

function run(cmd: string, args: string[]): { ms: number; stdout: string } {
  const t0 = performance.now();
  const r = spawnSync(cmd, args, {
    stdio: ['ignore', 'pipe', 'pipe'],
    encoding: 'utf8',
    maxBuffer: 64 * 1024 * 1024,
  });
  const ms = performance.now() - t0;
  if (r.status !== 0)
    throw new Error(`${cmd} ${args.slice(0, 3).join(' ')}… failed (${r.status}): ${r.stderr?.slice(-800)}`);
  return { ms, stdout: r.stdout };
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
};

try {
  mkdirSync(join(root, 'out'));
  run('ffmpeg', [
    '-v',
    'error',
    '-y',
    '-f',
    'lavfi',
    '-i',
    `testsrc2=size=1280x720:rate=30:duration=${SECONDS}`,
    '-f',
    'lavfi',
    '-i',
    `sine=duration=${SECONDS}`,
    '-c:v',
    'libx264',
    '-preset',
    'ultrafast',
    '-pix_fmt',
    'yuv420p',
    '-c:a',
    'aac',
    join(root, 'in.mp4'),
  ]);
  const spec = {
    spec: {
      inputs: [{ id: 'in', source: 'in.mp4' }],
      operations: [{ op: 'scale', input: 'in', output: 'small', params: { height: 480 } }],
      outputs: [
        {
          id: 'small',
          destination: 'out/mf.mp4',
          codec: {
            video: { codec: 'h264', preset: 'veryfast', crf: 23 },
            audio: { codec: 'aac', bitrate: '128k' },
          },
        },
      ],
    },
  };
  const specFile = join(root, 'job.json');
  writeFileSync(specFile, JSON.stringify(spec));
  const plan = run(process.execPath, [bin, 'plan', specFile, '--media-root', root, '--json']);
  const argv: string[] = JSON.parse(plan.stdout).tasks[0].argv;
  const bare = argv.map((a) =>
    a === `file:${join(root, 'out/mf.mp4')}` ? `file:${join(root, 'out/bare.mp4')}` : a,
  );

  const times = { bare: [] as number[], mediaforge: [] as number[], own: [] as number[] };
  run(bare[0]!, bare.slice(1)); // warm the page cache for both
  for (let i = 0; i < ROUNDS; i++) {
    times.bare.push(run(bare[0]!, bare.slice(1)).ms);
    const mf = run(process.execPath, [bin, 'run', specFile, '--media-root', root, '--json']);
    const result = JSON.parse(mf.stdout.trim().split('\n').at(-1)!) as { type: string; ffmpeg_ms: number };
    if (result.type !== 'result')
      throw new Error(`mediaforge run did not complete: ${mf.stdout.slice(-400)}`);
    times.mediaforge.push(mf.ms);
    times.own.push(mf.ms - result.ffmpeg_ms);
    console.log(
      `round ${i + 1}: bare ${times.bare.at(-1)!.toFixed(0)} ms, mediaforge ${mf.ms.toFixed(0)} ms (its FFmpeg ${result.ffmpeg_ms} ms)`,
    );
  }
  const b = median(times.bare);
  const m = median(times.mediaforge);
  const added = median(times.own);
  const paired = median(times.mediaforge.map((t, i) => t - times.bare[i]!));
  console.log(
    `median: bare ${b.toFixed(0)} ms, mediaforge ${m.toFixed(0)} ms (${ROUNDS} rounds, ${SECONDS} s of 720p → 480p)`,
  );
  console.log(
    `added per job: ${added.toFixed(0)} ms measured inside each run; ${paired.toFixed(0)} ms as the median paired difference`,
  );
  console.log(`overhead_ratio=${(m / b).toFixed(3)} added_ms=${added.toFixed(0)}`);
} finally {
  rmSync(root, { recursive: true, force: true });
}
