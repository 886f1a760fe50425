/**
 * Hostile and broken JobSpecs through the whole pipeline (validate → probe → plan → run): each
 * fails with its documented code (docs/errors.md) and leaves the media root exactly as it was —
 * no output, no temporary file, no folder, no changed file.
 */
import { lstatSync } from 'node:fs';
import { copyFile, link, mkdir, readFile, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { crc32, deflateSync } from 'node:zlib';
import { beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../src/config/index.js';
import type { MediaInfo } from '../src/core/index.js';
import { runProcess } from '../src/media/index.js';
import { makeClip } from '../src/media/test-support/make-media.js';
import { executeJob, localTools, type MediaTools, prepareJob } from '../src/pipeline/index.js';
import { mediaRoots } from '../src/storage/index.js';
import { atimeMs, markUnread, snapshot } from './helpers/fs-state.js';
import { listFiles, probeFile, runSpec, runSpecError, tempRoot, testBinaries } from './helpers/pipeline.js';
import { makeMislabelled } from './helpers/sources.js';

const FAST = { video: { codec: 'h264', preset: 'ultrafast' }, audio: { codec: 'aac' } };

/** One input written straight to one output (or through `operations`), the smallest real job. */
function job(
  source: string,
  o: { destination?: string; operations?: unknown[]; id?: string; codec?: unknown } = {},
): unknown {
  return {
    inputs: [{ id: 'in', source }],
    operations: o.operations ?? [],
    outputs: [
      {
        id: o.id ?? 'in',
        destination: o.destination ?? 'out.mp4',
        ...(o.codec === null ? {} : { codec: o.codec ?? FAST }),
      },
    ],
  };
}

const scaleJob = (params: unknown) =>
  job('in.mp4', { operations: [{ op: 'scale', input: 'in', output: 'x', params }], id: 'x' });
const trimJob = (params: unknown) =>
  job('in.mp4', { operations: [{ op: 'trim', input: 'in', output: 'x', params }], id: 'x' });

interface Want {
  code: string;
  /** For a validation_error: what every problem in `details` (at least one) must say. */
  issue?: { path: string; code: string };
  message?: RegExp;
  settings?: Record<string, unknown>;
}

/**
 * Runs a spec that must fail as `want` says, and proves that `watch` (the root, or a folder around
 * it) did not change at all: snapshot() is listFiles() plus folders, links, sizes and mtimes.
 */
async function refused(spec: unknown, root: string, want: Want, watch: string = root) {
  const before = snapshot(watch);
  const e = await runSpecError(spec, root, want.settings ? { settings: want.settings } : {});
  expect(e.code, `${e.code}: ${e.message}`).toBe(want.code);
  if (want.issue) {
    expect(e.details).not.toHaveLength(0);
    for (const d of e.details as unknown[]) expect(d).toMatchObject(want.issue);
  } else expect(e.details).toBeUndefined();
  if (want.message) expect(e.message).toMatch(want.message);
  expect(snapshot(watch)).toEqual(before);
  return e;
}

let clip: string;
beforeAll(async () => {
  clip = await makeClip({ seconds: 1, size: '160x120' });
});

/** A root holding a real clip `in.mp4`, inside an outer folder that holds another real clip `x.mp4`. */
async function setup(): Promise<{ outer: string; root: string }> {
  const outer = tempRoot('mf-outer-');
  const root = join(outer, 'root');
  await mkdir(root);
  await copyFile(clip, join(root, 'in.mp4'));
  await copyFile(clip, join(outer, 'x.mp4'));
  return { outer, root };
}

/** A PNG that says it is width×height, with a tiny valid IDAT: FFmpeg learns the size from IHDR alone. */
function pngHeader(width: number, height: number): Buffer {
  const chunk = (type: string, data: Buffer) => {
    const body = Buffer.concat([Buffer.from(type, 'ascii'), data]);
    const len = Buffer.alloc(4);
    len.writeUInt32BE(data.length);
    const crc = Buffer.alloc(4);
    crc.writeUInt32BE(crc32(body));
    return Buffer.concat([len, body, crc]);
  };
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(width, 0);
  ihdr.writeUInt32BE(height, 4);
  ihdr[8] = 8; // bit depth; colour type 0 (grey), deflate, filter 0, no interlace
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk('IHDR', ihdr),
    chunk('IDAT', deflateSync(Buffer.from([0, 0]))), // one filter byte, one grey pixel
    chunk('IEND', Buffer.alloc(0)),
  ]);
}

