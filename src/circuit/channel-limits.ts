// What a channel may hold for its circuits, and how it shares its stream between them (channel.ts).
import { CIRCUIT_WINDOW } from './flow.ts';

export interface ChannelLimits {
  /**
   * Cells one circuit may have queued on one channel. A well-behaved circuit has at most
   * CIRCUIT_WINDOW (1000) DATA cells in flight in each direction, plus a few control cells (SENDMEs,
   * stream opens and ends); a circuit past this limit ignores flow control and is closed with
   * DESTROY RESOURCELIMIT. The channel and its other circuits carry on.
   */
  readonly maxCircuitQueueCells: number;
  /**
   * Bytes of every queued cell of the node together (Tor's MaxMemInQueues). Above it the circuits
   * holding the most queued cells are closed until the total is 10% under the bound.
   */
  readonly maxQueuedBytes: number;
  /**
   * Cells one circuit may have queued before the streams this node feeds into it (a client's, or an
   * exit's sockets) wait; they resume once the queue is down to `circuitLowWaterCells`. Cells that a
   * relay forwards never wait here: flow control bounds them, and the limit above catches cheats.
   */
  readonly circuitHighWaterCells: number;
  readonly circuitLowWaterCells: number;
  /**
   * Half-life of the count of cells each circuit sent recently, by which the scheduler orders the
   * circuits of a channel (Tor's CircuitPriorityHalflife): the quietest circuit goes first.
   */
  readonly ewmaHalfLifeMs: number;
  /**
   * Cells handed to the stream in one write (256 KiB, the initial yamux window): the scheduler picks
   * them one by one, and at most one batch waits in libp2p's buffer of a stream that went full.
   */
  readonly batchCells: number;
  /** Channel-level cells (DESTROY answers to refused CREATEs) queued for a peer that is not reading. */
  readonly maxControlCells: number;
}

export const defaultChannelLimits: ChannelLimits = {
  maxCircuitQueueCells: 2 * CIRCUIT_WINDOW,
  maxQueuedBytes: 512 * 1024 * 1024,
  circuitHighWaterCells: 128,
  circuitLowWaterCells: 32,
  ewmaHalfLifeMs: 30_000,
  batchCells: 128,
  maxControlCells: 256,
};
