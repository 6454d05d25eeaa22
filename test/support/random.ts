/**
 * Seeded random numbers for tests: the recorder simulator's generator, so that the repository holds one
 * implementation. The same seed gives the same sequence on every machine.
 */
import { Random } from "../../services/recorder/src/simulator/random";

/** Uniform numbers in [0, 1). */
export function seededRandom(seed: string | number): () => number {
  const random = new Random(String(seed));
  return () => random.next();
}

export function seededBytes(seed: string | number, length: number): Buffer {
  const random = new Random(String(seed));
  const bytes = Buffer.alloc(length);
  for (let i = 0; i < length; i++) bytes[i] = random.uint32() & 0xff;
  return bytes;
}
