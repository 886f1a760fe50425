/**
 * The CLI contract of the README, on the built CLI run as a real process (`node bin/mediaforge.js`):
 * exit codes (0 ok, 1 failed run, 2 invalid spec or settings), `error: <code>: <message>` lines,
 * `--json` lines, plan/probe/doctor output, settings errors that name the key, media root resolution.
 */
import { copyFile, mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { makeClip } from '../src/media/test-support/make-media.js';
import { ensureBuilt, jsonLines, REPO, runCli } from './helpers/cli.js';
import { snapshot } from './helpers/fs-state.js';
import { probeFile, tempRoot, testBinaries } from './helpers/pipeline.js';

let clip: string;
beforeAll(async () => {
  await ensureBuilt();
  clip = await makeClip({ seconds: 1, size: '160x120' });
}, 300_000);

const FAST = { video: { codec: 'h264', preset: 'ultrafast' }, audio: { codec: 'aac' } };

/** in.mp4 → scale to 80 wide → out/small.mp4, as the API takes it ({spec: ...}). */
function scaleJob(source = 'in.mp4', params: Record<string, unknown> = { width: 80 }) {
  return {
    spec: {
      inputs: [{ id: 'in', source }],
      operations: [{ op: 'scale', input: 'in', output: 'small', params }],
      outputs: [{ id: 'small', destination: 'out/small.mp4', codec: FAST }],
    },
  };
}

/** A media root holding in.mp4 and job.json. */
async function rootWithJob(job: unknown = scaleJob()): Promise<string> {
  const root = tempRoot('mf-cli-');
  await copyFile(clip, join(root, 'in.mp4'));
  await writeFile(join(root, 'job.json'), JSON.stringify(job));
  return root;
}

describe('--version and --help', () => {
  it('prints the package version, exit 0', async () => {
    const pkg = JSON.parse(await readFile(join(REPO, 'package.json'), 'utf8')) as { version: string };
    for (const flag of ['--version', '-v']) {
      const r = await runCli([flag], { cwd: REPO });
      expect(r).toMatchObject({ code: 0, stdout: `${pkg.version}\n`, stderr: '' });
    }
  });

  it('lists the commands and their options, exit 0', async () => {
    const r = await runCli(['--help'], { cwd: REPO });
    expect(r.code).toBe(0);
    for (const command of [
      'run [options] <spec>',
      'plan [options] <spec>',
      'probe [options] <file>',
      'doctor',
    ])
      expect(r.stdout).toContain(command);
    const run = await runCli(['run', '--help'], { cwd: REPO });
    expect(run.code).toBe(0);
    for (const option of ['--media-root <dir>', '--config <file>', '--json'])
      expect(run.stdout).toContain(option);
  });

  it('an unknown command or a missing argument: exit 2 with the reason', async () => {
    const bogus = await runCli(['bogus'], { cwd: REPO });
    expect(bogus.code).toBe(2);
    expect(bogus.stderr).toContain("unknown command 'bogus'");
    const bare = await runCli(['run'], { cwd: REPO });
    expect(bare.code).toBe(2);
    expect(bare.stderr).toContain("missing required argument 'spec'");
  });
});

describe('run', () => {
  it('succeeds: exit 0, one ✓ line per output, the file is there', async () => {
    const root = await rootWithJob();
    const r = await runCli(['run', 'job.json'], { cwd: root });
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const out = join(root, 'out', 'small.mp4');
    expect(r.stdout).toMatch(
      new RegExp(
        `^✓ outputs\\[0\\] small → ${out.replace(/[.]/g, '\\.')} \\(.+ KiB; 1\\.0\\d s, h264 80x60 25\\.00 fps, aac 48000 Hz 1 ch\\)\\n$`,
      ),
    );
    const info = await probeFile(out);
    expect(info.streams[0]).toMatchObject({ type: 'video', width: 80, height: 60 });
  });

  it('an invalid spec: exit 2, every problem with its path and message, nothing written', async () => {
    const root = await rootWithJob(scaleJob('in.mp4', { width: 99999, colour: 'red' }));
    const before = snapshot(root);
    const r = await runCli(['run', 'job.json'], { cwd: root });
    expect(r.code).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr).toBe(
      [
        'error: validation_error: the job spec has 2 problems:',
        '  operations[0].params.width: Too big: expected number to be <=16384 [out_of_range]',
        '  operations[0].params.colour: unknown key "colour" [unknown_key]',
      ].join('\n'),
    );
    expect(snapshot(root)).toEqual(before);
  });

  it('a failed run: exit 1 and `error: input_not_found: …`', async () => {
    const root = await rootWithJob(scaleJob('missing.mp4'));
    const before = snapshot(root);
    const r = await runCli(['run', 'job.json'], { cwd: root });
    expect(r.code).toBe(1);
    expect(r.stdout).toBe('');
    expect(r.stderr).toMatch(/^error: input_not_found: .*missing\.mp4$/);
    expect(snapshot(root)).toEqual(before);
  });

  it('--json: every line is JSON, progress then one result', async () => {
    const root = await rootWithJob();
    const r = await runCli(['run', 'job.json', '--json'], { cwd: root });
    expect(r.code).toBe(0);
    expect(r.stderr).toBe('');
    const lines = jsonLines(r.stdout);
    const result = lines.at(-1)!;
    const progress = lines.slice(0, -1);
    expect(progress.length).toBeGreaterThan(0);
    for (const p of progress) expect(p).toMatchObject({ type: 'progress', task: 't0' });
    const percents = progress.map((p) => p.jobPercent as number);
    expect(percents).toEqual([...percents].sort((a, b) => a - b));
    expect(progress.at(-1)).toMatchObject({ done: true, jobPercent: 100 });
    const out = join(root, 'out', 'small.mp4');
    expect(result).toEqual({
      type: 'result',
      status: 'completed',
      ffmpeg_ms: expect.any(Number),
      outputs: [
        { index: 0, id: 'small', files: [out], size: expect.any(Number), duration: expect.any(Number) },
      ],
    });
    expect(result.ffmpeg_ms as number).toBeGreaterThan(0);
    expect((await probeFile(out)).format.size).toBe((result.outputs as Array<{ size: number }>)[0]!.size);
  });

  it('--json on an invalid spec: one error line with the details, exit 2', async () => {
    const root = await rootWithJob(scaleJob('in.mp4', { width: -5 }));
    const r = await runCli(['run', 'job.json', '--json'], { cwd: root });
    expect(r.code).toBe(2);
    expect(jsonLines(r.stdout)).toEqual([
      {
        type: 'error',
        error: 'validation_error',
        message: expect.stringContaining('operations[0].params.width'),
        details: [{ path: 'operations[0].params.width', code: 'out_of_range', message: expect.any(String) }],
      },
    ]);
  });

  it('--json on a failed run: one error line with the code, exit 1', async () => {
    const root = await rootWithJob(scaleJob('missing.mp4'));
    const r = await runCli(['run', 'job.json', '--json'], { cwd: root });
    expect(r.code).toBe(1);
    expect(jsonLines(r.stdout)).toEqual([
      { type: 'error', error: 'input_not_found', message: expect.stringContaining('missing.mp4') },
    ]);
  });

  it.each([
    ['a spec file that does not exist', null, 'invalid_request', /cannot read nope\.json: ENOENT/],
    ['a spec file that is not JSON', '{"spec": ', 'invalid_request', /is not valid JSON/],
    ['a JSON array', '[]', 'invalid_request', /must be a JSON object/],
    ['an object without a spec', '{"priority": 1}', 'missing_spec', /has no spec/],
  ])('%s: exit 2, %s', async (_name, content, code, message) => {
    const root = tempRoot('mf-cli-');
    if (content !== null) await writeFile(join(root, 'nope.json'), content);
    const r = await runCli(['run', 'nope.json'], { cwd: root });
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(new RegExp(`^error: ${code}: `));
    expect(r.stderr).toMatch(message);
  });
});

