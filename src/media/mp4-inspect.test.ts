import { copyFile, stat, truncate } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { probe } from './ffprobe.js';
import { inspectMp4, isComplete } from './mp4-inspect.js';
import { runProcess } from './process.js';
import { ffmpegForTests, makeClip, mediaTempDir } from './test-support/make-media.js';

async function encode(name: string, args: string[]): Promise<string> {
  const out = join(mediaTempDir(), name);
  const r = await runProcess(ffmpegForTests(), ['-v', 'error', '-y', ...args, out], { timeoutMs: 60_000 });
  if (r.code !== 0) throw new Error(r.stderr);
  return out;
}

const lavfi = [
  '-f',
  'lavfi',
  '-i',
  'testsrc2=size=320x240:rate=25:duration=2',
  '-f',
  'lavfi',
  '-i',
  'sine=sample_rate=44100:duration=2',
];

/** What the output check compares, from either reader. */
const essentials = (i: NonNullable<Awaited<ReturnType<typeof inspectMp4>>>, channelsKnown = true) =>
  i.streams.map((s) => ({
    type: s.type,
    codec: s.codec,
    width: s.width,
    height: s.height,
    channels: channelsKnown ? s.channels : undefined,
    sampleRate: s.sampleRate,
    rotation: s.rotation ?? 0,
    fps: s.fps,
    pixFmt: s.pixFmt,
  }));

describe('inspectMp4 reads what ffprobe reads', () => {
  const cases: Array<[string, () => Promise<string>]> = [
    ['h264 + aac mp4', () => makeClip({ seconds: 2 })],
    [
      'faststart h264 + aac',
      () =>
        encode('fs.mp4', [
          ...lavfi,
          '-c:v',
          'libx264',
          '-preset',
          'ultrafast',
          '-c:a',
          'aac',
          '-movflags',
          '+faststart',
        ]),
    ],
    [
      'hevc + mp3 in mp4',
      () =>
        encode('hm.mp4', [
          ...lavfi,
          '-c:v',
          'libx265',
          '-preset',
          'ultrafast',
          '-tag:v',
          'hvc1',
          '-x265-params',
          'log-level=error',
          '-c:a',
          'libmp3lame',
        ]),
    ],
    [
      'vp9 + opus in mp4',
      () =>
        encode('vo.mp4', [
          ...lavfi,
          '-c:v',
          'libvpx-vp9',
          '-deadline',
          'realtime',
          '-cpu-used',
          '8',
          '-c:a',
          'libopus',
          '-ar',
          '48000',
        ]),
    ],
    [
      'aac in m4a',
      () => encode('a.m4a', ['-f', 'lavfi', '-i', 'sine=duration=2', '-c:a', 'aac', '-f', 'ipod']),
    ],
    [
      'flac in mp4',
      () => encode('f.mp4', ['-f', 'lavfi', '-i', 'sine=duration=2', '-c:a', 'flac', '-strict', '-2']),
    ],
    [
      'h264 in mov, 5.1 aac',
      () =>
        encode('s.mov', [
          '-f',
          'lavfi',
          '-i',
          'testsrc2=size=320x240:rate=25:duration=2',
          '-f',
          'lavfi',
          '-i',
          'sine=duration=2',
          '-filter_complex',
          '[1:a]pan=5.1|c0=c0|c1=c0|c2=c0|c3=c0|c4=c0|c5=c0[a]',
          '-map',
          '0:v',
          '-map',
          '[a]',
          '-c:v',
          'libx264',
          '-preset',
          'ultrafast',
          '-c:a',
          'aac',
        ]),
    ],
    [
      'h264 high 4:4:4',
      () =>
        encode('444.mp4', [
          '-f',
          'lavfi',
          '-i',
          'testsrc2=size=320x240:rate=25:duration=1',
          '-c:v',
          'libx264',
          '-preset',
          'ultrafast',
          '-pix_fmt',
          'yuv444p',
        ]),
    ],
    [
      'h264 high 4:2:2 10-bit',
      () =>
        encode('422.mp4', [
          '-f',
          'lavfi',
          '-i',
          'testsrc2=size=320x240:rate=25:duration=1',
          '-c:v',
          'libx264',
          '-preset',
          'ultrafast',
          '-pix_fmt',
          'yuv422p10le',
        ]),
    ],
    [
      'hevc main10',
      () =>
        encode('h10.mp4', [
          '-f',
          'lavfi',
          '-i',
          'testsrc2=size=320x240:rate=25:duration=1',
          '-c:v',
          'libx265',
          '-preset',
          'ultrafast',
          '-pix_fmt',
          'yuv420p10le',
          '-x265-params',
          'log-level=error',
          '-tag:v',
          'hvc1',
        ]),
    ],
    [
      'av1 (svt)',
      () =>
        encode('av1.mp4', [
          '-f',
          'lavfi',
          '-i',
          'testsrc2=size=320x240:rate=25:duration=1',
          '-c:v',
          'libsvtav1',
          '-preset',
          '12',
          '-pix_fmt',
          'yuv420p',
        ]),
    ],
    [
      'h264 1920x1080 (coded 1088 high, cropped in the SPS)',
      () =>
        encode('1080.mp4', [
          '-f',
          'lavfi',
          '-i',
          'testsrc2=size=1920x1080:rate=25:duration=0.2',
          '-c:v',
          'libx264',
          '-preset',
          'ultrafast',
        ]),
    ],
    [
      'rotated 90',
      async () =>
        encode('r.mp4', ['-i', await makeClip({ seconds: 2 }), '-c', 'copy', '-metadata:s:v:0', 'rotate=90']),
    ],
    [
      'rotated 270',
      async () =>
        encode('r270.mp4', [
          '-i',
          await makeClip({ seconds: 2 }),
          '-c',
          'copy',
          '-metadata:s:v:0',
          'rotate=270',
        ]),
    ],
  ];
  it.each(cases)('%s', async (_name, make) => {
    const file = await make();
    const mine = await inspectMp4(file);
    const theirs = await probe(file, { ffprobe: process.env.MEDIAFORGE_FFPROBE ?? 'ffprobe' });
    expect(mine).not.toBeNull();
    // Channels are read where the codec's own config holds them (AAC, Opus); else left unknown.
    const known = mine!.streams.every((s) => s.type !== 'audio' || s.channels !== undefined);
    expect(essentials(mine!, known)).toEqual(essentials(theirs, known));
    expect(mine!.format.duration).toBeCloseTo(theirs.format.duration!, 1);
  });

  it('gives up (null) on a truncated file, a file without moov, and what is not MP4', async () => {
    const cut = join(mediaTempDir(), 'cut.mp4');
    await copyFile(
      await encode('whole.mp4', [...lavfi, '-c:v', 'libx264', '-preset', 'ultrafast', '-c:a', 'aac']),
      cut,
    );
    await truncate(cut, 20_000); // moov is at the end without faststart: gone
    expect(await inspectMp4(cut)).toBeNull();
    const front = join(mediaTempDir(), 'front.mp4');
    await copyFile(
      await encode('fs2.mp4', [
        ...lavfi,
        '-c:v',
        'libx264',
        '-preset',
        'ultrafast',
        '-c:a',
        'aac',
        '-movflags',
        '+faststart',
      ]),
      front,
    );
    await truncate(front, 30_000); // moov intact at the front, samples cut off
    expect(await inspectMp4(front)).toBeNull();
    expect(await inspectMp4(await makeClip({ format: 'mkv' }))).toBeNull();
  });
});