describe('inputs that are not media', () => {
  it('a missing file: input_not_found', async () => {
    const { root } = await setup();
    await refused(job('nope.mp4'), root, { code: 'input_not_found' });
  });

  it('a text file named .mp4: input_not_media', async () => {
    const { root } = await setup();
    await writeFile(join(root, 'notes.mp4'), 'hello, this is text\nnot a video\n');
    await refused(job('notes.mp4'), root, { code: 'input_not_media' });
  });

  // The mp3 demuxer takes text for a broken stream ("Failed to read frame size"): not media.
  it('a text file named .mp3: input_not_media', async () => {
    const { root } = await setup();
    await writeFile(join(root, 'notes.mp3'), 'hello, this is text\nnot a song\n');
    await refused(job('notes.mp3', { destination: 'out.mp3', codec: null }), root, {
      code: 'input_not_media',
    });
  });

  it('a zero-length file: input_not_media', async () => {
    const { root } = await setup();
    await writeFile(join(root, 'empty.mp4'), '');
    await refused(job('empty.mp4'), root, { code: 'input_not_media', message: /empty/ });
  });

  it('a directory: input_not_media', async () => {
    const { root } = await setup();
    await mkdir(join(root, 'folder.mp4'));
    await refused(job('folder.mp4'), root, { code: 'input_not_media', message: /folder/ });
  });

  it('a FIFO (would block a reader forever): input_not_media', async () => {
    const { root } = await setup();
    const r = await runProcess('mkfifo', [join(root, 'pipe.mp4')], { timeoutMs: 10_000 });
    expect(r.code).toBe(0);
    await refused(job('pipe.mp4'), root, { code: 'input_not_media', message: /not a regular file/ });
  });

  it('the media root itself: validation_error', async () => {
    const { root } = await setup();
    await refused(job('.'), root, {
      code: 'validation_error',
      issue: { path: 'inputs[0].source', code: 'invalid_value' },
    });
  });
});

describe('graphs that are not DAGs of known operators', () => {
  it('an unknown operator', async () => {
    const { root } = await setup();
    await refused(
      job('in.mp4', { operations: [{ op: 'explode', input: 'in', output: 'x' }], id: 'x' }),
      root,
      { code: 'validation_error', issue: { path: 'operations[0].op', code: 'unknown_operator' } },
    );
  });

  it('a cycle: validation_error, cycle, and the message names the loop', async () => {
    const { root } = await setup();
    const before = snapshot(root);
    const e = await runSpecError(
      job('in.mp4', {
        operations: [
          { op: 'scale', input: 'b', output: 'a', params: { width: 64 } },
          { op: 'scale', input: 'a', output: 'b', params: { width: 64 } },
        ],
        id: 'a',
      }),
      root,
    );
    expect(e.code).toBe('validation_error');
    expect(e.details).toEqual([expect.objectContaining({ code: 'cycle', path: 'operations[0]' })]);
    expect(e.message).toMatch(/cycle: a → b → a/);
    expect(snapshot(root)).toEqual(before);
  });

  it('an operation that reads its own output: a cycle of one', async () => {
    const { root } = await setup();
    const e = await refused(
      job('in.mp4', {
        operations: [
          { op: 'scale', input: 'in', output: 'y', params: { width: 64 } },
          { op: 'scale', input: 'x', output: 'x', params: { width: 64 } },
        ],
        id: 'y',
      }),
      root,
      { code: 'validation_error', issue: { path: 'operations[1]', code: 'cycle' } },
    );
    expect(e.message).toMatch(/cycle: x → x/);
  });

  it('a dangling reference from an operation', async () => {
    const { root } = await setup();
    await refused(
      job('in.mp4', {
        operations: [{ op: 'scale', input: 'ghost', output: 'x', params: { width: 64 } }],
        id: 'x',
      }),
      root,
      { code: 'validation_error', issue: { path: 'operations[0].input', code: 'unknown_reference' } },
    );
  });

  it('a dangling reference from an output', async () => {
    const { root } = await setup();
    await refused(job('in.mp4', { id: 'ghost' }), root, {
      code: 'validation_error',
      issue: { path: 'outputs[0].id', code: 'unknown_reference' },
    });
  });

  it('duplicate ids: two inputs, an operation output named like an input, two outputs to one file', async () => {
    const { root } = await setup();
    await refused(
      {
        inputs: [
          { id: 'in', source: 'in.mp4' },
          { id: 'in', source: 'in.mp4' },
        ],
        outputs: [{ id: 'in', destination: 'out.mp4' }],
      },
      root,
      { code: 'validation_error', issue: { path: 'inputs[1].id', code: 'duplicate_id' } },
    );
    await refused(
      job('in.mp4', { operations: [{ op: 'scale', input: 'in', output: 'in', params: { width: 64 } }] }),
      root,
      { code: 'validation_error', issue: { path: 'operations[0].output', code: 'duplicate_id' } },
    );
    await refused(
      {
        inputs: [{ id: 'in', source: 'in.mp4' }],
        outputs: [
          { id: 'in', destination: 'out.mp4' },
          { id: 'in', destination: 'out.mp4' },
        ],
      },
      root,
      { code: 'validation_error', issue: { path: 'outputs[1].destination', code: 'duplicate_id' } },
    );
  });

  it('two outputs to one file, spelled differently: duplicate_id', async () => {
    const { root } = await setup();
    for (const other of ['./out.mp4', 'sub/../out.mp4', `file://${root}/out.mp4`]) {
      await refused(
        {
          inputs: [{ id: 'in', source: 'in.mp4' }],
          outputs: [
            { id: 'in', destination: 'out.mp4', codec: FAST },
            { id: 'in', destination: other, codec: FAST },
          ],
        },
        root,
        { code: 'validation_error', issue: { path: 'outputs[1].destination', code: 'duplicate_id' } },
      );
    }
  });
});

