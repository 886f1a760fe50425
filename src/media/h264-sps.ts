/**
 * The frame size an H.264 stream really has, from its sequence parameter set (inside avcC). The
 * decoder sizes pictures from the SPS alone; the width and height in the MP4 sample entry are a
 * label the muxer wrote, which nothing checks.
 */

/** A bit reader over an SPS payload, emulation-prevention bytes (00 00 03) removed. */
function bitReader(nal: Buffer) {
  const bytes: number[] = [];
  let zeros = 0;
  for (const b of nal) {
    if (zeros >= 2 && b === 3) {
      zeros = 0;
      continue;
    }
    zeros = b === 0 ? zeros + 1 : 0;
    bytes.push(b);
  }
  let pos = 0;
  const bit = (): number => {
    const byte = bytes[pos >> 3];
    if (byte === undefined) throw new RangeError('SPS ends early');
    return (byte >> (7 - (pos++ & 7))) & 1;
  };
  const bits = (n: number): number => {
    let v = 0;
    for (let i = 0; i < n; i++) v = v * 2 + bit();
    return v;
  };
  /** Exp-Golomb, unsigned. */
  const ue = (): number => {
    let lead = 0;
    while (bit() === 0) if (++lead > 31) throw new RangeError('bad Exp-Golomb code');
    return 2 ** lead - 1 + bits(lead);
  };
  /** Exp-Golomb, signed. */
  const se = (): number => {
    const k = ue();
    return k % 2 === 1 ? (k + 1) / 2 : -k / 2;
  };
  return { bit, bits, ue, se };
}
type BitReader = ReturnType<typeof bitReader>;

/** Profiles whose SPS carries chroma format, bit depths and scaling matrices (H.264 7.3.2.1.1). */
const HIGH_PROFILES = new Set([100, 110, 122, 244, 44, 83, 86, 118, 128, 138, 139, 134, 135]);

function skipScalingList(r: BitReader, size: number): void {
  let last = 8;
  let next = 8;
  for (let j = 0; j < size; j++) {
    if (next !== 0) next = (last + r.se() + 256) % 256;
    last = next === 0 ? last : next;
  }
}

/** Width and height after cropping, as FFmpeg's decoder gives them, from an SPS NAL unit (header byte included). */
export function spsSize(nal: Buffer): { width: number; height: number } | null {
  if (nal.length < 4 || (nal[0]! & 0x1f) !== 7) return null;
  try {
    const r = bitReader(nal.subarray(1));
    const profile = r.bits(8);
    r.bits(16); // constraint flags, level
    r.ue(); // seq_parameter_set_id
    let chroma = 1;
    let separatePlanes = 0;
    if (HIGH_PROFILES.has(profile)) {
      chroma = r.ue();
      if (chroma === 3) separatePlanes = r.bit();
      r.ue(); // bit_depth_luma_minus8
      r.ue(); // bit_depth_chroma_minus8
      r.bit(); // qpprime_y_zero_transform_bypass_flag
      const matrices = r.bit() ? (chroma === 3 ? 12 : 8) : 0;
      for (let i = 0; i < matrices; i++) {
        const present = r.bit();
        if (present) skipScalingList(r, i < 6 ? 16 : 64);
      }
    }
    r.ue(); // log2_max_frame_num_minus4
    const pocType = r.ue();
    if (pocType === 0) r.ue();
    else if (pocType === 1) {
      r.bit();
      r.se();
      r.se();
      for (let n = r.ue(); n > 0; n--) r.se();
    }
    r.ue(); // max_num_ref_frames
    r.bit(); // gaps_in_frame_num_value_allowed_flag
    const widthMbs = r.ue() + 1;
    const heightMapUnits = r.ue() + 1;
    const frameMbsOnly = r.bit();
    if (!frameMbsOnly) r.bit(); // mb_adaptive_frame_field_flag
    r.bit(); // direct_8x8_inference_flag
    const crop = r.bit() ? [r.ue(), r.ue(), r.ue(), r.ue()] : [0, 0, 0, 0];
    const [left, right, top, bottom] = crop as [number, number, number, number];
    // Crop units (H.264 7-19..7-22): chroma samples, and field pairs when frames may be coded as fields.
    const arrayType = separatePlanes ? 0 : chroma;
    const unitX = arrayType === 1 || arrayType === 2 ? 2 : 1;
    const unitY = (arrayType === 1 ? 2 : 1) * (2 - frameMbsOnly);
    const width = widthMbs * 16 - unitX * (left + right);
    const height = (2 - frameMbsOnly) * heightMapUnits * 16 - unitY * (top + bottom);
    return width > 0 && height > 0 ? { width, height } : null;
  } catch {
    return null;
  }
}

/** The frame size the first SPS of an avcC box gives (payload from `start` to `end`); null when unreadable. */
export function avcCSize(buf: Buffer, start: number, end: number): { width: number; height: number } | null {
  if (end - start < 8 || (buf[start + 5]! & 0x1f) === 0) return null;
  const len = buf.readUInt16BE(start + 6);
  if (start + 8 + len > end) return null;
  return spsSize(buf.subarray(start + 8, start + 8 + len));
}
