import { describe, expect, it } from 'vitest';
import { labeller, renderGraph } from '../ffmpeg/filtergraph.js';
import { toIssues } from '../spec/issues.js';
import type { StreamMeta } from '../spec/media-info.js';
import { LoudnessMeasurement, loudnorm, parseLoudnormReport } from './loudnorm.operator.js';

// The end of FFmpeg 5.1's stderr for the measuring pass, as the pipeline runs it:
// ffmpeg -i clip.mkv -filter_complex "[0:a]loudnorm=i=-23:tp=-1:lra=7:print_format=json[loudnorm_0];
//   [loudnorm_0]aformat=sample_rates=44100:channel_layouts=1c[aformat_1]" -map "[aformat_1]" -f null -
// (clip.mkv: testsrc2 320x240 + a 440 Hz sine, 44.1 kHz mono, 12 s.)
const MEASURED = `    Metadata:
      encoder         : Lavc59.37.100 pcm_s16le
size=N/A time=00:00:12.00 bitrate=N/A speed=45.4x    
video:0kB audio:1034kB subtitle:0kB other streams:0kB global headers:0kB muxing overhead: unknown
[Parsed_loudnorm_0 @ 0x562e7e715d00] 
{
\t"input_i" : "-21.75",
\t"input_tp" : "-18.06",
\t"input_lra" : "0.00",
\t"input_thresh" : "-31.75",
\t"output_i" : "-23.04",
\t"output_tp" : "-19.27",
\t"output_lra" : "0.00",
\t"output_thresh" : "-33.04",
\t"normalization_type" : "dynamic",
\t"target_offset" : "0.04"
}
`;
// The same over 5 s of anullsrc: silence measures as -inf.
const SILENT = `[Parsed_loudnorm_0 @ 0x55709a4689c0] 
{
\t"input_i" : "-inf",
\t"input_tp" : "-inf",
\t"input_lra" : "0.00",
\t"input_thresh" : "-70.00",
\t"output_i" : "-inf",
\t"output_tp" : "-inf",
\t"output_lra" : "0.00",
\t"output_thresh" : "-70.00",
\t"normalization_type" : "dynamic",
\t"target_offset" : "inf"
}
`;

const SRC: StreamMeta = {
  duration: 12,
  video: { width: 320, height: 240, fps: { num: 25, den: 1 } },
  audio: { sampleRate: 44100, channels: 1 },
};
const issues = (raw: unknown) => {
  const r = loudnorm.params.safeParse(raw, { reportInput: true });
  return r.success ? [] : toIssues(r.error).map((i) => `${i.path}:${i.code}`);
};
const render = (raw: unknown, extra: { measure?: boolean; analysis?: Record<string, unknown> } = {}) => {
  const p = loudnorm.params.parse(raw);
  const inputs = [{ video: '0:v', audio: '0:a', meta: SRC }];
  const r = loudnorm.filter(p, { inputs, meta: loudnorm.output(p, [SRC]), label: labeller(), ...extra });
  return { ...r, graph: renderGraph(r.nodes) };
};

describe('loudnorm params', () => {
  it.each([
    [{}, { integrated: -23, true_peak: -1, lra: 7, two_pass: false }],
    [
      { integrated: -16, true_peak: -1.5, lra: 11, two_pass: true },
      { integrated: -16, true_peak: -1.5, lra: 11, two_pass: true },
    ],
    [
      { integrated: -70, true_peak: -9, lra: 1 },
      { integrated: -70, true_peak: -9, lra: 1, two_pass: false },
    ],
  ])('reads %j', (raw, want) => expect(loudnorm.params.parse(raw)).toEqual(want));

  it.each([
    [{ integrated: -71 }, ['integrated:out_of_range']],
    [{ integrated: -4 }, ['integrated:out_of_range']],
    [{ integrated: 1e308 }, ['integrated:out_of_range']],
    [{ integrated: Number.NaN }, ['integrated:invalid_type']],
    [{ true_peak: 1 }, ['true_peak:out_of_range']],
    [{ true_peak: -10 }, ['true_peak:out_of_range']],
    [{ lra: 0 }, ['lra:out_of_range']],
    [{ lra: 51 }, ['lra:out_of_range']],
    [{ integrated: '-23' }, ['integrated:invalid_type']],
    [{ two_pass: 'yes' }, ['two_pass:invalid_type']],
    [{ I: -23 }, ['I:unknown_key']],
  ])('rejects %j', (raw, want) => expect(issues(raw)).toEqual(want));
});

