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
  /**
   * The channel's held bytes went from `before` to `after`: the gate bounds what all channels
   * hold together (it stops their input while too much is held).
   */
  heldChanged(before: number, after: number): void;
  /** The channel now reads through this gate: pause its input while the gate says so. */
  attach(channel: GatedOutput): void;
  /** The channel closed: it reads no more. */
  detach(channel: GatedOutput): void;
}

export interface GatedOutput {
  /** Sends what waited for groups ≤ `durable`; true when nothing is held any more. */
  release(durable: number): boolean;
  /** Stop reading the peer (the host holds too much output, or its disk is slow). */
  pauseInput(): void;
  /** Read the peer again. */
  resumeInput(): void;
}
