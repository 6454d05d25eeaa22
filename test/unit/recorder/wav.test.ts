import { createHash } from "node:crypto";
import type { Readable } from "node:stream";
import { describe, expect, it } from "vitest";
import {
  byteRate,
  linearToMulaw,
  wavByteLength,
  wavStream,
  type AudioFormat,
} from "../../../services/recorder/src/simulator";

interface ParsedWav {
  riffSize: number;
  formatTag: number;
  channels: number;
  sampleRateHz: number;
  byteRate: number;
  blockAlign: number;
  bitsPerSample: number;
  factSamples: number | undefined;
  dataSize: number;
  dataOffset: number;
}

/** An independent reader of the RIFF/WAVE layout: walks the chunks as a player would. */
function parseWav(file: Buffer): ParsedWav {
  expect(file.toString("ascii", 0, 4)).toBe("RIFF");
  expect(file.toString("ascii", 8, 12)).toBe("WAVE");
  const parsed: Partial<ParsedWav> = { riffSize: file.readUInt32LE(4) };
  let at = 12;
  while (at + 8 <= file.length) {
    const id = file.toString("ascii", at, at + 4);
    const size = file.readUInt32LE(at + 4);
    const body = at + 8;
    if (id === "fmt ") {
      parsed.formatTag = file.readUInt16LE(body);
      parsed.channels = file.readUInt16LE(body + 2);
      parsed.sampleRateHz = file.readUInt32LE(body + 4);
      parsed.byteRate = file.readUInt32LE(body + 8);
      parsed.blockAlign = file.readUInt16LE(body + 12);
      parsed.bitsPerSample = file.readUInt16LE(body + 14);
    } else if (id === "fact") {
      parsed.factSamples = file.readUInt32LE(body);
    } else if (id === "data") {
      parsed.dataSize = size;
      parsed.dataOffset = body;
    }
    at = body + size + (size % 2);
  }
  return parsed as ParsedWav;
}

async function collect(stream: Readable): Promise<{ file: Buffer; largestChunk: number }> {
  const chunks: Buffer[] = [];
  let largestChunk = 0;
  for await (const chunk of stream) {
    chunks.push(chunk as Buffer);
    largestChunk = Math.max(largestChunk, (chunk as Buffer).length);
  }
  return { file: Buffer.concat(chunks), largestChunk };
}

const mulaw: AudioFormat = { encoding: "mulaw", sampleRateHz: 8000 };
const pcm16: AudioFormat = { encoding: "pcm16", sampleRateHz: 16000 };

describe("WAV audio", () => {
  it.each([
    ["G.711 mu-law", mulaw, { formatTag: 7, bitsPerSample: 8, blockAlign: 1, byteRate: 8000 }],
    ["16-bit PCM", pcm16, { formatTag: 1, bitsPerSample: 16, blockAlign: 2, byteRate: 32000 }],
  ])("%s: a valid RIFF/WAVE file whose data matches the duration", async (_name, format, fmt) => {
    const durationMs = 7_250;
    const { file } = await collect(wavStream(format, durationMs, "seed"));
    const wav = parseWav(file);
    expect(wav).toMatchObject({ ...fmt, channels: 1, sampleRateHz: format.sampleRateHz });
    expect(byteRate(format)).toBe(fmt.byteRate);
    expect(wav.dataSize).toBe((durationMs / 1000) * fmt.byteRate);
    expect(wav.dataOffset + wav.dataSize).toBe(file.length);
    expect(wav.riffSize + 8).toBe(file.length);
    expect(wavByteLength(format, durationMs)).toBe(file.length);
    if (format.encoding === "mulaw") expect(wav.factSamples).toBe((durationMs / 1000) * 8000);
  });

  it("pads an odd data chunk to an even length, as RIFF requires", async () => {
    // 8 kHz mu-law for 0.125 ms is one sample: one data byte, then the pad byte.
    const format: AudioFormat = { encoding: "mulaw", sampleRateHz: 8000 };
    const { file } = await collect(wavStream(format, 0.125, "odd"));
    const wav = parseWav(file);
    expect(wav.dataSize).toBe(1);
    expect(file.length).toBe(wav.dataOffset + 2);
    expect(wav.riffSize + 8).toBe(file.length);
  });

  it("streams a long call in small chunks rather than as one buffer", async () => {
    const { file, largestChunk } = await collect(
      wavStream(mulaw, 10 * 60_000, "long", { chunkSamples: 4000 }),
    );
    expect(file.length).toBe(wavByteLength(mulaw, 10 * 60_000));
    expect(largestChunk).toBeLessThanOrEqual(4000);
  });

  it("carries sound, not silence: the samples vary", async () => {
    const { file } = await collect(wavStream(pcm16, 5_000, "voice"));
    const wav = parseWav(file);
    let peak = 0;
    for (let at = wav.dataOffset; at < file.length; at += 2)
      peak = Math.max(peak, Math.abs(file.readInt16LE(at)));
    expect(peak).toBeGreaterThan(2000);
  });

  it("gives the same bytes for the same seed and other bytes for another", async () => {
    const digest = async (seed: string) =>
      createHash("sha256")
        .update((await collect(wavStream(mulaw, 3_000, seed))).file)
        .digest("hex");
    expect(await digest("a")).toBe(await digest("a"));
    expect(await digest("a")).not.toBe(await digest("b"));
  });

  it("encodes mu-law as G.711 does", () => {
    expect(linearToMulaw(0)).toBe(0xff);
    expect(linearToMulaw(-1)).toBe(0x7f);
    expect(linearToMulaw(32767)).toBe(0x80);
    expect(linearToMulaw(-32768)).toBe(0x00);
    expect(linearToMulaw(1000)).toBe(0xce);
  });
});
