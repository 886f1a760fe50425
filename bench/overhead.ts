/**
 * What mediaforge adds to an encode: the same FFmpeg job run by bare `ffmpeg` and by
 * `mediaforge run`, alternating, ROUNDS rounds each, in one run. The bare argv is the one
 * `mediaforge plan --json` prints for that job, so both do exactly the same encode.
 * Target (issue #3): ratio ≤ 1.02 and ≤ 150 ms added per job.
 * Last line: `overhead_ratio=X added_ms=Y` (Y: median of the paired per-round differences).
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const ROUNDS = Number(process.env.ROUNDS ?? 5);
const SECONDS = Number(process.env.SECONDS_OF_MEDIA ?? 20);
const bin = join(import.meta.dirname, '..', 'bin', 'mediaforge.js');
const root = mkdtempSync(join(tmpdir(), 'mf-bench-'));

function run(cmd: string, args: string[]): number {
  const t0 = performance.now();
  const r = spawnSync(cmd, args, { stdio: ['ignore', 'ignore', 'pipe'], encoding: 'utf8' });
  const ms = performance.now() - t0;
  if (r.status !== 0)
    throw new Error(`${cmd} ${args.slice(0, 3).join(' ')}… failed (${r.status}): ${r.stderr?.slice(-800)}`);
  return ms;
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
  const plan = spawnSync(process.execPath, [bin, 'plan', specFile, '--media-root', root, '--json'], {
    encoding: 'utf8',
  });
  if (plan.status !== 0) throw new Error(`plan failed: ${plan.stderr}`);
  const argv: string[] = JSON.parse(plan.stdout).tasks[0].argv;
  const bare = argv.map((a) =>
    a === `file:${join(root, 'out/mf.mp4')}` ? `file:${join(root, 'out/bare.mp4')}` : a,
  );

  const times = { bare: [] as number[], mediaforge: [] as number[] };
  run(bare[0]!, bare.slice(1)); // warm the page cache for both
  for (let i = 0; i < ROUNDS; i++) {
    times.bare.push(run(bare[0]!, bare.slice(1)));
    times.mediaforge.push(run(process.execPath, [bin, 'run', specFile, '--media-root', root]));
    console.log(
      `round ${i + 1}: bare ${times.bare.at(-1)!.toFixed(0)} ms, mediaforge ${times.mediaforge.at(-1)!.toFixed(0)} ms`,
    );
  }
  const b = median(times.bare);
  const m = median(times.mediaforge);
  console.log(
    `median: bare ${b.toFixed(0)} ms, mediaforge ${m.toFixed(0)} ms (${ROUNDS} rounds, ${SECONDS} s of 720p → 480p)`,
  );
  console.log(`overhead_ratio=${(m / b).toFixed(3)} added_ms=${(m - b).toFixed(0)}`);
} finally {
  rmSync(root, { recursive: true, force: true });
}
