/**
 * The JobSpec shapes the pipeline seed's clients send, end to end: relative paths under the media
 * root, writing an input directly (audio out of a video; a stream-copy remux; a rotated phone
 * video), fan-out from one input, and the `{spec: ...}` envelope next to a bare spec. Codec names
 * and settings: spec-codecs.e2e.test.ts.
 */
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { makeClip } from '../src/media/test-support/make-media.js';
import {
  direct,
  expectAsPlanned,
  expectDuration,
  put,
  rootWithClip,
  runPlanned,
  sourcePadding,
  streamOf,
  streamsOf,
} from './helpers/e2e.js';
import { decodedSeconds, frameCount, packets, probed } from './helpers/measure.js';
import { listFiles, runSpec, runSpecError, tempRoot } from './helpers/pipeline.js';
import { makeCoverFirst, makeRotated } from './helpers/sources.js';

describe('seed JobSpec shapes', () => {
  it('bare relative paths resolve under the media root; output folders are made', async () => {
    const root = tempRoot();
    await mkdir(join(root, 'clips'));
    await put(root, await makeClip({ seconds: 1, size: '160x120' }), 'clips/in.mp4');
    const { plan, result } = await runPlanned(
      {
        inputs: [{ id: 'video', source: 'clips/in.mp4' }],
        operations: [{ op: 'scale', input: 'video', output: 'small', params: { width: 80 } }],
        outputs: [
          {
            id: 'small',
            destination: 'out/deep/small.mp4',
            codec: { video: { codec: 'h264', preset: 'ultrafast' } },
          },
        ],
      },
      root,
    );
    expect(plan.tasks[0]!.inputs[0]!.path).toBe(join(root, 'clips/in.mp4'));
    expect(result.outputs[0]!.files).toEqual([join(root, 'out/deep/small.mp4')]);
    expect(listFiles(root)).toEqual(['clips/in.mp4', 'out/deep/small.mp4']);
    expect(streamOf(await probed(join(root, 'out/deep/small.mp4')), 'video')).toMatchObject({
      width: 80,
      height: 60,
    });
    await expectAsPlanned(plan, 0);
  });

  it('an output naming an input with operations: [] takes the audio of a video into an mp3', async () => {
    const { root, src } = await rootWithClip();
    const { plan, result } = await runPlanned(direct([{ destination: 'sound.mp3' }]), root);
    const out = join(root, 'sound.mp3');
    expect(await streamsOf(out)).toBe('audio/mp3');
    expect(result.outputs[0]!.id).toBe('src');
    await expectDuration(out, await decodedSeconds(src, 'a'));
    await expectAsPlanned(plan, 0, { sourcePadding: await sourcePadding(src) });
  });

  it('copy remuxes mp4 → mkv: the same codecs, packet for packet, and the same duration', async () => {
    const { root, src } = await rootWithClip();
    const { plan } = await runPlanned(
      direct([{ destination: 'remux.mkv', codec: { video: 'copy', audio: 'copy' } }]),
      root,
    );
    const out = join(root, 'remux.mkv');
    expect(await streamsOf(out)).toBe('video/h264 audio/aac');
    expect(plan.tasks[0]!.nodes).toEqual([]);
    // The same packets in the same order, sizes and spacing (Matroska keeps milliseconds). Only the origin
    // moves: mp4 hides the AAC priming frame before 0 with an edit list, Matroska cannot, so the muxer
    // shifts every stream by that frame (video starts at 0.021 s; the priming plays, in sync, before it).
    for (const k of ['v', 'a'] as const) {
      const [before, after] = [await packets(src, k), await packets(out, k)];
      expect(after.map((p) => p.size)).toEqual(before.map((p) => p.size));
      const spacing = (l: typeof before) => l.map((p) => p.pts - l[0]!.pts).sort((x, y) => x - y);
      const drift = spacing(after).map((t, n) => Math.abs(t - spacing(before)[n]!));
      expect(Math.max(...drift)).toBeLessThanOrEqual(0.0011);
    }
    expect(await frameCount(out)).toBe(25);
    await expectAsPlanned(plan, 0, { audioFrames: 2 });
  });

  it('one input feeds several operations, all in one FFmpeg run', async () => {
    const root = tempRoot();
    const src = await put(root, await makeClip({ seconds: 2, size: '160x120' }), 'in.mp4');
    const { plan, result } = await runPlanned(
      {
        inputs: [{ id: 'src', source: 'in.mp4' }],
        operations: [
          { op: 'trim', input: 'src', output: 'head', params: { duration: 1 } },
          { op: 'thumbnail', input: 'src', output: 'poster', params: { at: 1 } },
          { op: 'extract_audio', input: 'src', output: 'sound' },
          { op: 'rotate', input: 'src', output: 'turned', params: { angle: 270 } },
        ],
        outputs: [
          {
            id: 'head',
            destination: 'head.mp4',
            codec: { video: { codec: 'h264', preset: 'ultrafast' }, audio: 'aac' },
          },
          { id: 'poster', destination: 'poster.jpg' },
          { id: 'sound', destination: 'sound.flac' },
          {
            id: 'turned',
            destination: 'turned.mp4',
            codec: { video: { codec: 'h264', preset: 'ultrafast' }, audio: 'none' },
          },
        ],
      },
      root,
    );
    expect(plan.tasks).toHaveLength(1);
    expect(result.outputs.map((o) => o.id)).toEqual(['head', 'poster', 'sound', 'turned']);
    expect(await frameCount(join(root, 'head.mp4'))).toBe(25);
    await expectDuration(join(root, 'head.mp4'), 1);
    expect(await streamsOf(join(root, 'sound.flac'))).toBe('audio/flac');
    await expectDuration(join(root, 'sound.flac'), await decodedSeconds(src, 'a'));
    expect(streamOf(await probed(join(root, 'turned.mp4')), 'video')).toMatchObject({
      width: 120,
      height: 160,
    });
    expect(await frameCount(join(root, 'turned.mp4'))).toBe(50);
    for (const i of [0, 1, 3]) await expectAsPlanned(plan, i);
    await expectAsPlanned(plan, 2, { sourcePadding: await sourcePadding(src) });
  });

  it('runs the {spec} envelope (with priority, callback_url, idempotency_key) as it runs the bare spec', async () => {
    const spec = {
      inputs: [{ id: 'video', source: 'in.mp4' }],
      operations: [
        {
          op: 'trim',
          input: 'video',
          output: 'clip',
          params: { start: '00:00:00.5', duration: '00:00:00.4' },
        },
      ],
      outputs: [
        {
          id: 'clip',
          destination: 'clip.mp4',
          codec: { video: { codec: 'h264', preset: 'ultrafast', crf: 30 } },
        },
      ],
    };
    const wrapped = { spec, priority: 5, callback_url: 'https://example.org/hook', idempotency_key: 'k-1' };
    const seen = [];
    for (const doc of [wrapped, spec]) {
      const { root } = await rootWithClip();
      await runSpec(doc, root);
      const out = join(root, 'clip.mp4');
      seen.push({
        streams: await streamsOf(out),
        frames: await frameCount(out),
        size: streamOf(await probed(out), 'video')!.width,
      });
      await expectDuration(out, 0.4);
    }
    // No codec.audio: the container's default, aac.
    expect(seen[0]).toEqual({ streams: 'video/h264 audio/aac', frames: 10, size: 160 });
    expect(seen[1]).toEqual(seen[0]);
  });
});

