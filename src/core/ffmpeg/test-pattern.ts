/**
 * The argv of a generated clip: FFmpeg's test pattern and a tone, H.264 + AAC in MP4. The quick
 * start's sample, the demo and the benchmarks all make their media this way.
 */
export interface TestPattern {
  /** WIDTHxHEIGHT. */
  size: string;
  seconds: number;
  rate?: number;
  /** x264 preset: ultrafast makes it quickly, larger files. */
  preset?: 'ultrafast' | 'veryfast';
  /** Where to write (a path or a `file:` URL). */
  out: string;
}

export function testPatternArgs(p: TestPattern): string[] {
  return [
    '-y',
    '-f',
    'lavfi',
    '-i',
    `testsrc2=size=${p.size}:rate=${p.rate ?? 30}:duration=${p.seconds}`,
    '-f',
    'lavfi',
    '-i',
    `sine=frequency=440:sample_rate=48000:duration=${p.seconds}`,
    '-c:v',
    'libx264',
    '-preset',
    p.preset ?? 'ultrafast',
    '-pix_fmt',
    'yuv420p',
    '-c:a',
    'aac',
    '-shortest',
    '-f',
    'mp4',
    p.out,
  ];
}
