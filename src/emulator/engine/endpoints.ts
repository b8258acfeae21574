/**
 * The camera's IN endpoints as the host sees them: the bulk IN pipe the
 * replies queue in (shaped by the transfer faults: delays, drips,
 * truncation, stalls, unplugging mid-reply), the interrupt queue with the
 * idle poll's zero-length packets, and endpoint halts.
 *
 * @module
 */

import { ByteFifo, type ByteSource, dropSources, limitSources } from "./byte_fifo.ts";
import type { RealCameraQuirks } from "./camera_state.ts";
import { type EmulatedModel, ENDPOINTS } from "./emulated_models.ts";
import type { Fault, FaultInjector } from "./faults.ts";
import { endEachReply } from "./framing.ts";
import type { FunctionRead } from "./usb_function.ts";

/** What the endpoints need of the engine around them. */
export interface EndpointHost {
  /** The model profile (packet size, polling interval). */
  readonly model: EmulatedModel;
  /** The fault switchboard. */
  readonly faults: FaultInjector;
  /** The real-camera behaviours in force. */
  readonly quirks: RealCameraQuirks;
  /** False while unplugged. */
  readonly connected: boolean;
  /** Increases at every replug. */
  readonly plugGeneration: number;
  /** Run `action` after `ms`. */
  schedule(ms: number, action: () => void): void;
  /** Tell the transport that a pending read may now succeed. */
  notify(): void;
  /** Pull the cable. */
  unplug(): void;
}

/**
 * How often the host controller polls the interrupt endpoint, in ms: a
 * full-speed bInterval in frames rounded down to a power of two (the G3's 96
 * gives the 64 ms of its gphoto2 log); high speed 2^(bInterval−1) microframes.
 *
 * @param model the model profile
 * @returns the period
 */
export function interruptPollPeriod(model: EmulatedModel): number {
  const interval = Math.max(1, model.usb.interruptInterval);
  if (model.usb.speedMbps >= 480) return Math.max(1, 2 ** (Math.min(interval, 16) - 1) / 8);
  return 2 ** Math.floor(Math.log2(interval));
}

/** The IN endpoints of one camera. */
export class Endpoints {
  readonly #host: EndpointHost;
  readonly #bulkIn = new ByteFifo();
  readonly #interrupts: Uint8Array[] = [];
  readonly #halted = new Set<number>();
  /** An idle interrupt poll is due a zero-length packet (the polling interval has passed). */
  #zlpDue = false;
  #zlpTimer = false;
  /** The last poll slot (time / period) that was due a zero-length packet. */
  #zlpSlot = -1;
  #replyGeneration = 0;
  /** Increases when the pipes are flushed (init handshake, reset, replug): held-back replies die. */
  #pipeGeneration = 0;
  /** Replies waiting behind a held-back ("delay") reply, in order (late replies on). */
  #heldBack: ByteSource[][] | undefined;
  #unplugAfter: number | undefined;
  /** Bytes until the transfer in progress ends short (the "split" fault). */
  #splitAfter: number | undefined;
  #dropNext40 = false;

  /**
   * Empty endpoints.
   *
   * @param host the engine around them
   */
  constructor(host: EndpointHost) {
    this.#host = host;
  }

  /** Increases at every command: a reply delayed by the timing model for an older one dies. */
  get replyGeneration(): number {
    return this.#replyGeneration;
  }

