/**
 * The shutter release and the interrupt pipe (§4.4.3, §5.4, errata E10):
 * the captured-image and viewfinder requests, the interrupt packets, and the
 * state machine that decides when a capture is complete.
 *
 * @module
 */

import { readU32 } from "../bytes.ts";
import { TRANSFER_MODE } from "./remote_control.ts";

/** Interrupt packet codes (byte 4, §5.4). */
export const INTERRUPT_CODE: Readonly<{
  THUMBNAIL: 0x08;
  STATUS: 0x0a;
  IMAGE: 0x0c;
  CARD_WRITTEN: 0x0e;
  COMPLETE: 0x0f;
  SECONDARY: 0x10;
  INIT: 0x20;
}> = {
  /** Thumbnail descriptor (key, size). */
  THUMBNAIL: 0x08,
  /** Capture status; sub-code at 0x0C. */
  STATUS: 0x0a,
  /** Full-image descriptor. */
  IMAGE: 0x0c,
  /** EOS: the image is written to the card. */
  CARD_WRITTEN: 0x0e,
  /** EOS: capture complete. */
  COMPLETE: 0x0f,
  /** Secondary image (RAW+JPEG) descriptor. */
  SECONDARY: 0x10,
  /** Initialisation packet. */
  INIT: 0x20,
} as const;

/** Sub-codes of a capture-status packet (0x0A, word 0x0C). */
export const CAPTURE_STATUS: Readonly<{
  FAILURE: 0x0a;
  FLASH_WAIT: 0x1b;
  STARTED: 0x1c;
  FINISHED: 0x1d;
}> = {
  /** Photographic failure; word 0x10 = the failure code (1 = autofocus failure on the 5D). */
  FAILURE: 0x0a,
  /** Waiting for the flash (D30/D60 internal flash). */
  FLASH_WAIT: 0x1b,
  /** Capture started. */
  STARTED: 0x1c,
  /** Capture finished (PowerShot: complete; EOS: still writing). */
  FINISHED: 0x1d,
} as const;

/** An image the camera announces for the host to fetch. */
export interface ImageDescriptor {
  /** The key to fetch it with (0x17 payload word 3). */
  key: number;
  /** Its size in bytes. */
  size: number;
}

/**
 * How a camera ends its capture sequence (§1.4, §4.4.3). Each model's rules
 * are its traits' `captureRules`: its class's, with the model's quirks (the
 * 10D's and the 300D's) laid over them.
 */
export interface CaptureRules {
  /** "Capture finished" (0x0A/0x1D) ends the sequence: every class but 4. */
  readonly doneOnFinished: boolean;
  /** The last requested descriptor ends it: class 6 and the 300D. */
  readonly doneOnDescriptors: boolean;
  /** "Written to card" (0x0E) ends it: class 6, the 10D and the 300D. */
  readonly doneOnCardWrite: boolean;
  /** 0x0E may come before "capture finished": class 6. */
  readonly cardWriteAnyStep: boolean;
}

/** Where a capture is in its interrupt sequence. */
export interface CaptureProgress {
  /** 0 released, 1 started, 2 finished, 3 written to card. */
  readonly step: 0 | 1 | 2 | 3;
  /** Transfer-mode bits whose packets are still expected. */
  readonly pending: number;
  /** Whether a secondary (RAW+JPEG) image is expected. */
  readonly secondaryExpected: boolean;
  /** The thumbnail announced for the host. */
  readonly thumbnail?: ImageDescriptor;
  /** The full image announced for the host. */
  readonly image?: ImageDescriptor;
  /** The secondary image announced for the host. */
  readonly secondary?: ImageDescriptor;
}

/** What one interrupt packet did to a capture. */
export type CaptureAdvance =
  /**
   * Wait for more packets. `idle` marks a zero-length packet: a real camera
   * answers every poll of its interrupt endpoint with one while it has
   * nothing to say (a PowerShot G3 every 64 ms).
   */
  | {
    readonly kind: "continue";
    readonly progress: CaptureProgress;
    readonly note?: string;
    readonly idle?: true;
  }
  /** The capture sequence is complete. */
  | { readonly kind: "done"; readonly progress: CaptureProgress }
  /** The camera could not take the picture (0x0A/0x0A); `code` = its failure code. */
  | { readonly kind: "failed"; readonly progress: CaptureProgress; readonly code: number }
  /** The packet does not fit the sequence. */
  | { readonly kind: "unexpected"; readonly progress: CaptureProgress; readonly reason: string };

/**
 * The state of a capture just released with transfer mode `mode`.
 *
 * @param mode the bits last sent with RC 0x09
 * @param secondaryExpected true when the image format records RAW+JPEG (§6.3: block byte 0x02 has bits 0xF0)
 * @returns the initial progress
 */
export function startCapture(mode: number, secondaryExpected = false): CaptureProgress {
  return { step: 0, pending: mode & 0x0f, secondaryExpected };
}

/**
 * Advance a capture by one interrupt packet, as gphoto2's capture dialogue
 * does (§4.4.3 table; errata E10 for the failure code).
 *
 * @param progress where the capture is
 * @param packet the interrupt packet (0x10, 0x14 or 0x17 bytes; empty = nothing to report)
 * @param rules the camera's rules (its traits' `captureRules`)
 * @returns the new progress and whether the sequence is done, failed or unexpected
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { advanceCapture, startCapture } from "./capture_sequence.ts";
 * import { CLASS_TRAITS } from "../traits.ts";
 * const rules = CLASS_TRAITS[5].captureRules;
 * const p0 = startCapture(0x08);
 * const started = Uint8Array.of(2,0,0,0, 0x0a,0,0,0, 0x10,0,0,0, 0x1c,0,0,0);
 * const a = advanceCapture(p0, started, rules);
 * assert.equal(a.kind, "continue");
 * ```
 */
