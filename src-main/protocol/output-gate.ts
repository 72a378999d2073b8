/**
 * What a channel asks before what it sends may leave (the host's durability gate,
 * src-main/server/durability-gate.ts; a client has none). Groups are numbers that complete in
 * order: output produced while `barrier` is n waits until group n is `durable`.
 */
export interface OutputGate {
  /** 0 when everything output now depends on is durable; else the group it must wait for. */
  readonly barrier: number;
  /** The last group that is durable. */
  readonly durable: number;
  /** The channel holds output: call its `release(durable)` when a group completes. */
  hold(channel: GatedOutput): void;
}

export interface GatedOutput {
  /** Sends what waited for groups ≤ `durable`; true when nothing is held any more. */
  release(durable: number): boolean;
}