describe('plan', () => {
  it('prints stages, tasks and each task’s exact argv, and writes nothing', async () => {
    const root = await rootWithJob();
    const before = snapshot(root);
    const ffmpeg = (await testBinaries()).ffmpeg.path;
    const r = await runCli(['plan', 'job.json'], { cwd: root });
    expect(r.code).toBe(0);
    expect(r.stderr).toBe('');
    const lines = r.stdout.split('\n');
    expect(lines.slice(0, 3)).toEqual(['Stages:', '  0: in', '  1: small']);
    expect(lines[3]).toMatch(/^Estimate: 1 s of media, [\d.]+ CPU-s, \d+ MiB, ~[\d.]+ \w+ out$/);
    expect(lines[4]).toBe('Tasks:');
    expect(lines[5]).toBe('  t0 (transcode): outputs[0]');
    expect(lines[6]).toMatch(new RegExp(`^    ${ffmpeg} -hide_banner -nostdin .* -protocol_whitelist file `));
    expect(lines[6]).toContain(` -i file:${root}/in.mp4 `);
    expect(lines[6]).toMatch(new RegExp(`-f mp4 file:${root}/out/small\\.mp4$`));
    expect(snapshot(root)).toEqual(before);
  });

  it('--json: one JSON document with stages, estimate and argv arrays', async () => {
    const root = await rootWithJob();
    const r = await runCli(['plan', 'job.json', '--json'], { cwd: root });
    expect(r.code).toBe(0);
    const plan = JSON.parse(r.stdout) as {
      stages: string[][];
      estimate: Record<string, number>;
      tasks: Array<{ id: string; argv: string[] }>;
    };
    expect(plan.stages).toEqual([['in'], ['small']]);
    expect(plan.estimate).toMatchObject({ media_seconds: 1 });
    expect(plan.tasks.map((t) => t.id)).toEqual(['t0']);
    const argv = plan.tasks[0]!.argv;
    expect(argv[0]).toBe((await testBinaries()).ffmpeg.path);
    expect(argv[argv.indexOf('-i') + 1]).toBe(`file:${root}/in.mp4`);
    expect(argv.at(-1)).toBe(`file:${root}/out/small.mp4`);
  });

  it('an invalid spec: exit 2 like run', async () => {
    const root = await rootWithJob(scaleJob('../in.mp4'));
    const r = await runCli(['plan', 'job.json'], { cwd: root });
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(
      /^ {2}inputs\[0\]\.source: resolves outside the media root .*\[path_outside_root\]$/m,
    );
  });
});