describe('parameters that are not numbers, or not sane ones', () => {
  const cases: Array<[string, unknown, string, string]> = [
    ['scale width "NaN"', scaleJob({ width: 'NaN' }), 'operations[0].params.width', 'invalid_type'],
    ['scale width NaN', scaleJob({ width: Number.NaN }), 'operations[0].params.width', 'invalid_type'],
    ['scale width "Infinity"', scaleJob({ width: 'Infinity' }), 'operations[0].params.width', 'invalid_type'],
    [
      'scale width Infinity',
      scaleJob({ width: Number.POSITIVE_INFINITY }),
      'operations[0].params.width',
      'invalid_type',
    ],
    ['scale width -5', scaleJob({ width: -5 }), 'operations[0].params.width', 'out_of_range'],
    ['scale width 0', scaleJob({ width: 0 }), 'operations[0].params.width', 'out_of_range'],
    ['scale width 1e12', scaleJob({ width: 1e12 }), 'operations[0].params.width', 'out_of_range'],
    ['scale height 2**53', scaleJob({ height: 2 ** 53 }), 'operations[0].params.height', 'out_of_range'],
    ['scale width "64"', scaleJob({ width: '64' }), 'operations[0].params.width', 'invalid_type'],
    ['trim start "-1"', trimJob({ start: '-1' }), 'operations[0].params.start', 'invalid_format'],
    ['trim start -1', trimJob({ start: -1 }), 'operations[0].params.start', 'out_of_range'],
    ['trim start "NaN"', trimJob({ start: 'NaN' }), 'operations[0].params.start', 'invalid_format'],
    ['trim start NaN', trimJob({ start: Number.NaN }), 'operations[0].params.start', 'invalid_type'],
    ['trim duration 1e9', trimJob({ duration: 1e9 }), 'operations[0].params.duration', 'out_of_range'],
    ['trim duration "1e9"', trimJob({ duration: '1e9' }), 'operations[0].params.duration', 'invalid_format'],
    [
      'trim duration "Infinity"',
      trimJob({ duration: 'Infinity' }),
      'operations[0].params.duration',
      'invalid_format',
    ],
    [
      'trim duration Infinity',
      trimJob({ duration: Number.POSITIVE_INFINITY }),
      'operations[0].params.duration',
      'invalid_type',
    ],
    ['trim duration 0', trimJob({ duration: 0 }), 'operations[0].params.duration', 'out_of_range'],
    [
      'trim duration "00:99:00"',
      trimJob({ duration: '00:99:00' }),
      'operations[0].params.duration',
      'invalid_format',
    ],
    [
      'trim duration as an option "-t 1"',
      trimJob({ duration: '-t 1' }),
      'operations[0].params.duration',
      'invalid_format',
    ],
    [
      'crf -1',
      job('in.mp4', { codec: { video: { codec: 'h264', crf: -1 } } }),
      'outputs[0].codec.video.crf',
      'out_of_range',
    ],
    [
      'crf 1e9',
      job('in.mp4', { codec: { video: { codec: 'h264', crf: 1e9 } } }),
      'outputs[0].codec.video.crf',
      'out_of_range',
    ],
  ];
  it.each(cases)('%s: validation_error at its path', async (_name, spec, path, code) => {
    const { root } = await setup();
    await refused(spec, root, { code: 'validation_error', issue: { path, code } });
  });
});