  /**
   * A bulk or interrupt IN transfer.
   *
   * @param endpointAddress 0x81 or 0x83
   * @param maxLength the most the host accepts
   * @returns bytes, a stall, or null (nothing yet)
   */
  read(endpointAddress: number, maxLength: number): FunctionRead {
    if (endpointAddress === ENDPOINTS.BULK_IN) {
      if (this.#halted.has(endpointAddress)) return "stall";
      const limit = Math.min(
        maxLength,
        this.#unplugAfter ?? maxLength,
        this.#splitAfter ?? maxLength,
      );
      const bytes = this.#bulkIn.take(this.#overflowing(limit));
      if (this.#splitAfter !== undefined) {
        this.#splitAfter -= bytes?.length ?? 0;
        if (this.#splitAfter <= 0) this.#splitAfter = undefined;
      }
      if (this.#unplugAfter !== undefined) {
        this.#unplugAfter -= bytes?.length ?? 0;
        if (this.#unplugAfter <= 0) {
          this.#unplugAfter = undefined;
          queueMicrotask(() => this.#host.unplug());
        }
      }
      return bytes;
    }
    if (endpointAddress === ENDPOINTS.INTERRUPT_IN) {
      if (this.#halted.has(endpointAddress)) return "stall";
      const packet = this.#interrupts.shift();
      if (packet) {
        this.#zlpDue = false;
        return packet.subarray(0, maxLength);
      }
      return this.#idlePoll();
    }
    return "stall";
  }

  /**
   * A bulk IN transfer of `limit` bytes of a long reply's data that is not a
   * whole number of packets while the camera has more to send in it: the
   * last packet is a full one and overflows the host's buffer
   * (packetOverflow, on by default). Returns how many bytes the camera puts
   * on the bus.
   */
  #overflowing(limit: number): number {
    const packet = this.#host.model.usb.endpointPacketSize;
    if (!this.#host.faults.packetOverflow || limit % packet === 0 || !this.#bulkIn.atLongData) {
      return limit;
    }
    const inTransfer = Math.min(
      this.#bulkIn.untilTransferEnd,
      this.#unplugAfter ?? Infinity,
      this.#splitAfter ?? Infinity,
    );
    if (inTransfer <= limit) return limit;
    return Math.min(inTransfer, limit - (limit % packet) + packet);
  }

  /**
   * How many bytes an IN endpoint could send now.
   *
   * @param endpointAddress 0x81 or 0x83
   * @returns bytes ready, or "stall" when the endpoint is halted
   */
  available(endpointAddress: number): number | "stall" {
    if (this.#halted.has(endpointAddress)) return "stall";
    if (endpointAddress === ENDPOINTS.BULK_IN) {
      return Math.min(
        this.#bulkIn.untilTransferEnd,
        this.#unplugAfter ?? Infinity,
        this.#splitAfter ?? Infinity,
      );
    }
    if (endpointAddress === ENDPOINTS.INTERRUPT_IN) return this.#interrupts[0]?.length ?? 0;
    return "stall";
  }

  /**
   * Whether an endpoint is halted.
   *
   * @param endpointAddress the endpoint
   * @returns true when halted
   */
  isHalted(endpointAddress: number): boolean {
    return this.#halted.has(endpointAddress);
  }

  /**
   * Halt an endpoint (SET_FEATURE ENDPOINT_HALT, or the "stall" fault).
   *
   * @param endpointAddress the endpoint
   */
  halt(endpointAddress: number): void {
    this.#halted.add(endpointAddress);
    this.#host.notify();
  }

  /**
   * The host cleared a halt.
   *
   * @param endpointAddress the endpoint
   */
  clearHalt(endpointAddress: number): void {
    this.#halted.delete(endpointAddress);
    this.#host.notify();
  }

  /**
   * Queue an interrupt packet.
   *
   * @param packet the packet, one transfer
   */
  queueInterrupt(packet: Uint8Array): void {
    this.#interrupts.push(packet);
    this.#host.notify();
  }

  /**
   * A command arrived. A real camera leaves a reply the host did not read in
   * the pipe, to be read before the new one (late replies, on by default);
   * off, the new command supersedes it.
   */
  newReply(): void {
    this.#replyGeneration++;
    this.#bulkIn.dropSurplus();
    if (!this.#host.faults.lateReplies) {
      this.#bulkIn.clear();
      this.#heldBack = undefined;
    }
  }

  /** A command (not an upload pre-header) arrived: {@link Endpoints.newReply}, and the transfer faults of the last reply end. */
  newCommand(): void {
    this.newReply();
    this.#unplugAfter = undefined;
    this.#splitAfter = undefined;
  }

  /**
   * The init handshake's reply: it replaces whatever the pipe held.
   *
   * @param reply the bytes
   */
  handshakeReply(reply: ByteSource): void {
    this.#replyGeneration++;
    this.#pipeGeneration++;
    this.#heldBack = undefined;
    this.#bulkIn.clear();
    this.#bulkIn.push(reply);
    this.#host.notify();
  }

  /** The next reply loses its first 0x40 bytes (the missingFirst40AfterA fault). */
  dropNextHeader(): void {
    this.#dropNext40 = true;
  }

  /** Everything queued is gone and every halt cleared (handshake, reset, replug). */
  flush(): void {
    this.#pipeGeneration++;
    this.#heldBack = undefined;
    this.#zlpTimer = false;
    this.#zlpDue = false;
    this.#bulkIn.clear();
    this.#interrupts.length = 0;
    this.#halted.clear();
    this.#replyGeneration++;
    this.#unplugAfter = undefined;
    this.#splitAfter = undefined;
    this.#dropNext40 = false;
  }

  /**
   * An interrupt read with nothing queued: a real camera answers the next
   * poll of the endpoint with a zero-length packet; the read waits for that
   * poll (the endpoint's interval, as the host controller schedules it).
   */
  #idlePoll(): Uint8Array | null {
    if (!this.#host.quirks.idleZeroLengthPackets) return null;
    if (this.#zlpDue) {
      this.#zlpDue = false;
      return new Uint8Array(0);
    }
    if (!this.#zlpTimer) {
      this.#zlpTimer = true;
      const period = interruptPollPeriod(this.#host.model);
      const now = performance.now();
      // The next poll slot, never the one already answered (a timer may fire a little early).
      const slot = Math.max(Math.floor(now / period) + 1, this.#zlpSlot + 1);
      const generation = this.#host.plugGeneration;
      this.#host.schedule(slot * period - now, () => {
        this.#zlpTimer = false;
        this.#zlpSlot = slot;
        if (generation !== this.#host.plugGeneration || !this.#host.connected) return;
        this.#zlpDue = true;
        this.#host.notify();
      });
    }
    return null;
  }

  /**
   * Queue a framed reply, shaped by its fault.
   *
   * @param framed the reply's transfers
   * @param fault the fault that hit the command, if any
   */
  deliver(framed: ByteSource[], fault?: Fault): void {
    let sources = endEachReply(framed);
    if (this.#heldBack && fault?.kind !== "delay") {
      // The camera is still busy with an earlier command: this reply comes after its.
      this.#heldBack.push(
        fault?.kind === "truncate" ? limitSources(sources, fault.length) : sources,
      );
      return;
    }
    if (fault?.kind === "truncate") sources = limitSources(sources, fault.length);
    if (this.#dropNext40) {
      this.#dropNext40 = false;
      sources = dropSources(sources, 0x40);
    }
    switch (fault?.kind) {
      case "silent":
        return;
      case "stall":
        this.halt(ENDPOINTS.BULK_IN);
        return;
      case "delay": {
        const generation = this.#replyGeneration;
        const pipes = this.#pipeGeneration;
        const late = this.#host.faults.lateReplies;
        if (late) this.#heldBack ??= [];
        this.#host.schedule(fault.ms, () => {
          if (!this.#host.connected || pipes !== this.#pipeGeneration) return;
          if (!late && generation !== this.#replyGeneration) return;
          this.#bulkIn.push(...sources);
          if (late) {
            // The replies to the commands that came meanwhile follow, in order.
            for (const held of this.#heldBack ?? []) this.#bulkIn.push(...held);
            this.#heldBack = undefined;
          }
          this.#host.notify();
        });
        return;
      }
      case "drip": {
        const pipes = this.#pipeGeneration;
        const step = Math.max(1, Math.floor(fault.bytes));
        const all = sources.reduce((n, source) => n + source.size, 0);
        let sent = 0;
        // The camera is busy until the reply is out: later replies wait behind it.
        this.#heldBack ??= [];
        const next = () => {
          if (!this.#host.connected || pipes !== this.#pipeGeneration) return;
          if (sent >= all) {
            for (const held of this.#heldBack ?? []) this.#bulkIn.push(...held);
            this.#heldBack = undefined;
            this.#host.notify();
            return;
          }
          // A long reply's header comes whole (it is a transfer of its own); the rest drips.
          const size = sent === 0 && sources.length > 1 && sources[0].endsTransfer
            ? sources[0].size
            : step;
          const part = limitSources(dropSources(sources, sent), size);
          sent += size;
          this.#bulkIn.push(...part.map((p) => ({ ...p, endsTransfer: true })));
          this.#host.notify();
          this.#host.schedule(fault.everyMs, next);
        };
        next();
        return;
      }
      case "flood":
        this.#bulkIn.push(...sources, {
          size: Number.MAX_SAFE_INTEGER,
          bytes: (_offset, n) => new Uint8Array(n),
        });
        this.#host.notify();
        return;
      case "unplug":
        this.#unplugAfter = fault.afterBytes;
        break;
      case "split":
        this.#splitAfter = fault.at > 0 ? fault.at : undefined;
        break;
    }
    this.#bulkIn.push(...sources);
    if (this.#unplugAfter === 0) {
      this.#unplugAfter = undefined;
      this.#host.unplug();
      return;
    }
    this.#host.notify();
  }
}