describe('probe', () => {
  it('describes a media file; --json gives the MediaInfo', async () => {
    const root = await rootWithJob();
    const r = await runCli(['probe', 'in.mp4'], { cwd: root });
    expect(r.code).toBe(0);
    expect(r.stdout.split('\n')).toEqual([
      expect.stringMatching(
        /^in\.mp4: mov,mp4,m4a,3gp,3g2,mj2, 1\.0\d s, h264 160x120 25\.00 fps, aac 48000 Hz 1 ch, [\d.]+ KiB$/,
      ),
      '  #0 video h264 160x120',
      '  #1 audio aac',
      '',
    ]);
    const json = await runCli(['probe', 'in.mp4', '--json'], { cwd: root });
    expect(json.code).toBe(0);
    const info = JSON.parse(json.stdout);
    expect(info.format.name).toBe('mov,mp4,m4a,3gp,3g2,mj2');
    expect(info.streams).toMatchObject([
      { type: 'video', codec: 'h264', width: 160, height: 120 },
      { type: 'audio', codec: 'aac', channels: 1 },
    ]);
  });

  it('a missing file: exit 1 input_not_found; a text file: exit 1 input_not_media', async () => {
    const root = await rootWithJob();
    await writeFile(join(root, 'notes.mp4'), 'just text\n');
    const missing = await runCli(['probe', 'nope.mp4'], { cwd: root });
    expect(missing.code).toBe(1);
    expect(missing.stderr).toMatch(/^error: input_not_found: nope\.mp4/);
    const text = await runCli(['probe', 'notes.mp4', '--json'], { cwd: root });
    expect(text.code).toBe(1);
    expect(jsonLines(text.stdout)).toEqual([
      { type: 'error', error: 'input_not_media', message: expect.any(String) },
    ]);
  });
});