describe('names that look like options', () => {
  it('a real clip in a file named "-i" is read as a file, and written to "-map.mp4"', async () => {
    const { root } = await setup();
    await copyFile(clip, join(root, '-i'));
    const result = await runSpec(job('-i', { destination: '-map.mp4' }), root);
    expect(result.outputs[0]!.files).toEqual([join(root, '-map.mp4')]);
    const info = await probeFile(join(root, '-map.mp4'));
    expect(info.format.duration).toBeCloseTo(1, 1);
    expect(info.streams.map((s) => s.type)).toEqual(['video', 'audio']);
    expect(listFiles(root)).toEqual(['-i', '-map.mp4', 'in.mp4']);
  });

  it('a missing "-f" is input_not_found, never an option', async () => {
    const { root } = await setup();
    await refused(job('-f'), root, { code: 'input_not_found' });
  });
});

describe('names with image2 patterns in them', () => {
  it('an input named pic-%d.png is never expanded to the sequence pic-1.png, pic-2.png…', async () => {
    const { root } = await setup();
    await copyFile(await makeClip({ format: 'png', audio: false }), join(root, 'pic-1.png'));
    await refused(job('pic-%d.png', { destination: 'out.jpg', codec: null }), root, {
      code: 'input_not_found',
    });
  });

  it('a destination named thumb-%03d.jpg is written under that very name', async () => {
    const { root } = await setup();
    await copyFile(await makeClip({ format: 'png', audio: false }), join(root, 'pic.png'));
    await runSpec(job('pic.png', { destination: 'thumb-%03d.jpg', codec: null }), root);
    expect(listFiles(root)).toEqual(['in.mp4', 'pic.png', 'thumb-%03d.jpg']);
    // Looked at under a plain name: a bare ffprobe would itself expand the pattern.
    const copy = join(tempRoot('mf-look-'), 'thumb.jpg');
    await copyFile(join(root, 'thumb-%03d.jpg'), copy);
    expect((await probeFile(copy)).streams[0]).toMatchObject({ codec: 'mjpeg', width: 320, height: 240 });
  });

  // A picture's demuxer is named from its extension (png_pipe), so image2 never reads the %d.
  it('a real PNG named pic-%d.png is read as that one file', async () => {
    const { root } = await setup();
    await copyFile(await makeClip({ format: 'png', audio: false }), join(root, 'pic-%d.png'));
    await runSpec(job('pic-%d.png', { destination: 'out.jpg', codec: null }), root);
    expect(listFiles(root)).toEqual(['in.mp4', 'out.jpg', 'pic-%d.png']);
  });
});