describe('a phone video (rotated by its display matrix) written as it is', () => {
  it('copy into mp4 keeps the stream and its rotation, shown 240x320 as planned', async () => {
    const root = tempRoot();
    const src = await put(root, await makeRotated(), 'phone.mp4');
    expect(streamOf(await probed(src), 'video')!.rotation).toBe(90);
    const spec = {
      inputs: [{ id: 'v', source: 'phone.mp4' }],
      outputs: [{ id: 'v', destination: 'copy.mp4', codec: { video: 'copy', audio: 'copy' } }],
    };
    const { plan } = await runPlanned(spec, root);
    const v = streamOf(await probed(join(root, 'copy.mp4')), 'video')!;
    expect({ width: v.width, height: v.height, rotation: v.rotation }).toEqual({
      width: 320,
      height: 240,
      rotation: 90,
    });
    expect(plan.outputs[0]!.expect.video).toMatchObject({ width: 240, height: 320 });
  });

  it('copy into mkv, which cannot keep the rotation, is refused before anything runs', async () => {
    const root = tempRoot();
    await put(root, await makeRotated(), 'phone.mp4');
    const spec = {
      inputs: [{ id: 'v', source: 'phone.mp4' }],
      outputs: [{ id: 'v', destination: 'copy.mkv', codec: { video: 'copy', audio: 'copy' } }],
    };
    const e = await runSpecError(spec, root);
    expect(e.code).toBe('validation_error');
    expect(listFiles(root)).toEqual(['phone.mp4']);
  });

  it('re-encoding turns the picture upright: 240x320, no rotation left', async () => {
    const root = tempRoot();
    await put(root, await makeRotated(), 'phone.mp4');
    const { plan } = await runPlanned(
      {
        inputs: [{ id: 'v', source: 'phone.mp4' }],
        outputs: [
          {
            id: 'v',
            destination: 'upright.mkv',
            codec: { video: { codec: 'h264', preset: 'ultrafast' }, audio: 'flac' },
          },
        ],
      },
      root,
    );
    const v = streamOf(await probed(join(root, 'upright.mkv')), 'video')!;
    expect({ width: v.width, height: v.height, rotation: v.rotation }).toEqual({
      width: 240,
      height: 320,
      rotation: undefined,
    });
    await expectAsPlanned(plan, 0, { sourcePadding: await sourcePadding(join(root, 'phone.mp4')) });
  });
});

describe('an MP4 whose cover art comes before its video', () => {
  // FFmpeg's `v:0` is then the cover; the planner describes the first video that is not a picture (`V:0`).
  it('is scaled from its video, not from the cover', async () => {
    const root = tempRoot();
    await put(root, await makeCoverFirst(), 'in.mp4');
    expect((await probed(join(root, 'in.mp4'))).streams[0]!.attachedPic).toBe(true);
    const { plan } = await runPlanned(
      {
        inputs: [{ id: 'a', source: 'in.mp4' }],
        operations: [{ op: 'scale', input: 'a', output: 's', params: { width: 160 } }],
        outputs: [
          {
            id: 's',
            destination: 'o.mp4',
            codec: { video: { codec: 'h264', preset: 'ultrafast' }, audio: 'aac' },
          },
        ],
      },
      root,
    );
    expect(await frameCount(join(root, 'o.mp4'))).toBe(50); // the cover would give 1 frame
    await expectAsPlanned(plan, 0);
  });

  it('is copied as its video, not as the cover', async () => {
    const root = tempRoot();
    await put(root, await makeCoverFirst(), 'in.mp4');
    await runSpec(
      {
        inputs: [{ id: 'a', source: 'in.mp4' }],
        outputs: [{ id: 'a', destination: 'copy.mkv', codec: { video: 'copy', audio: 'copy' } }],
      },
      root,
    );
    expect(await streamsOf(join(root, 'copy.mkv'))).toBe('video/h264 audio/aac');
    expect(await frameCount(join(root, 'copy.mkv'))).toBe(50);
  });
});
