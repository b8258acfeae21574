/**
 * Remote control (§4.4, errata E3): the sub-commands of 0x13/0x12 (class 6:
 * 0x25/0x12), the release and its interrupt packets, and the long replies
 * that fetch what the camera shot (0x17/0x12, class 6: 0x26) and viewfinder
 * frames (0x18/0x12).
 *
 * @module
 */

import { CardError } from "../card/card_model.ts";
import { type ByteSource, bytesSource } from "./byte_fifo.ts";
import { type CameraContext, isCapturingCard } from "./camera_state.ts";
import { CAMERA_STATUS, type Command, type FixedAnswer, TRANSFER_MODE } from "./commands.ts";
import {
  descriptorPacket,
  eventPacket,
  exposureOf,
  failurePacket,
  statusPacket,
  type TakenPicture,
  takePicture,
  viewfinderFrame,
} from "./remote_capture.ts";
import { putU16, putU32, u32At } from "./wire.ts";

const RELEASE_GAP_MS = 50;

interface RemoteHandler {
  length(params: Uint8Array): number;
  /** Returns the status and the data from 0x58 (after the sub-command echo). */
  run(params: Uint8Array): FixedAnswer;
  needsRemoteMode: boolean;
}

/** The remote-control command of one camera. */
export class RemoteControl {
  readonly #camera: CameraContext;
  readonly #table: Map<number, RemoteHandler>;

  /**
   * Remote control for one camera.
   *
   * @param camera the camera it answers for
   */
  constructor(camera: CameraContext) {
    this.#camera = camera;
    this.#table = this.#remoteTable();
  }