describe('paths that lead out of the media root', () => {
  const lexical: Array<[string, (root: string, outer: string) => string]> = [
    ['../x.mp4', () => '../x.mp4'],
    ['a/../../x.mp4', () => 'a/../../x.mp4'],
    ['./../x.mp4', () => './../x.mp4'],
    ['the absolute path of ../x.mp4', (_r, outer) => join(outer, 'x.mp4')],
    ['file:// + /%2e%2e/', (root) => `file://${root}/%2e%2e/x.mp4`],
    ['file:// + /%2E%2E/', (root) => `file://${root}/%2E%2E/x.mp4`],
    ['file:// + /.%2e/', (root) => `file://${root}/.%2e/x.mp4`],
    ['file:// + ..%2f (an encoded slash)', (root) => `file://${root}/..%2fx.mp4`],
    ['/etc/passwd', () => '/etc/passwd'],
    ['file:///etc/passwd', () => 'file:///etc/passwd'],
    ['file://localhost/etc/passwd', () => 'file://localhost/etc/passwd'],
    ['/proc/self/environ', () => '/proc/self/environ'],
  ];
  it.each(lexical)('source %s: path_outside_root', async (_name, source) => {
    const { root, outer } = await setup();
    await refused(
      job(source(root, outer)),
      root,
      { code: 'validation_error', issue: { path: 'inputs[0].source', code: 'path_outside_root' } },
      outer,
    );
  });

  it('a symlink inside the root to a real clip outside it: path_outside_root', async () => {
    const { root, outer } = await setup();
    await symlink(join(outer, 'x.mp4'), join(root, 'link.mp4'));
    await refused(job('link.mp4'), root, { code: 'path_outside_root' }, outer);
  });

  it('a symlinked folder inside the root that leads outside: path_outside_root', async () => {
    const { root, outer } = await setup();
    await symlink(outer, join(root, 'shared'));
    await refused(job('shared/x.mp4'), root, { code: 'path_outside_root' }, outer);
  });

  const destinations: Array<[string, (root: string, outer: string) => string]> = [
    ['../out.mp4', () => '../out.mp4'],
    ['a/../../out.mp4', () => 'a/../../out.mp4'],
    ['an absolute path outside', (_r, outer) => join(outer, 'out.mp4')],
    ['file:// + /%2e%2e/', (root) => `file://${root}/%2e%2e/out.mp4`],
    ['file:///tmp/…', (_r, outer) => `file://${outer}/out.mp4`],
  ];
  it.each(destinations)('destination %s: path_outside_root', async (_name, destination) => {
    const { root, outer } = await setup();
    await refused(
      job('in.mp4', { destination: destination(root, outer) }),
      root,
      { code: 'validation_error', issue: { path: 'outputs[0].destination', code: 'path_outside_root' } },
      outer,
    );
  });

  it('a destination in a symlinked folder that leads outside: path_outside_root, nothing written there', async () => {
    const { root, outer } = await setup();
    await symlink(outer, join(root, 'shared'));
    await refused(
      job('in.mp4', { destination: 'shared/out.mp4' }),
      root,
      { code: 'path_outside_root' },
      outer,
    );
  });

  it("a sprite's WebVTT track at the name of a link that leads outside: the link is replaced, not written through", async () => {
    const { root, outer } = await setup();
    await writeFile(join(outer, 'victim.txt'), 'precious');
    await symlink(join(outer, 'victim.txt'), join(root, 'sheet.vtt'));
    await runSpec(
      job('in.mp4', {
        operations: [{ op: 'sprite', input: 'in', output: 's', params: { interval: 0.5 } }],
        id: 's',
        destination: 'sheet.jpg',
        codec: null,
      }),
      root,
    );
    expect(await readFile(join(outer, 'victim.txt'), 'utf8')).toBe('precious');
    expect(lstatSync(join(root, 'sheet.vtt')).isFile()).toBe(true);
    expect(await readFile(join(root, 'sheet.vtt'), 'utf8')).toMatch(/^WEBVTT/);
  });

  it('a destination in a new folder under a symlinked folder: path_outside_root, no folder made outside', async () => {
    const { root, outer } = await setup();
    await symlink(outer, join(root, 'shared'));
    await refused(
      job('in.mp4', { destination: 'shared/new/deeper/out.mp4' }),
      root,
      { code: 'path_outside_root' },
      outer,
    );
  });
});

