import { Readable } from "node:stream";
import { Random } from "./random";

export type AudioEncoding = "mulaw" | "pcm16";

export interface AudioFormat {
  encoding: AudioEncoding;
  sampleRateHz: number;
}

/** Codec names as ffmpeg spells them, carried in the event's audio reference. */
export const CODEC_NAMES: Readonly<Record<AudioEncoding, string>> = {
  mulaw: "pcm_mulaw",
  pcm16: "pcm_s16le",
};

export const WAV_CONTENT_TYPE = "audio/wav";

const WAVE_FORMAT_PCM = 1;
const WAVE_FORMAT_MULAW = 7;

export function bytesPerSample(format: AudioFormat): number {
  return format.encoding === "mulaw" ? 1 : 2;
}

/** Mono: the byte rate is the sample rate times the sample size. */
export function byteRate(format: AudioFormat): number {
  return format.sampleRateHz * bytesPerSample(format);
}

export function sampleCount(format: AudioFormat, durationMs: number): number {
  return Math.round((durationMs * format.sampleRateHz) / 1000);
}

/**
 * The RIFF/WAVE header for `samples` mono samples. G.711 is a non-PCM format, so its `fmt ` chunk has
 * the 18-byte form and a `fact` chunk follows with the sample count, as the WAVE specification asks.
 */
export function wavHeader(format: AudioFormat, samples: number): Buffer {
  const dataBytes = samples * bytesPerSample(format);
  const pad = dataBytes % 2;
  const mulaw = format.encoding === "mulaw";
  const fmtSize = mulaw ? 18 : 16;
  const factBytes = mulaw ? 12 : 0;
  const header = Buffer.alloc(12 + 8 + fmtSize + factBytes + 8);
  let at = 0;
  const ascii = (text: string) => (at = at + header.write(text, at, "ascii"));
  const u32 = (value: number) => (at = header.writeUInt32LE(value, at));
  const u16 = (value: number) => (at = header.writeUInt16LE(value, at));

  ascii("RIFF");
  u32(header.length - 8 + dataBytes + pad);
  ascii("WAVE");
  ascii("fmt ");
  u32(fmtSize);
  u16(mulaw ? WAVE_FORMAT_MULAW : WAVE_FORMAT_PCM);
  u16(1);
  u32(format.sampleRateHz);
  u32(byteRate(format));
  u16(bytesPerSample(format));
  u16(bytesPerSample(format) * 8);
  if (mulaw) {
    u16(0);
    ascii("fact");
    u32(4);
    u32(samples);
  }
  ascii("data");
  u32(dataBytes);
  return header;
}

/** Total file size of a WAV of this duration: header, data and the RIFF pad byte if any. */
export function wavByteLength(format: AudioFormat, durationMs: number): number {
  const samples = sampleCount(format, durationMs);
  const dataBytes = samples * bytesPerSample(format);
  return wavHeader(format, samples).length + dataBytes + (dataBytes % 2);
}

const MULAW_BIAS = 0x84;
const MULAW_CLIP = 32635;

/** G.711 mu-law encoding of one 16-bit linear sample. */
export function linearToMulaw(sample: number): number {
  let magnitude = Math.trunc(sample);
  const sign = magnitude < 0 ? 0x80 : 0;
  if (sign) magnitude = -magnitude;
  magnitude = Math.min(magnitude, MULAW_CLIP) + MULAW_BIAS;
  let exponent = 7;
  for (let mask = 0x4000; (magnitude & mask) === 0 && exponent > 0; mask >>= 1) exponent--;
  const mantissa = (magnitude >> (exponent + 3)) & 0x0f;
  return ~(sign | (exponent << 4) | mantissa) & 0xff;
}

/**
 * A signal that sounds roughly like two people talking in turns: voiced segments (a fundamental with
 * harmonics, shaped by a syllable-rate envelope), pauses, and a little line noise throughout.
 */
class SpeechLikeSignal {
  private phase = 0;
  private remaining = 0;
  private fundamentalHz = 0;
  private talking = false;
  private position = 0;
  private readonly voices: [number, number];

  constructor(
    private readonly random: Random,
    private readonly sampleRateHz: number,
  ) {
    this.voices = [random.int(95, 140), random.int(170, 240)];
  }

  /** The next sample, as a 16-bit linear value. */
  next(): number {
    if (this.remaining <= 0) this.nextSegment();
    this.remaining--;
    this.position++;
    const noise = (this.random.next() - 0.5) * 120;
    if (!this.talking) return noise;
    this.phase += (2 * Math.PI * this.fundamentalHz) / this.sampleRateHz;
    if (this.phase > 2 * Math.PI) this.phase -= 2 * Math.PI;
    const t = this.position / this.sampleRateHz;
    const syllables = 0.5 * (1 - Math.cos(2 * Math.PI * 4 * t));
    const voiced = Math.sin(this.phase) + 0.5 * Math.sin(2 * this.phase) + 0.25 * Math.sin(3 * this.phase);
    return Math.max(-32768, Math.min(32767, 7000 * syllables * voiced + noise));
  }

  private nextSegment(): void {
    this.talking = !this.talking;
    const seconds = this.talking ? 0.8 + this.random.next() * 3.5 : 0.2 + this.random.next() * 0.8;
    this.remaining = Math.max(1, Math.round(seconds * this.sampleRateHz));
    if (this.talking) this.fundamentalHz = this.random.pick(this.voices);
  }
}

export interface WavStreamOptions {
  /** Samples per chunk pushed downstream; the stream never holds more than one chunk. */
  chunkSamples?: number;
}

/**
 * A WAV file of the given duration as a stream: the header, then chunks of synthetic speech generated
 * on demand, so a twenty-minute call costs one chunk of memory. The same seed gives the same bytes.
 */
export function wavStream(
  format: AudioFormat,
  durationMs: number,
  seed: string,
  options: WavStreamOptions = {},
): Readable {
  const total = sampleCount(format, durationMs);
  const chunkSamples = options.chunkSamples ?? 4000;
  const signal = new SpeechLikeSignal(new Random(seed), format.sampleRateHz);
  const width = bytesPerSample(format);
  let produced = 0;
  let headerSent = false;
  let padded = (total * width) % 2 === 0;
  return new Readable({
    read() {
      if (!headerSent) {
        headerSent = true;
        this.push(wavHeader(format, total));
        return;
      }
      if (produced < total) {
        const count = Math.min(chunkSamples, total - produced);
        const chunk = Buffer.allocUnsafe(count * width);
        for (let i = 0; i < count; i++) {
          const sample = signal.next();
          if (width === 1) chunk[i] = linearToMulaw(sample);
          else chunk.writeInt16LE(Math.round(sample), i * 2);
        }
        produced += count;
        this.push(chunk);
        return;
      }
      if (!padded) {
        padded = true;
        this.push(Buffer.alloc(1));
        return;
      }
      this.push(null);
    },
  });
}
