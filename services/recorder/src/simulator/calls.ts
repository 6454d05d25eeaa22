import type { CallDirection, Party } from "@tandem/events";
import type { AudioInput, CallMetadata } from "../publisher";
import { externalNumber, personName, type Group, type Population, type SimUser } from "./population";
import type { Random } from "./random";
import { CODEC_NAMES, WAV_CONTENT_TYPE, wavStream, type AudioFormat } from "./wav";

export interface DurationOptions {
  minCallSeconds?: number;
  maxCallSeconds?: number;
  /** Median of the log-normal distribution before clamping. */
  medianCallSeconds?: number;
  /** Spread (sigma of the underlying normal). */
  spread?: number;
}

export interface CallGeneratorOptions extends DurationOptions {
  /** Recorders of the site; each call names one of them. */
  recorderIds?: string[];
  audio?: AudioFormat;
}

/** A generated call: the metadata to publish and what its audio is made of. */
export interface SimulatedCall {
  metadata: CallMetadata;
  format: AudioFormat;
  /** Seed of the call's audio: the same call always has the same bytes. */
  audioSeed: string;
}

/**
 * Call durations in ms: log-normal (most calls last a few minutes, a long tail lasts much longer),
 * clamped to [min, max]. Defaults: median 2.5 min, between 5 s and 20 min.
 */
export function drawDurationMs(random: Random, options: DurationOptions = {}): number {
  const min = options.minCallSeconds ?? 5;
  const max = options.maxCallSeconds ?? 1200;
  if (!(min > 0 && max >= min)) throw new RangeError(`call duration bounds must satisfy 0 < min <= max`);
  const median = options.medianCallSeconds ?? 150;
  const spread = options.spread ?? 1;
  const seconds = Math.exp(Math.log(median) + spread * random.normal());
  return Math.round(Math.min(max, Math.max(min, seconds)) * 1000);
}

const DIRECTIONS: Readonly<Record<CallDirection, number>> = { INBOUND: 50, OUTBOUND: 35, INTERNAL: 15 };
const DISPOSITIONS = { answered: 80, transferred: 12, voicemail: 5, abandoned: 3 } as const;

const userParty = (user: SimUser): Party => ({ number: user.number, name: user.fields.name });

/** Generates calls between the population's users and the outside world, deterministically per seed. */
export class CallGenerator {
  private readonly recorderIds: string[];
  private readonly format: AudioFormat;
  private readonly groups: Group[];
  private index = 0;

  constructor(
    private readonly random: Random,
    population: Population,
    private readonly options: CallGeneratorOptions = {},
  ) {
    this.recorderIds = options.recorderIds ?? ["recorder-1"];
    this.format = options.audio ?? { encoding: "mulaw", sampleRateHz: 8000 };
    this.groups = population.tenants.flatMap((t) => t.groups);
  }

  /** The next call, which ended at `endedAtMs`. */
  next(endedAtMs: number): SimulatedCall {
    const random = this.random;
    const index = this.index++;
    const group = random.pick(this.groups);
    const user = random.pick(group.users);
    const direction = random.weighted(DIRECTIONS);
    const durationMs = drawDurationMs(random, this.options);
    const outside: Party = {
      number: externalNumber(random),
      name: random.chance(0.6) ? personName(random) : null,
    };
    let caller: Party;
    let callee: Party;
    let participantUserIds = [user.id];
    if (direction === "INBOUND") {
      caller = outside;
      callee = userParty(user);
    } else if (direction === "OUTBOUND") {
      caller = userParty(user);
      callee = outside;
    } else {
      const colleague = random.pick(group.users.filter((u) => u.id !== user.id));
      caller = userParty(user);
      callee = userParty(colleague);
      participantUserIds = [user.id, colleague.id];
    }
    const attributes: Record<string, string> = {
      queue: group.name.toLowerCase(),
      disposition: random.weighted(DISPOSITIONS),
      trunk: `sip-trunk-${random.int(1, 4)}`,
    };
    return {
      metadata: {
        callId: random.uuid(),
        tenantId: group.tenantId,
        groupId: group.id,
        participantUserIds,
        recorderId: random.pick(this.recorderIds),
        direction,
        caller,
        callee,
        startedAtMs: endedAtMs - durationMs,
        endedAtMs,
        durationMs,
        attributes,
      },
      format: this.format,
      audioSeed: `${random.seed}/audio/${index}`,
    };
  }
}

/** A fresh audio stream for the call (a retry needs a new one: a stream is read once). */
export function callAudio(call: SimulatedCall): AudioInput {
  return {
    body: wavStream(call.format, call.metadata.durationMs, call.audioSeed),
    contentType: WAV_CONTENT_TYPE,
    codec: CODEC_NAMES[call.format.encoding],
    channels: 1,
    sampleRateHz: call.format.sampleRateHz,
  };
}