  #remoteTable(): Map<number, RemoteHandler> {
    const { model, state } = this.#camera;
    const table = new Map<number, RemoteHandler>();
    const add = (
      code: number,
      length: number | ((params: Uint8Array) => number),
      run: (params: Uint8Array) => FixedAnswer,
      needsRemoteMode = true,
    ) => {
      const lengthOf = typeof length === "number" ? () => length : length;
      table.set(code, { length: lengthOf, run, needsRemoteMode });
    };
    add(0x00, 0x5c, () => this.#remoteInit(), false);
    add(0x01, 0x5c, () => {
      state.leaveRemoteMode();
      return { status: 0 };
    }, false);
    add(0x02, 0x5c, () => {
      state.viewfinder = true;
      return { status: 0 };
    });
    add(0x03, 0x5c, () => {
      state.viewfinder = false;
      return { status: 0 };
    });
    add(0x04, 0x5c, () => this.#release());
    add(0x07, 0x5c, (p) => this.#setReleaseParams(p));
    add(0x09, 0x5c, (p) => this.#setTransferMode(p));
    add(0x0a, 0x8c, () => {
      const data = new Uint8Array(0x8c - 0x58);
      putU32(data, 0, 0x30); // 0x58: byte count
      data.set(state.releaseParams, 4); // 0x5C
      return { status: 0, data };
    });
    add(0x0b, 0x60, () => {
      const data = new Uint8Array(8);
      putU32(data, 0, 4); // 0x58
      data[4] = state.zoom; // 0x5C
      data[6] = model.zoomMax; // 0x5E
      return { status: 0, data };
    });
    add(0x0c, 0x5c, (p) => {
      const position = u32At(p, 4);
      if (p.length < 8 || position > model.zoomMax) {
        return { status: CAMERA_STATUS.INVALID_PARAMETERS };
      }
      state.zoom = position;
      return { status: 0 };
    });
    add(0x0d, 0x60, () => {
      const data = new Uint8Array(8);
      putU32(data, 0, 4);
      putU32(data, 4, this.availableShots());
      return { status: 0, data };
    });
    add(0x10, 0x60, () => {
      const data = new Uint8Array(8);
      putU32(data, 0, 4);
      putU32(data, 4, state.extendedParams.length);
      return { status: 0, data };
    });
    add(0x12, (p) => 0x5c + extendedSizeAsked(p), (p) => {
      const size = extendedSizeAsked(p);
      if (size !== state.extendedParams.length) {
        return { status: CAMERA_STATUS.INVALID_PARAMETERS };
      }
      const data = new Uint8Array(4 + size);
      putU32(data, 0, size); // 0x58
      data.set(state.extendedParams, 4); // 0x5C
      return { status: 0, data };
    });
    add(0x13, 0x5c, (p) => {
      const size = u32At(p, 0);
      const block = p.subarray(4, 4 + size);
      if (size !== state.extendedParams.length || block.length !== size) {
        return { status: CAMERA_STATUS.INVALID_PARAMETERS };
      }
      state.extendedParams.set(block);
      return { status: 0 };
    });
    // Old EOS custom functions (§4.4.2): one per request, 0 (the default) unless the profile says.
    if (model.cameraClass === 4) add(0x0f, 0x66, (p) => this.#customFunction(p));
    add(0x14, 0x5c, (p) => {
      const output = p[4];
      if (u32At(p, 0) !== 1 || !(output >= 1 && output <= 3)) {
        return { status: CAMERA_STATUS.INVALID_PARAMETERS };
      }
      state.output = output;
      return { status: 0 };
    });
    return table;
  }

  /** RC 0x0F: word 0x0A, half index, 8 bytes → word 0x0A, index twice, the value at 0x60. */
  #customFunction(params: Uint8Array): FixedAnswer {
    const index = params.length >= 6 ? params[4] | (params[5] << 8) : 0;
    if (u32At(params, 0) !== 0x0a || index < 1 || index > 0x0f) {
      return { status: CAMERA_STATUS.INVALID_PARAMETERS };
    }
    const data = new Uint8Array(0x66 - 0x58);
    putU32(data, 0, 0x0a); // 0x58
    putU16(data, 4, index); // 0x5C
    putU16(data, 6, index); // 0x5E
    putU16(data, 8, this.#camera.model.customFunctions?.[index - 1] ?? 0); // 0x60
    return { status: 0, data };
  }

  /**
   * The reply length of a remote-control command (it depends on the sub-command).
   *
   * @param command the parsed block
   * @returns the total reply length
   */
  length(command: Command): number {
    if (command.payload.length < 4) return 0x5c;
    const sub = this.#table.get(u32At(command.payload, 0));
    return sub ? sub.length(command.payload.subarray(4)) : 0x5c;
  }

  /**
   * Answer a remote-control command.
   *
   * @param command the parsed block
   * @returns the answer, the sub-command echoed at 0x54
   */
  run(command: Command): FixedAnswer {
    if (this.#camera.newProtocol) {
      // New protocol: the payload ends with one extra zero byte, so the block is odd (§4.4.1).
      const p = command.payload;
      if (p.length % 2 === 0 || p[p.length - 1] !== 0) {
        return { status: CAMERA_STATUS.INVALID_PARAMETERS };
      }
      command = { ...command, payload: p.subarray(0, p.length - 1) };
    }
    if (command.payload.length < 4) return { status: CAMERA_STATUS.INVALID_PARAMETERS };
    const code = u32At(command.payload, 0);
    const sub = this.#table.get(code);
    const echo = (answer: FixedAnswer): FixedAnswer => {
      const data = new Uint8Array(4 + (answer.data?.length ?? 4));
      putU32(data, 0, code); // 0x54
      if (answer.data) data.set(answer.data, 4); // 0x58
      return { status: answer.status, data };
    };
    if (!sub || (sub.needsRemoteMode && !this.#camera.state.remoteMode)) {
      return echo({ status: CAMERA_STATUS.INVALID_PARAMETERS });
    }
    return echo(sub.run(command.payload.subarray(4)));
  }

  #remoteInit(): FixedAnswer {
    const state = this.#camera.state;
    if (state.remoteMode) return { status: CAMERA_STATUS.CAPTURE_MODE_FAILED };
    state.remoteMode = true;
    state.captureKey = 0;
    return { status: 0 };
  }

  #setTransferMode(params: Uint8Array): FixedAnswer {
    if (params.length < 8 || u32At(params, 0) !== 4) {
      return { status: CAMERA_STATUS.INVALID_PARAMETERS };
    }
    const mode = u32At(params, 4) & 0x0f;
    if (
      mode & (TRANSFER_MODE.THUMB_TO_DRIVE | TRANSFER_MODE.FULL_TO_DRIVE) && !this.#roomForShot()
    ) {
      return { status: CAMERA_STATUS.CARD_FULL };
    }
    this.#camera.state.transferMode = mode;
    return { status: 0 };
  }

  #setReleaseParams(params: Uint8Array): FixedAnswer {
    const current = this.#camera.state.releaseParams;
    const count = u32At(params, 0);
    const block = params.subarray(4);
    // gphoto2 announces 0x30 bytes and sends 0x2F (§4.4.5); accept what arrives, up to 0x30.
    if (count === 0 || count > 0x30 || block.length === 0) {
      return { status: CAMERA_STATUS.INVALID_PARAMETERS };
    }
    const next = current.slice();
    next.set(block.subarray(0, Math.min(count, block.length, 0x30)));
    // A value the body does not take leaves the old byte: the host sees it on reading back.
    const limits = this.#camera.model.releaseLimits;
    if (limits) {
      const keep = (at: number, ok: boolean) => {
        if (!ok) next[at] = current[at];
      };
      keep(0x1a, limits.iso.includes(next[0x1a]));
      keep(0x1c, next[0x1c] >= limits.aperture[0] && next[0x1c] <= limits.aperture[1]);
      keep(0x1e, next[0x1e] >= limits.shutter[0] && next[0x1e] <= limits.shutter[1]);
    }
    current.set(next);
    return { status: 0 };
  }

  #imageSize(): { width: number; height: number; bytes: number } {
    const { model, state } = this.#camera;
    const quality = state.releaseParams[0x01];
    const format = state.releaseParams[0x02];
    const sizeCode = state.releaseParams[0x03];
    const [height, width] = format === 0x02
      ? model.imageSizes[0]
      : model.imageSizes[sizeCode] ?? model.imageSizes[0];
    const perPixel = model.bytesPerPixel[format === 0x02 ? 0x04 : quality] ?? 0.36;
    return { width, height, bytes: Math.ceil(width * height * perPixel) };
  }

  /** @returns how many pictures of the current size the card has room for */
  availableShots(): number {
    const card = this.#camera.card;
    if (!card?.present) return 0;
    return Math.floor(card.free / this.#imageSize().bytes);
  }

  #roomForShot(): boolean {
    return this.availableShots() > 0;
  }

  #release(): FixedAnswer {
    const camera = this.#camera;
    const { model, state } = camera;
    const toDrive = state.transferMode &
      (TRANSFER_MODE.THUMB_TO_DRIVE | TRANSFER_MODE.FULL_TO_DRIVE);
    if (toDrive && !this.#roomForShot()) return { status: CAMERA_STATUS.CARD_FULL };
    const plug = state.plugGeneration;
    const mode = state.transferMode;
    const block = state.releaseParams.slice();
    const fault = camera.faults.takeCapture();
    if (fault?.kind === "capture-silent") return { status: 0 };
    const live = () => plug === state.plugGeneration && camera.connected;
    const eos = model.cameraClass === 4;
    const queue = (packet: Uint8Array) => camera.queueInterrupt(packet);
    // Each event is its own interrupt transfer (errata §2.1), in the order of §4.4.3:
    // started, the descriptors asked for, finished; EOS bodies of class 4 then "written to
    // card" (when storing) and "complete" (not the 300D). The 20D (class 6) sends only its
    // descriptors (byte 0x10 = 2) and "written to card": no started/finished.
    camera.schedule(camera.captureLatencyMs, () => {
      if (!live()) return;
      if (!camera.newProtocol || fault) queue(statusPacket(0x1c));
      camera.schedule(RELEASE_GAP_MS, () => {
        if (!live()) return;
        if (fault?.kind === "capture-failure") {
          queue(failurePacket(fault.code));
          return;
        }
        const picture = this.#takePicture(block, toDrive !== 0);
        const version = camera.newProtocol ? 2 : 1;
        if (picture && mode & (TRANSFER_MODE.THUMB_TO_PC | TRANSFER_MODE.FULL_TO_PC)) {
          const key = ++state.captureKey;
          state.captures.set(key, picture);
          if (mode & TRANSFER_MODE.THUMB_TO_PC) {
            queue(descriptorPacket(0x08, key, picture.thumbnail.length, version));
          }
          if (mode & TRANSFER_MODE.FULL_TO_PC) {
            queue(descriptorPacket(0x0c, key, picture.full.length, version));
          }
        }
        if (!camera.newProtocol) queue(statusPacket(0x1d));
        if ((eos || camera.newProtocol) && toDrive) queue(eventPacket(0x0e));
        if (eos && model.productId !== 0x3084) queue(eventPacket(0x0f));
        if (camera.quirks.unsolicitedPackets) {
          for (const late of model.unsolicitedAfterCapture ?? []) {
            camera.schedule(late.afterMs, () => {
              if (live()) queue(Uint8Array.from(late.packet));
            });
          }
        }
      });
    });
    return { status: 0 };
  }

  /**
   * The picture just taken, with the settings of `block` in its EXIF and the
   * number the camera gives its next file drawn in it; written to the card as
   * that file when `toCard`.
   */
  #takePicture(block: Uint8Array, toCard: boolean): TakenPicture | undefined {
    const { model, state } = this.#camera;
    const card = this.#camera.card;
    const capturing = card?.present && isCapturingCard(card) ? card : undefined;
    let path: string | undefined;
    try {
      path = capturing?.nextImagePath();
    } catch (error) {
      if (!(error instanceof CardError)) throw error;
    }
    const number = Number.parseInt(/(\d{4})\.JPG$/.exec(path ?? "")?.[1] ?? "0", 10) ||
      state.captureKey + 1;
    const { width, height } = this.#imageSize();
    const date = state.cameraTime();
    const picture = takePicture({
      width,
      height,
      number,
      date,
      model: model.identifyName,
      exposure: exposureOf(block, /EOS|Rebel/.test(model.identifyName)),
    });
    if (toCard && capturing && path) {
      try {
        capturing.addFile(path, picture.full, date);
      } catch (error) {
        // A full or protected card: the shot is lost, as on a camera whose card filled up.
        if (!(error instanceof CardError)) throw error;
      }
    }
    return picture;
  }