export function advanceCapture(
  progress: CaptureProgress,
  packet: Uint8Array,
  rules: CaptureRules,
): CaptureAdvance {
  if (packet.length === 0) return { kind: "continue", progress, idle: true };
  if (packet.length < 0x10) {
    return { kind: "unexpected", progress, reason: `a ${packet.length}-byte interrupt packet` };
  }
  const code = packet[4];
  const word0c = readU32(packet, 0x0c);
  const descriptor = (): ImageDescriptor => ({
    key: word0c,
    size: packet.length >= 0x15 ? readU32(packet, 0x11) : 0,
  });
  switch (code) {
    case INTERRUPT_CODE.THUMBNAIL: {
      if (!(progress.pending & TRANSFER_MODE.THUMB_TO_PC)) {
        return { kind: "continue", progress, note: "thumbnail descriptor not asked for" };
      }
      const next = {
        ...progress,
        thumbnail: descriptor(),
        pending: progress.pending & ~TRANSFER_MODE.THUMB_TO_PC,
      };
      return rules.doneOnDescriptors && next.pending === 0
        ? { kind: "done", progress: next }
        : { kind: "continue", progress: next };
    }
    case INTERRUPT_CODE.IMAGE: {
      if (!(progress.pending & TRANSFER_MODE.FULL_TO_PC)) {
        return { kind: "continue", progress, note: "image descriptor not asked for" };
      }
      const next = {
        ...progress,
        image: descriptor(),
        pending: progress.pending & ~TRANSFER_MODE.FULL_TO_PC,
      };
      return rules.doneOnDescriptors && !next.secondaryExpected && next.pending === 0
        ? { kind: "done", progress: next }
        : { kind: "continue", progress: next };
    }
    case INTERRUPT_CODE.SECONDARY: {
      if (!progress.secondaryExpected && !(progress.pending & TRANSFER_MODE.FULL_TO_PC)) {
        return { kind: "continue", progress, note: "secondary descriptor not asked for" };
      }
      const next = {
        ...progress,
        secondary: descriptor(),
        pending: progress.pending & ~TRANSFER_MODE.FULL_TO_PC,
      };
      return rules.doneOnDescriptors && next.pending === 0
        ? { kind: "done", progress: next }
        : { kind: "continue", progress: next };
    }
    case INTERRUPT_CODE.STATUS: {
      switch (word0c) {
        case CAPTURE_STATUS.STARTED:
          if (progress.step === 0 || progress.step === 2) {
            return { kind: "continue", progress: { ...progress, step: 1 } };
          }
          return { kind: "unexpected", progress, reason: "a second 'capture started'" };
        case CAPTURE_STATUS.FINISHED: {
          if (progress.step !== 1 && progress.step !== 0) {
            return { kind: "unexpected", progress, reason: "a second 'capture finished'" };
          }
          // Step 0: "started" never reached the host (a lost packet); after the release,
          // "finished" still means the capture is over. Stale packets are drained before it.
          const note = progress.step === 0 ? "'capture started' was not seen" : undefined;
          const next: CaptureProgress = { ...progress, step: 2 };
          if (note) {
            return rules.doneOnFinished
              ? { kind: "done", progress: next }
              : { kind: "continue", progress: next, note };
          }
          // A PowerShot announces its descriptors before "finished": the caller checks them.
          return rules.doneOnFinished
            ? { kind: "done", progress: next }
            : { kind: "continue", progress: next };
        }
        case CAPTURE_STATUS.FAILURE:
          return {
            kind: "failed",
            progress,
            code: packet.length >= 0x14 ? readU32(packet, 0x10) : 0,
          };
        case CAPTURE_STATUS.FLASH_WAIT:
          return { kind: "continue", progress, note: "waiting for the flash" };
        default:
          return {
            kind: "continue",
            progress,
            note: `unknown capture status 0x${word0c.toString(16)}`,
          };
      }
    }
    case INTERRUPT_CODE.CARD_WRITTEN: {
      const driveBits = TRANSFER_MODE.THUMB_TO_DRIVE | TRANSFER_MODE.FULL_TO_DRIVE;
      if (!(progress.pending & driveBits)) {
        return { kind: "continue", progress, note: "card write not asked for" };
      }
      if (progress.step !== 2 && !rules.cardWriteAnyStep) {
        return { kind: "unexpected", progress, reason: "'written to card' before 'finished'" };
      }
      const next: CaptureProgress = {
        ...progress,
        step: 3,
        pending: progress.pending & ~driveBits,
      };
      return rules.doneOnCardWrite
        ? { kind: "done", progress: next }
        : { kind: "continue", progress: next };
    }
    case INTERRUPT_CODE.COMPLETE:
      if (progress.step === 2 || progress.step === 3) return { kind: "done", progress };
      return { kind: "unexpected", progress, reason: "'capture complete' out of sequence" };
    default:
      return {
        kind: "unexpected",
        progress,
        reason: `interrupt packet code 0x${code.toString(16)}`,
      };
  }
}