describe('loudnorm', () => {
  it('asks for a loudness pass only when two_pass', () => {
    expect(loudnorm.analysis!(loudnorm.params.parse({}))).toBeNull();
    expect(loudnorm.analysis!(loudnorm.params.parse({ two_pass: true }))).toBe('loudness');
  });

  it('keeps the meta (the sample rate is restored) and needs audio', () => {
    expect(loudnorm.output(loudnorm.params.parse({}), [SRC])).toEqual(SRC);
    expect(loudnorm.check!(loudnorm.params.parse({}), [{ ...SRC, audio: null }])).toEqual([
      'loudnorm needs an input with audio',
    ]);
  });

  const tail = '[loudnorm_0]aformat=sample_rates=44100:channel_layouts=1c[aformat_1]';
  it('renders the single-pass (dynamic) form; video passes through', () => {
    const r = render({});
    expect(r.graph).toBe(`[0:a]loudnorm=i=-23:tp=-1:lra=7[loudnorm_0];${tail}`);
    expect(r).toMatchObject({ video: '0:v', audio: 'aformat_1' });
  });

  it('renders the measuring form', () => {
    expect(
      render({ two_pass: true, integrated: -16, true_peak: -1.5, lra: 11 }, { measure: true }).graph,
    ).toBe(`[0:a]loudnorm=i=-16:tp=-1.5:lra=11:print_format=json[loudnorm_0];${tail}`);
  });

  it('renders the second pass from the measurement, nudging values FFmpeg reads as "not given"', () => {
    const analysis = { ...parseLoudnormReport(MEASURED) };
    expect(render({ two_pass: true }, { analysis }).graph).toBe(
      '[0:a]loudnorm=i=-23:tp=-1:lra=7:measured_i=-21.75:measured_tp=-18.06:measured_lra=0.01' +
        `:measured_thresh=-31.75:offset=0.04:linear=1[loudnorm_0];${tail}`,
    );
  });

  it('clamps measurements into the ranges FFmpeg accepts', () => {
    const analysis = { input_i: 1.5, input_tp: 120, input_lra: 150, input_thresh: -70, target_offset: -150 };
    expect(render({ two_pass: true }, { analysis }).graph).toBe(
      '[0:a]loudnorm=i=-23:tp=-1:lra=7:measured_i=-0.01:measured_tp=98.99:measured_lra=99' +
        `:measured_thresh=-69.99:offset=-99:linear=1[loudnorm_0];${tail}`,
    );
  });

  it('falls back to the dynamic form for silence', () => {
    const analysis = { ...parseLoudnormReport(SILENT) };
    expect(render({ two_pass: true }, { analysis }).graph).toBe(
      `[0:a]loudnorm=i=-23:tp=-1:lra=7[loudnorm_0];${tail}`,
    );
  });

  it('refuses an analysis that is not a measurement', () => {
    expect(() => render({ two_pass: true }, { analysis: { input_i: 'loud' } })).toThrow(
      /not a loudness measurement/,
    );
  });
});

describe('parseLoudnormReport', () => {
  it('reads the JSON block at the end of a real FFmpeg log', () => {
    expect(parseLoudnormReport(MEASURED)).toEqual({
      input_i: -21.75,
      input_tp: -18.06,
      input_lra: 0,
      input_thresh: -31.75,
      target_offset: 0.04,
    });
  });

  it('reads -inf and inf (silence) as null, which survives JSON', () => {
    const m = parseLoudnormReport(SILENT);
    expect(m).toEqual({
      input_i: null,
      input_tp: null,
      input_lra: 0,
      input_thresh: -70,
      target_offset: null,
    });
    expect(LoudnessMeasurement.parse(JSON.parse(JSON.stringify(m)))).toEqual(m);
  });

  it('takes the last block when there are several', () => {
    const second = MEASURED.replace('"-21.75"', '"-30.50"');
    expect(parseLoudnormReport(`${MEASURED}\n${second}`).input_i).toBe(-30.5);
  });

  it.each([
    ['', /no loudnorm measurement/],
    ['size=N/A time=00:00:12.00 bitrate=N/A speed=50x\nConversion failed!', /no loudnorm measurement/],
    ['{ "input_i" : "-21.75", }', /not valid JSON/],
    ['{ "input_i" : "-21.75" }', /incomplete: input_tp, input_lra, input_thresh, target_offset/],
    [MEASURED.replace('"-18.06"', '"loud"'), /incomplete: input_tp/],
  ])('throws a clear error on %j', (stderr, message) =>
    expect(() => parseLoudnormReport(stderr)).toThrow(message),
  );
});