  /**
   * 0x17/0x12 (class 6: 0x26): word 0, block size, type (1 thumbnail, 2
   * full, 3 secondary), key.
   *
   * @param command the parsed block
   * @returns the picture kept under the key, or nothing
   */
  retrieveCapture(command: Command): ByteSource {
    const state = this.#camera.state;
    const empty = bytesSource(new Uint8Array(0));
    if (!state.remoteMode || command.payload.length < 16) return empty;
    const type = u32At(command.payload, 8);
    const picture = state.captures.get(u32At(command.payload, 12));
    if (!picture) return empty;
    if (type === 1) return bytesSource(picture.thumbnail);
    if (type === 2) return bytesSource(picture.full);
    return empty; // no secondary image: the virtual camera records JPEG only
  }

  /** @returns 0x18/0x12: one 320×240 frame while the viewfinder runs (RC 0x02 … 0x03), else nothing */
  viewfinderFrame(): ByteSource {
    const state = this.#camera.state;
    if (!state.remoteMode || !state.viewfinder) return bytesSource(new Uint8Array(0));
    return bytesSource(viewfinderFrame(++state.frames, state.zoom));
  }
}

function extendedSizeAsked(params: Uint8Array): number {
  const size = u32At(params, 4);
  return size <= 0x400 ? size : 0;
}
