/**
 * Fault injection for the virtual camera: make the next matching command's
 * reply misbehave the way real cameras and cables do (no answer, a late or
 * cut-off answer, lying length fields, a camera error, a halted endpoint, an
 * unplugged cable), so that a client's error handling can be tested.
 *
 * @module
 */

/** What goes wrong with a command's reply. */
export type Fault =
  /** The command is accepted and never answered. */
  | { readonly kind: "silent" }
  /**
   * The reply is held back for `ms` milliseconds. With
   * {@link FaultInjector.lateReplies} on (the default) it still comes when
   * newer commands arrived meanwhile, before their replies; off, it is
   * dropped if a newer command arrives first.
   */
  | { readonly kind: "delay"; readonly ms: number }
  /** Only the first `length` bytes of the reply are ever sent. */
  | { readonly kind: "truncate"; readonly length: number }
  /**
   * The header lies: fixed replies claim a length 0x100 bytes too long in
   * word 0 and at 0x48, long replies put a non-zero length in word 0; both
   * carry a corrupted cmd3 echo (`EE EE` at offset 4).
   */
  | { readonly kind: "garble" }
  /**
   * A fixed reply carries `extra` more (zero) bytes than the command's reply
   * length, and word 0 and 0x48 claim them too; a long reply sends `extra`
   * bytes beyond the length its header announces.
   */
  | { readonly kind: "oversize"; readonly extra: number }
  /**
   * The command is refused with this status word; matches only commands
   * whose reply has one (0x201 and upload blocks).
   */
  | { readonly kind: "status"; readonly status: number }
  /**
   * A long reply's header claims `length` data bytes at offset 6 and then
   * sends only what it has (matches 0x202 commands only).
   */
  | { readonly kind: "length-claim"; readonly length: number }
  /** The bulk IN endpoint halts instead of replying; the reply is lost, clearHalt recovers. */
  | { readonly kind: "stall" }
  /**
   * The device vanishes: when the command arrives (its control transfer
   * fails and it is not executed) or, with `afterBytes`, once that many
   * bytes of its reply have been read.
   */
  | { readonly kind: "unplug"; readonly afterBytes?: number }
  /** The next camera-status read of an init handshake answers this instead of 'C'/'A'. */
  | { readonly kind: "camstat"; readonly value: "I" | "E" }
  /**
   * The reply comes in two pieces: the transfer that would carry its byte
   * `at` (counted from the reply's first byte, a long reply's header
   * included) ends short just before it; the rest follows in the next
   * transfers, as from a camera that sends a reply in parts.
   */
  | { readonly kind: "split"; readonly at: number }
  /**
   * The reply trickles out (a long reply's 0x40 header whole, then) `bytes`
   * bytes every `everyMs` milliseconds, each in a transfer of its own: a
   * hostile or broken camera that never quite stops. Later replies wait
   * behind it.
   */
  | { readonly kind: "drip"; readonly bytes: number; readonly everyMs: number }
  /**
   * After its reply the camera keeps sending zeros on bulk IN without end,
   * whatever the host sends, until the next init handshake or reset.
   */
  | { readonly kind: "flood" }
  /**
   * The next shutter release is answered, but the camera never reports the
   * capture: no interrupt packet follows (the shutter reply never comes).
   */
  | { readonly kind: "capture-silent" }
  /**
   * The next shutter release fails: "capture started", then a
   * photographic-failure packet (0x0A/0x0A) with this code (§4.4.3; 1 is an
   * autofocus failure on the 5D). Nothing is stored.
   */
  | { readonly kind: "capture-failure"; readonly code: number };

/** The faults a shutter release takes ({@link FaultInjector.takeCapture}). */
export type CaptureFault = Extract<Fault, { kind: "capture-silent" | "capture-failure" }>;

/** Which commands a fault applies to. */
export interface FaultTarget {
  /** Function code (byte 0x44). */
  readonly cmd1: number;
  /** 0x11 storage / 0x12 camera (byte 0x47). */
  readonly cmd2: number;
  /** For remote-control commands: only this sub-command (payload word 0). */
  readonly subcommand?: number;
}

/** Options of {@link FaultInjector.inject}. */
export interface FaultOptions {
  /** Only commands with these codes; default: any command the fault can affect. */
  readonly command?: FaultTarget;
  /** How many matching commands are affected; default 1. `Infinity` = until cleared. */
  readonly times?: number;
}

/** The command a reply is being built for, as the fault matcher sees it. */
export interface FaultCandidate {
  /** Function code. */
  readonly cmd1: number;
  /** Storage / camera. */
  readonly cmd2: number;
  /** 0x201, 0x202, 0x203 or 0x403. */
  readonly cmd3: number;
  /** Remote-control sub-command, when the command is one. */
  readonly subcommand?: number;
}

