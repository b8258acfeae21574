/**
 * The vocabulary the engine's command handlers share: a parsed command
 * block, the answer a handler gives, the status words, and the table that
 * maps (cmd1, cmd2, cmd3) to a handler (§3.1, §4.1).
 *
 * @module
 */

import { CARD_STATUS } from "../card/card_model.ts";
import type { ByteSource } from "./byte_fifo.ts";

/** Camera status words the engine answers with (§5.1). */
export const CAMERA_STATUS = {
  /** Success. */
  OK: 0,
  /** File not found. */
  FILE_NOT_FOUND: CARD_STATUS.FILE_NOT_FOUND,
  /** Card full (set transfer mode, release). */
  CARD_FULL: CARD_STATUS.CARD_FULL,
  /** Could not enter capture mode (remote init while already in remote mode). */
  CAPTURE_MODE_FAILED: 0x02000085,
  /** Invalid parameters / path not found / unknown command / not in remote mode. */
  INVALID_PARAMETERS: 0x02000086,
  /** No storage card. */
  NO_CARD: CARD_STATUS.NO_CARD,
} as const;

/** Transfer-mode bits of remote-control sub-command 0x09 (§4.4.2). */
export const TRANSFER_MODE = {
  /** Thumbnail to the host. */
  THUMB_TO_PC: 0x01,
  /** Full image to the host. */
  FULL_TO_PC: 0x02,
  /** Thumbnail to the card. */
  THUMB_TO_DRIVE: 0x04,
  /** Full image to the card. */
  FULL_TO_DRIVE: 0x08,
} as const;

/** cmd3 of a fixed-length command (§3.1). */
export const FIXED = 0x201;
/** cmd3 of a command with a long reply. */
export const LONG = 0x202;
/** cmd3 (a half-word) of the 0x40-byte upload pre-header (§4.3.10). */
export const UPLOAD_HEADER = 0x203;
/** cmd3 of an upload data block. */
export const UPLOAD_BLOCK = 0x403;
/** cmd1 of remote control in the old protocol (the new one uses 0x25, §4.4). */
export const REMOTE_CONTROL = 0x13;

/** A parsed command block (§3.1). */
export interface Command {
  /** Function code (byte 0x44). */
  cmd1: number;
  /** 0x11 storage / 0x12 camera (byte 0x47). */
  cmd2: number;
  /** 0x201 fixed, 0x202 long, 0x403 upload block (word 4). */
  cmd3: number;
  /** Serial number (word 0x4C). */
  serial: number;
  /** The bytes after the 0x50-byte header. */
  payload: Uint8Array;
  /** Whether the length fields agree with the block and the 0x02 marker is there. */
  wellFormed: boolean;
}

/** A fixed reply before framing: the status and the data from 0x54. */
export interface FixedAnswer {
  /** The status word at 0x50. */
  status: number;
  /** The bytes from 0x54 on (cut to the reply's length). */
  data?: Uint8Array;
  /** cmd1 echoed at 0x44 when it differs from the command's (the lock-keys quirk). */
  echo?: number;
}

/** A command with a fixed-length reply. */
export interface FixedHandler {
  /** Discriminant. */
  kind: "fixed";
  /** Total reply length, header included. */
  length(command: Command): number;
  /** The answer. */
  run(command: Command): FixedAnswer;
}

/** A command with a long reply: a header, then the data. */
export interface LongHandler {
  /** Discriminant. */
  kind: "long";
  /** The reply's data. */
  run(command: Command): ByteSource;
}

/** The commands a camera answers, by (cmd1, cmd2, cmd3). */
export class CommandTable {
  readonly #handlers = new Map<number, FixedHandler | LongHandler>();

  /**
   * Add a fixed command.
   *
   * @param cmd1 function code
   * @param cmd2 0x11 or 0x12
   * @param length the reply's total length, or how to tell it from the command
   * @param run the handler
   */
  fixed(
    cmd1: number,
    cmd2: number,
    length: number | ((command: Command) => number),
    run: (command: Command) => FixedAnswer,
  ): void {
    const lengthOf = typeof length === "number" ? () => length : length;
    this.#handlers.set(key(cmd1, cmd2, FIXED), { kind: "fixed", length: lengthOf, run });
  }

  /**
   * Add a command with a long reply.
   *
   * @param cmd1 function code
   * @param cmd2 0x11 or 0x12
   * @param run the handler
   */
  long(cmd1: number, cmd2: number, run: (command: Command) => ByteSource): void {
    this.#handlers.set(key(cmd1, cmd2, LONG), { kind: "long", run });
  }

  /**
   * The handler of a command, if the camera knows it.
   *
   * @param command the parsed block
   * @returns its handler, or undefined
   */
  handlerOf(command: Command): FixedHandler | LongHandler | undefined {
    return this.#handlers.get(key(command.cmd1, command.cmd2, command.cmd3));
  }
}

function key(cmd1: number, cmd2: number, cmd3: number): number {
  return cmd1 | (cmd2 << 8) | (cmd3 << 16);
}