describe('inspectMp4 on odd and hostile files', () => {
  // Its moov indexes no samples and says 0 s: the moof boxes after it hold the samples.
  it('a fragmented m4a is left to ffprobe (null), not read as lasting 0 s', async () => {
    const f = await encode('frag.m4a', [
      '-f',
      'lavfi',
      '-i',
      'sine=duration=30',
      '-c:a',
      'aac',
      '-movflags',
      'frag_keyframe+empty_moov',
      '-f',
      'mp4',
    ]);
    expect(await inspectMp4(f)).toBeNull();
  });

  it('a variable frame rate MP4 reads at its average rate, as ffprobe says', async () => {
    // 10 frames 10 ms apart, then one every 100 ms: the first stts delta alone says 100 fps.
    const f = await encode('vfr.mp4', [
      '-f',
      'lavfi',
      '-i',
      'testsrc2=size=320x240:rate=100:duration=4',
      '-vf',
      "select='lt(n,10)+not(mod(n,10))'",
      '-fps_mode',
      'passthrough',
      '-c:v',
      'libx264',
      '-preset',
      'ultrafast',
      '-video_track_timescale',
      '1000',
    ]);
    const mine = await inspectMp4(f);
    const theirs = await probe(f, { ffprobe: process.env.MEDIAFORGE_FFPROBE ?? 'ffprobe' });
    expect(mine!.streams[0]!.fps).toEqual(theirs.streams[0]!.fps); // 4900/391 ≈ 12.5
  });

  it('a faststart MP4 missing its last 200 bytes is not taken as whole (chunk ends, not starts)', async () => {
    const f = await encode('fs-cut.mp4', [
      ...lavfi,
      '-c:v',
      'libx264',
      '-preset',
      'ultrafast',
      '-c:a',
      'aac',
      '-movflags',
      '+faststart',
    ]);
    expect(await inspectMp4(f)).not.toBeNull();
    await truncate(f, (await stat(f)).size - 200);
    expect(await inspectMp4(f)).toBeNull();
  });

  it('decides an input only where the frame size comes from the stream (h264 SPS); hevc goes to ffprobe', async () => {
    const h264 = await inspectMp4(await makeClip({ seconds: 1 }));
    expect(isComplete(h264!)).toBe(true);
    const hevc = await inspectMp4(
      await encode('hevc-only.mp4', [
        '-f',
        'lavfi',
        '-i',
        'testsrc2=size=320x240:rate=25:duration=1',
        '-c:v',
        'libx265',
        '-preset',
        'ultrafast',
        '-tag:v',
        'hvc1',
        '-x265-params',
        'log-level=error',
      ]),
    );
    expect(hevc!.streams[0]).toMatchObject({ codec: 'hevc', width: 320, height: 240 });
    expect(isComplete(hevc!)).toBe(false);
  });
});