describe('an output that would overwrite its input', () => {
  const spellings: Array<[string, (root: string) => string]> = [
    ['the same name', () => 'in.mp4'],
    ['./in.mp4', () => './in.mp4'],
    ['sub/../in.mp4', () => 'sub/../in.mp4'],
    ['its absolute path', (root) => join(root, 'in.mp4')],
    ['its file:// URL', (root) => `file://${root}/in.mp4`],
  ];
  it.each(spellings)('written as %s: validation_error', async (_name, destination) => {
    const { root } = await setup();
    await refused(job('in.mp4', { destination: destination(root) }), root, {
      code: 'validation_error',
      issue: { path: 'outputs[0].destination', code: 'invalid_value' },
      message: /overwrite an input/,
    });
  });

  it('read through a symlink and written to the real name: validation_error', async () => {
    const { root } = await setup();
    await symlink('in.mp4', join(root, 'alias.mp4'));
    await refused(job('alias.mp4', { destination: 'in.mp4' }), root, {
      code: 'validation_error',
      issue: { path: 'outputs[0].destination', code: 'invalid_value' },
      message: /overwrite an input/,
    });
  });

  it('read through a hard link and written to the other name: validation_error', async () => {
    const { root } = await setup();
    await link(join(root, 'in.mp4'), join(root, 'same.mp4'));
    await refused(job('same.mp4', { destination: 'in.mp4' }), root, {
      code: 'validation_error',
      issue: { path: 'outputs[0].destination', code: 'invalid_value' },
      message: /overwrite an input/,
    });
  });

  it('a thumbnail series whose numbered name is an input: validation_error', async () => {
    const { root } = await setup();
    await copyFile(
      await makeClip({ format: 'png', audio: false, size: '64x48' }),
      join(root, 'thumb-0001.png'),
    );
    await refused(
      {
        inputs: [
          { id: 'in', source: 'in.mp4' },
          { id: 'logo', source: 'thumb-0001.png' },
        ],
        operations: [
          { op: 'overlay', inputs: ['in', 'logo'], output: 'o' },
          { op: 'thumbnail', input: 'o', output: 't', params: { every: 0.5 } },
        ],
        outputs: [{ id: 't', destination: 'thumb.png' }],
      },
      root,
      {
        code: 'validation_error',
        issue: { path: 'outputs[0].destination', code: 'invalid_value' },
        message: /thumb-0001\.png would overwrite an input/,
      },
    );
  });

  it('read through a symlinked folder inside the root: validation_error', async () => {
    const { root } = await setup();
    await mkdir(join(root, 'media'));
    await copyFile(clip, join(root, 'media', 'a.mp4'));
    await symlink('media', join(root, 'view'));
    await refused(job('view/a.mp4', { destination: 'media/a.mp4' }), root, {
      code: 'validation_error',
      issue: { path: 'outputs[0].destination', code: 'invalid_value' },
      message: /overwrite an input/,
    });
  });
});

describe('schemes and bytes that are not local paths', () => {
  const sources = [
    'http://example.com/a.mp4',
    'https://example.com/a.mp4',
    's3://bucket/a.mp4',
    'upload://abc123',
    'ftp://example.com/a.mp4',
    'concat:in.mp4|in.mp4',
    'pipe:0',
    'data:video/mp4;base64,AAAA',
    'file://example.com/in.mp4',
  ];
  it.each(sources)('source %s: unsupported_source', async (source) => {
    const { root } = await setup();
    await refused(job(source), root, {
      code: 'validation_error',
      issue: { path: 'inputs[0].source', code: 'unsupported_source' },
    });
  });

  it.each(['http://example.com/out.mp4', 's3://bucket/out.mp4', 'pipe:1'])(
    'destination %s: unsupported_source',
    async (destination) => {
      const { root } = await setup();
      await refused(job('in.mp4', { destination }), root, {
        code: 'validation_error',
        issue: { path: 'outputs[0].destination', code: 'unsupported_source' },
      });
    },
  );

  it('a stray % in a file:// source: invalid_format, not an internal error', async () => {
    const { root } = await setup();
    await refused(job(`file://${root}/100%.mp4`), root, {
      code: 'validation_error',
      issue: { path: 'inputs[0].source', code: 'invalid_format' },
      message: /%-escape/,
    });
  });

  it.each([
    ['a NUL byte in a source', (_r: string) => job('in.mp4\u0000.txt'), 'inputs[0].source'],
    ['%00 in a file:// source', (r: string) => job(`file://${r}/in.mp4%00.txt`), 'inputs[0].source'],
    [
      'a NUL byte in a destination',
      (_r: string) => job('in.mp4', { destination: 'out\u0000.mp4' }),
      'outputs[0].destination',
    ],
  ])('%s: validation_error', async (_name, spec, path) => {
    const { root } = await setup();
    await refused(spec(root), root, { code: 'validation_error', issue: { path, code: 'invalid_value' } });
  });
});