describe('doctor', () => {
  it('shows the FFmpeg in use and libx264 passing its test encode', async () => {
    const r = await runCli(['doctor'], { cwd: tempRoot('mf-cli-') });
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^ffmpeg {3}\d+\.\d+\S* {2}\/\S+ {2}\(from \w+\)$/m);
    expect(r.stdout).toMatch(/^ffprobe {2}\d+\.\d+\S* {2}\/\S+ {2}\(from \w+\)$/m);
    expect(r.stdout).toMatch(/^ {2}✓ libx264 +\d+ ms$/m);
  });
});

describe('settings', () => {
  it('a bad value in the environment: exit 2, config_invalid naming the variable', async () => {
    const root = await rootWithJob();
    const before = snapshot(root);
    const r = await runCli(['run', 'job.json'], {
      cwd: root,
      env: { MEDIAFORGE_PROBE_TIMEOUT_SECONDS: 'abc' },
    });
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/^error: config_invalid: .*MEDIAFORGE_PROBE_TIMEOUT_SECONDS: /);
    expect(snapshot(root)).toEqual(before);
  });

  it('an unknown variable: exit 2, config_invalid naming it, for every command', async () => {
    const root = await rootWithJob();
    for (const args of [['run', 'job.json'], ['plan', 'job.json'], ['probe', 'in.mp4'], ['doctor']]) {
      const r = await runCli(args, { cwd: root, env: { MEDIAFORGE_FOO: '1' } });
      expect(r.code, args.join(' ')).toBe(2);
      expect(r.stderr).toMatch(/^error: config_invalid: unknown setting MEDIAFORGE_FOO /);
    }
  });

  it('a YAML file with an unknown key: exit 2, naming the file and the key (--config and MEDIAFORGE_CONFIG)', async () => {
    const root = await rootWithJob();
    await writeFile(join(root, 'settings.yaml'), 'max_pixels: 1000000\nprobe_timeout: 3\n');
    const flag = await runCli(['run', 'job.json', '--config', 'settings.yaml'], { cwd: root });
    expect(flag.code).toBe(2);
    expect(flag.stderr).toMatch(/^error: config_invalid: .*unknown setting settings\.yaml: probe_timeout /);
    const env = await runCli(['run', 'job.json', '--json'], {
      cwd: root,
      env: { MEDIAFORGE_CONFIG: join(root, 'settings.yaml') },
    });
    expect(env.code).toBe(2);
    expect(jsonLines(env.stdout)).toEqual([
      {
        type: 'error',
        error: 'config_invalid',
        message: expect.stringMatching(/settings\.yaml: probe_timeout/),
      },
    ]);
  });

  it.each([
    ['a bad value', 'max_pixels: lots\n', /settings\.yaml: max_pixels: /],
    ['not a mapping', '- a\n- b\n', /must be a mapping of settings/],
    ['not YAML', 'max_pixels: [1,\n', /is not valid YAML/],
  ])('a YAML file with %s: exit 2, config_invalid', async (_name, yaml, message) => {
    const root = await rootWithJob();
    await writeFile(join(root, 'settings.yaml'), yaml);
    const r = await runCli(['run', 'job.json', '--config', 'settings.yaml'], { cwd: root });
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/^error: config_invalid: /);
    expect(r.stderr).toMatch(message);
  });

  // Number('') is 0: an empty variable would silently mean a 0 s timeout, so it is refused.
  it('an empty value in the environment: exit 2, config_invalid naming the variable', async () => {
    const root = await rootWithJob();
    const r = await runCli(['run', 'job.json'], { cwd: root, env: { MEDIAFORGE_PROBE_TIMEOUT_SECONDS: '' } });
    expect(r.stderr).toMatch(/^error: config_invalid: .*MEDIAFORGE_PROBE_TIMEOUT_SECONDS/);
    expect(r.code).toBe(2);
  });
});