interface Armed {
  readonly fault: Fault;
  readonly target?: FaultTarget;
  remaining: number;
}

/**
 * The virtual camera's fault switchboard. Faults are armed with
 * {@link FaultInjector.inject} and used up by the commands they match, in the
 * order they were armed.
 *
 * @example
 * ```ts
 * import { VirtualCamera } from "@canon-remote/canon-remote/emulator";
 * await using camera = new VirtualCamera();
 * camera.faults.inject({ kind: "silent" }, { command: { cmd1: 0x01, cmd2: 0x12 } });
 * ```
 */
export class FaultInjector {
  #armed: Armed[] = [];

  /**
   * The real-camera quirk of §2.2 step 7: after a handshake that took the
   * camstat 'A' path, the first reply comes without its first 0x40 bytes.
   */
  missingFirst40AfterA = false;

  /**
   * Real-camera behaviour, on by default: a class-6 camera ends the transfers
   * of a long reply's data early, in the blocks of the EOS 20D's download in
   * Protocol.xml (one transfer length, 0x10c0, then 0x40 and transfer length
   * − 0x140 in turn), whatever the host asked for.
   */
  shortTransfers = true;

  /**
   * Real USB behaviour, on by default: a bulk IN transfer of a long reply's
   * data asking for a length that is not a multiple of the packet size,
   * while the camera has more to send in that transfer than fits, overflows
   * (babble), as a full packet does on a real bus. Off: the camera cuts its
   * packet to fit.
   */
  packetOverflow = true;

  /**
   * Real-camera behaviour, on by default: a reply the host did not read (it
   * gave up, or read only part of it) stays in the pipe when the next command
   * arrives, and a reply held back by a "delay" fault still comes after a
   * newer command arrived, with the newer command's reply after it.
   * Off: each new command discards whatever the host left unread.
   */
  lateReplies = true;

  /**
   * Arm a fault for the next matching command(s).
   *
   * @param fault what goes wrong
   * @param options which commands, how many times
   */
  inject(fault: Fault, options: FaultOptions = {}): void {
    const times = options.times ?? 1;
    if (!(times > 0)) throw new RangeError(`times must be positive, got ${times}`);
    this.#armed.push({ fault, target: options.command, remaining: times });
  }

  /**
   * Disarm every fault and switch the §2.2 step-7 quirk off (the real-camera
   * behaviours `shortTransfers`, `packetOverflow`, `lateReplies` stay as set).
   */
  clear(): void {
    this.#armed = [];
    this.missingFirst40AfterA = false;
  }

  /** Faults still armed (for inspection). */
  get pending(): readonly Fault[] {
    return this.#armed.map((armed) => armed.fault);
  }

  /**
   * Use up the first armed reply fault that matches `command`.
   *
   * @param command the command being answered
   * @returns the fault, or undefined when the reply is to be normal
   */
  takeFor(command: FaultCandidate): Fault | undefined {
    const index = this.#armed.findIndex((armed) => matches(armed, command));
    if (index < 0) return undefined;
    return this.#use(index);
  }

  /**
   * Use up an armed camstat fault.
   *
   * @returns the byte to answer instead of 'C'/'A', or undefined
   */
  takeCamstat(): "I" | "E" | undefined {
    const index = this.#armed.findIndex((armed) => armed.fault.kind === "camstat");
    if (index < 0) return undefined;
    const fault = this.#use(index);
    return fault.kind === "camstat" ? fault.value : undefined;
  }

  /**
   * Use up an armed capture fault (taken by the next shutter release).
   *
   * @returns the fault, or undefined when the capture is to go normally
   */
  takeCapture(): CaptureFault | undefined {
    const index = this.#armed.findIndex((armed) => isCaptureFault(armed.fault));
    if (index < 0) return undefined;
    const fault = this.#use(index);
    return isCaptureFault(fault) ? fault : undefined;
  }

  #use(index: number): Fault {
    const armed = this.#armed[index];
    armed.remaining--;
    if (armed.remaining <= 0) this.#armed.splice(index, 1);
    return armed.fault;
  }
}

function isCaptureFault(fault: Fault): fault is CaptureFault {
  return fault.kind === "capture-silent" || fault.kind === "capture-failure";
}

function matches(armed: Armed, command: FaultCandidate): boolean {
  const kind = armed.fault.kind;
  if (kind === "camstat" || isCaptureFault(armed.fault)) return false;
  if (kind === "status" && command.cmd3 !== 0x201 && command.cmd3 !== 0x403) return false;
  if (kind === "length-claim" && command.cmd3 !== 0x202) return false;
  const target = armed.target;
  if (!target) return true;
  if (target.cmd1 !== command.cmd1 || target.cmd2 !== command.cmd2) return false;
  return target.subcommand === undefined || target.subcommand === command.subcommand;
}