describe('lists and playlists that point at other files', () => {
  let canary: string;
  beforeAll(async () => {
    // The detector: a read sets atime again (relatime updates an atime older than mtime). Prove it
    // works on this file system before trusting a "not read".
    const control = join(tempRoot('mf-atime-'), 'control.bin');
    await writeFile(control, 'x');
    markUnread(control);
    const before = atimeMs(control);
    await readFile(control);
    expect(atimeMs(control), 'reading a file must move its atime here').toBeGreaterThan(before);
    canary = clip;
  });

  const lists: Array<[string, string, (target: string) => string]> = [
    ['an ffconcat list', 'list.mp4', (t) => `ffconcat version 1.0\nfile '${t}'\n`],
    ['an ffconcat list', 'list.m3u8', (t) => `ffconcat version 1.0\nfile '${t}'\n`],
    [
      'an HLS playlist',
      'playlist.m3u8',
      (t) => `#EXTM3U\n#EXT-X-VERSION:3\n#EXT-X-TARGETDURATION:2\n#EXTINF:1.0,\n${t}\n#EXT-X-ENDLIST\n`,
    ],
    [
      'an HLS playlist',
      'playlist.mp4',
      (t) => `#EXTM3U\n#EXT-X-VERSION:3\n#EXT-X-TARGETDURATION:2\n#EXTINF:1.0,\n${t}\n#EXT-X-ENDLIST\n`,
    ],
  ];
  it.each(lists)(
    '%s named %s is refused, and the media it names is never read',
    async (_kind, name, body) => {
      const { root } = await setup();
      // A real clip inside the root: had FFmpeg followed the list, the job would have succeeded.
      const target = join(root, 'target.mp4');
      await copyFile(canary, target);
      await writeFile(join(root, name), body(target));
      markUnread(target);
      const unread = atimeMs(target);
      await refused(job(name), root, { code: 'input_not_allowed' });
      expect(atimeMs(target), 'the referenced file was read').toBe(unread);
    },
  );

  it('an ffconcat list naming /etc/passwd is refused', async () => {
    const { root } = await setup();
    await writeFile(join(root, 'list.mp4'), "ffconcat version 1.0\nfile '/etc/passwd'\n");
    await refused(job('list.mp4'), root, { code: 'input_not_allowed' });
  });

  it('FFmpeg itself refuses the list even when the probe is fooled (-format_whitelist)', async () => {
    const { root } = await setup();
    const target = join(root, 'target.mp4');
    await copyFile(canary, target);
    await writeFile(join(root, 'list.mp4'), `ffconcat version 1.0\nfile '${target}'\n`);
    const config = loadConfig('run', { env: {}, overrides: { media_root: root } });
    const real = localTools(config, await testBinaries());
    const realInfo: MediaInfo = await real.probe(target);
    // A probe that lies: it says the list is the clip it names.
    const lying: MediaInfo = { ...realInfo, format: { ...realInfo.format, name: 'mov,mp4,m4a,3gp,3g2,mj2' } };
    const tools: MediaTools = {
      ...real,
      probe: async (path, signal) => (path.endsWith('list.mp4') ? lying : real.probe(path, signal)),
      probeInput: async (path, signal) => (path.endsWith('list.mp4') ? lying : real.probeInput(path, signal)),
    };
    const roots = mediaRoots(root);
    const limits = { maxPixels: config.max_pixels, maxSeconds: config.max_input_seconds };
    markUnread(target);
    const unread = atimeMs(target);
    const before = snapshot(root);
    const prepared = await prepareJob(job('list.mp4'), { roots, tools, limits });
    const e = await executeJob(prepared, { roots, tools }).then(
      () => null,
      (err: Error & { code?: string }) => err,
    );
    expect(e?.code, e?.message).toBe('ffmpeg_failed');
    expect(e?.message).toMatch(/not on whitelist/);
    expect(atimeMs(target), 'the referenced file was read').toBe(unread);
    expect(snapshot(root)).toEqual(before);
  });
});