describe('the media root', () => {
  /** base/work/job.json (where the command runs), base/media/in.mp4 (the media). */
  async function layout(): Promise<{ base: string; work: string; media: string }> {
    const base = tempRoot('mf-cli-');
    const work = join(base, 'work');
    const media = join(base, 'media');
    await mkdir(work);
    await mkdir(media);
    await copyFile(clip, join(media, 'in.mp4'));
    await writeFile(join(work, 'job.json'), JSON.stringify(scaleJob()));
    return { base, work, media };
  }

  it('defaults to the current directory', async () => {
    const { work, media } = await layout();
    await copyFile(join(media, 'in.mp4'), join(work, 'in.mp4'));
    const r = await runCli(['run', 'job.json'], { cwd: work });
    expect(r.code, r.stderr).toBe(0);
    expect(snapshot(work).map((l) => l.split(' ')[0])).toEqual([
      'in.mp4',
      'job.json',
      'out',
      'out/small.mp4',
    ]);
  });

  it('--media-root: relative paths in the spec resolve under it, the spec file under the current directory', async () => {
    const { work, media } = await layout();
    const r = await runCli(['run', 'job.json', '--media-root', media], { cwd: work });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain(`→ ${join(media, 'out', 'small.mp4')} (`);
    expect(snapshot(work).map((l) => l.split(' ')[0])).toEqual(['job.json']);
    expect(snapshot(media).map((l) => l.split(' ')[0])).toEqual(['in.mp4', 'out', 'out/small.mp4']);
  });

  it('a relative --media-root resolves against the current directory', async () => {
    const { base, media } = await layout();
    const r = await runCli(['run', 'work/job.json', '--media-root', 'media'], { cwd: base });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain(`→ ${join(media, 'out', 'small.mp4')} (`);
  });

  it('MEDIAFORGE_MEDIA_ROOT is used without the flag, and the flag wins over it', async () => {
    const { base, work, media } = await layout();
    const fromEnv = await runCli(['run', 'job.json', '--json'], {
      cwd: work,
      env: { MEDIAFORGE_MEDIA_ROOT: media },
    });
    expect(fromEnv.code, fromEnv.stdout).toBe(0);
    const empty = join(base, 'empty');
    await mkdir(empty);
    const flagWins = await runCli(['run', 'job.json', '--media-root', empty], {
      cwd: work,
      env: { MEDIAFORGE_MEDIA_ROOT: media },
    });
    expect(flagWins.code).toBe(1);
    expect(flagWins.stderr).toMatch(/^error: input_not_found: /);
    expect(flagWins.stderr).toContain(join(empty, 'in.mp4'));
  });

  it('a relative path that climbs out of it: exit 2, path_outside_root, even when the file exists', async () => {
    const { base, work, media } = await layout();
    await copyFile(clip, join(base, 'secret.mp4'));
    await writeFile(join(work, 'job.json'), JSON.stringify(scaleJob('../secret.mp4')));
    const before = snapshot(base);
    const r = await runCli(['run', 'job.json', '--media-root', media], { cwd: work });
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(
      /^ {2}inputs\[0\]\.source: resolves outside the media root .*\[path_outside_root\]$/m,
    );
    expect(snapshot(base)).toEqual(before);
  });
});