describe('inputs past the limits', () => {
  // FFmpeg refuses a picture this large ("Picture size 100000x100000 is invalid") yet ffprobe exits 0
  // with a 0x0 stream: probe() reads that line and says input_too_large.
  it('a PNG that says 100000×100000: input_too_large', async () => {
    const { root } = await setup();
    await writeFile(join(root, 'huge.png'), pngHeader(100_000, 100_000));
    await refused(job('huge.png', { destination: 'out.jpg', codec: null }), root, {
      code: 'input_too_large',
      message: /pixel/,
    });
  });

  it('a PNG that says 10000×10000 (above the default 8192² limit): input_too_large', async () => {
    const { root } = await setup();
    await writeFile(join(root, 'big.png'), pngHeader(10_000, 10_000));
    await refused(job('big.png', { destination: 'out.jpg', codec: null }), root, {
      code: 'input_too_large',
      message: /10000x10000 is more than the 67108864 pixel limit/,
    });
  });

  it('max_pixels: a 160×120 clip passes at 19200 pixels and is refused at 19199', async () => {
    const { root } = await setup();
    await refused(job('in.mp4'), root, {
      code: 'input_too_large',
      message: /160x120 is more than the 19199 pixel limit/,
      settings: { max_pixels: 160 * 120 - 1 },
    });
    await runSpec(job('in.mp4'), root, { settings: { max_pixels: 160 * 120 } });
    expect(listFiles(root)).toEqual(['in.mp4', 'out.mp4']);
  });

  it('max_pixels: a 1920×1080 h264 MP4 whose sample entry says 32×16 is judged by its stream', async () => {
    const { root } = await setup();
    await copyFile(await makeMislabelled(), join(root, 'label.mp4'));
    await refused(job('label.mp4'), root, {
      code: 'input_too_large',
      message: /1920x1080 is more than the 100000 pixel limit/,
      settings: { max_pixels: 100_000 },
    });
  });

  it('max_input_seconds: a 1 s clip is refused at 0.5 s', async () => {
    const { root } = await setup();
    await refused(job('in.mp4'), root, {
      code: 'input_too_large',
      message: /longer than the 0.5 s limit/,
      settings: { max_input_seconds: 0.5 },
    });
  });
});

describe('outputs that cannot be written as asked', () => {
  it('two sprite sheets whose WebVTT tracks would be one file: duplicate_id', async () => {
    const { root } = await setup();
    await refused(
      {
        inputs: [{ id: 'in', source: 'in.mp4' }],
        operations: [
          { op: 'sprite', input: 'in', output: 's', params: { interval: 0.5, columns: 2 } },
          { op: 'sprite', input: 'in', output: 't', params: { interval: 1, columns: 1 } },
        ],
        outputs: [
          { id: 's', destination: 'sheet.jpg' },
          { id: 't', destination: 'sheet.png' },
        ],
      },
      root,
      {
        code: 'validation_error',
        issue: { path: 'outputs[1].destination', code: 'duplicate_id' },
        message: /outputs\[0\] writes sheet\.vtt too/,
      },
    );
  });

  it("a thumbnail series whose numbered name is another output's destination: duplicate_id", async () => {
    const { root } = await setup();
    await refused(
      {
        inputs: [{ id: 'in', source: 'in.mp4' }],
        operations: [
          { op: 'thumbnail', input: 'in', output: 'series', params: { every: 0.5 } },
          { op: 'thumbnail', input: 'in', output: 'one', params: { at: 0 } },
        ],
        outputs: [
          { id: 'series', destination: 'pic.png' },
          { id: 'one', destination: 'pic-0002.png' },
        ],
      },
      root,
      {
        code: 'validation_error',
        issue: { path: 'outputs[0].destination', code: 'duplicate_id' },
        message: /outputs\[1\] writes pic-0002\.png too/,
      },
    );
  });

  it('h264 in webm: incompatible_codec', async () => {
    const { root } = await setup();
    await refused(job('in.mp4', { destination: 'out.webm', codec: { video: { codec: 'h264' } } }), root, {
      code: 'validation_error',
      issue: { path: 'outputs[0].codec.video.codec', code: 'incompatible_codec' },
    });
  });

  it('aac in webm: incompatible_codec', async () => {
    const { root } = await setup();
    await refused(job('in.mp4', { destination: 'out.webm', codec: { audio: { codec: 'aac' } } }), root, {
      code: 'validation_error',
      issue: { path: 'outputs[0].codec.audio.codec', code: 'incompatible_codec' },
    });
  });

  it('an unknown extension: invalid_value at the destination', async () => {
    const { root } = await setup();
    await refused(job('in.mp4', { destination: 'out.xyz' }), root, {
      code: 'validation_error',
      issue: { path: 'outputs[0].destination', code: 'invalid_value' },
      message: /unknown file extension/,
    });
  });

  it('an unknown format: invalid_value at format', async () => {
    const { root } = await setup();
    await refused(
      {
        inputs: [{ id: 'in', source: 'in.mp4' }],
        outputs: [{ id: 'in', destination: 'out.mp4', format: 'exe' }],
      },
      root,
      { code: 'validation_error', issue: { path: 'outputs[0].format', code: 'invalid_value' } },
    );
  });
});
