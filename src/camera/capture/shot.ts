/**
 * The shot in remote mode: release the shutter, follow the camera's interrupt
 * reports, collect the picture (on the card, to the host, or both) and write
 * it safely; and how many more fit on the card (protocol reference §4.4.3).
 *
 * @module
 */

import { basename, dirname, join } from "../host_path.ts";
import { joinBytes, readU32, words } from "../../protocol/bytes.ts";
import {
  advanceCapture,
  CAPTURED_IMAGE_TYPE,
  type CaptureProgress,
  encodeRetrieveCapture,
  type ImageDescriptor,
  RELEASE_PARAM,
  startCapture,
  TRANSFER_MODE,
} from "../../protocol/capture_codec.ts";
import { CAPTURE_COMMANDS, hex, REMOTE, STATUS } from "../../protocol/commands.ts";
import { CameraStatusError, CanonError, ProtocolError } from "../../protocol/errors.ts";
import { log } from "../../protocol/log.ts";
import { traitsOf } from "../../protocol/traits.ts";
import { isDirectory, pathExists, PendingFile } from "../pending_file.ts";
import { CardPathNotFoundError, type StorageEntry } from "../storage.ts";
import {
  CaptureTimeoutError,
  CardUnavailableError,
  PhotographicFailureError,
  UnsupportedSettingError,
} from "./errors.ts";
import { newProtocol, RC_INIT_TIMEOUT, remote, type RemoteStay } from "./remote_stay.ts";
import { changeSettings } from "./settings.ts";
import type { CaptureTarget, ShootOptions, Shot } from "./types.ts";

const RELEASE_TIMEOUT = 15000;
const CAPTURE_TIMEOUT = 30000;
const INTERRUPT_POLL = 2000;
const DRAIN_WINDOW = 50;
const DRAIN_LIMIT = 64;
/** The shortest wait of one drain read (longer than any camera's polling interval). */
const DRAIN_READ = 250;
const PURGE_WINDOW = 200;
/** At most this many packets are named in a log line or an error message. */
const DETAIL_LIMIT = 16;
const MAX_IMAGE = 256 * 1024 * 1024;
const DCF_FOLDER = /^\d{3}[A-Z0-9_]{5}$/;
const IMAGE_FILE = /\.(JPG|CRW|CR2)$/;

function extensionOf(head: Uint8Array): string {
  if (head[0] === 0xff && head[1] === 0xd8) return "JPG";
  const text = String.fromCharCode(...head.subarray(0, 14));
  if (text.startsWith("II") && text.includes("HEAPCCDR")) return "CRW";
  if ((text.startsWith("II*\0") || text.startsWith("MM\0*")) && text.slice(8, 10) === "CR") {
    return "CR2";
  }
  return "JPG";
}

/** What the camera dialogue of a shot ended with. */
type Taken =
  | { kind: "refused"; command: string; status: number }
  | {
    kind: "taken";
    image?: Uint8Array;
    size: number;
    thumbnail?: Uint8Array;
    secondary?: Uint8Array;
  };

function refused(command: string, status: number): Taken {
  return { kind: "refused", command, status };
}

/** The newest DCF folder of the card and its images: enough to spot a new picture. */
interface CardSnapshot {
  folders: Set<string>;
  newest: string | undefined;
  files: Set<string>;
}

async function snapshot(stay: RemoteStay): Promise<CardSnapshot> {
  let folders: StorageEntry[];
  try {
    folders = (await stay.host.storage.list("/DCIM")).filter((e) =>
      e.isDirectory && DCF_FOLDER.test(e.name)
    );
  } catch (error) {
    if (error instanceof CardPathNotFoundError || error instanceof CameraStatusError) {
      return { folders: new Set(), newest: undefined, files: new Set() };
    }
    throw error;
  }
  const names = folders.map((f) => f.name).sort((a, b) => parseInt(a) - parseInt(b));
  const newest = names[names.length - 1];
  const files = new Set<string>();
  if (newest) {
    for (const entry of await stay.host.storage.list(`/DCIM/${newest}`)) {
      if (!entry.isDirectory) files.add(entry.path);
    }
  }
  return { folders: new Set(names), newest, files };
}

/**
 * The picture the camera just stored: listed in the newest DCF folder (or
 * in a folder that appeared), compared with the listing before the shot.
 * Two small listings instead of gphoto2's full-card ones, same answer.
 */
async function findNewPicture(stay: RemoteStay, before: CardSnapshot): Promise<string> {
  const after = await snapshot(stay);
  const candidates: string[] = [];
  for (const folder of after.folders) {
    if (before.folders.has(folder)) continue;
    const entries = await stay.host.storage.list(`/DCIM/${folder}`);
    candidates.push(...entries.filter((e) => !e.isDirectory).map((e) => e.path));
  }
  for (const path of after.files) if (!before.files.has(path)) candidates.push(path);
  const images = candidates.filter((p) => IMAGE_FILE.test(p)).sort();
  if (images.length === 0) {
    throw new CanonError("the camera took the picture, but no new file appeared on its card", {
      hint: "List the card (cam.storage.list) to look for it",
    });
  }
  return images[images.length - 1];
}

async function cardError(
  stay: RemoteStay,
  command: string,
  status: number,
): Promise<CardUnavailableError> {
  let reason: "no-card" | "card-full" = "card-full";
  try {
    await stay.host.storage.info();
  } catch (error) {
    if (error instanceof CameraStatusError && error.status === STATUS.NO_CARD) reason = "no-card";
  }
  return new CardUnavailableError(command, status, reason);
}

/**
 * Read the interrupt pipe until it has been quiet for `window` ms. A real
 * camera answers each poll with a zero-length packet while it has nothing to
 * say (the G3 every 64 ms): those are not stale packets and do not end the
 * drain early; only the quiet window does. Bounded in packets and in time.
 */
async function drainInterrupts(stay: RemoteStay, window: number): Promise<void> {
  const start = performance.now();
  const giveUp = start + window * (DRAIN_LIMIT + 1);
  let quietUntil = start + window;
  let stale = 0;
  const codes: string[] = [];
  while (stale < DRAIN_LIMIT) {
    const now = performance.now();
    if (now >= giveUp) break;
    // Each read waits long enough for the camera's next empty packet: a read that
    // times out is cancelled, and a packet completing at that moment can be lost.
    const wait = Math.max(DRAIN_READ, quietUntil - now);
    const packet = await stay.wire.readInterrupt(Math.ceil(Math.min(wait, giveUp - now)));
    if (!packet) break;
    if (packet.length === 0) {
      if (performance.now() >= quietUntil) break;
      continue;
    }
    stale++;
    if (codes.length < DETAIL_LIMIT) codes.push(hex(packet[4] ?? 0));
    quietUntil = performance.now() + window;
  }
  if (stale > 0) {
    log.info(
      `discarded ${stale} stale interrupt packet(s) (codes ${codes.join(", ")}${
        stale > codes.length ? ", ..." : ""
      })`,
    );
  }
}

async function fetchCaptured(
  stay: RemoteStay,
  type: number,
  descriptor: ImageDescriptor,
  sink: (chunk: Uint8Array) => void | Promise<void>,
  onProgress?: (done: number, total: number) => void,
): Promise<number> {
  let total = 0;
  let done = 0;
  const size = await stay.wire.longCommand(
    stay.host.spec("retrieveCapture"),
    encodeRetrieveCapture(type, descriptor.key, stay.wire.transferLength),
    async (chunk) => {
      await sink(chunk);
      done += chunk.length;
      onProgress?.(done, total);
    },
    {
      maxLength: MAX_IMAGE,
      label: type === CAPTURED_IMAGE_TYPE.THUMBNAIL
        ? "RetrieveCapturedThumbnail"
        : "RetrieveCapturedImage",
      onLength: (n) => {
        total = n;
        onProgress?.(0, n);
      },
    },
  );
  if (size === 0) {
    throw new ProtocolError(`the camera has no captured image with key ${descriptor.key}`);
  }
  if (descriptor.size !== 0 && size !== descriptor.size) {
    log.info(`captured image: ${size} bytes sent, ${descriptor.size} announced`);
  }
  return size;
}

async function fetchToMemory(
  stay: RemoteStay,
  type: number,
  descriptor: ImageDescriptor,
  onProgress?: (done: number, total: number) => void,
): Promise<Uint8Array> {
  const parts: Uint8Array[] = [];
  await fetchCaptured(stay, type, descriptor, (chunk) => {
    parts.push(chunk.slice());
  }, onProgress);
  return joinBytes(parts);
}

async function lockForCapture(stay: RemoteStay): Promise<boolean> {
  const traits = traitsOf(stay.host.modelInfo);
  if (traits.lockAtInit || traits.lockKeys.length === 0) return false;
  for (const step of traits.lockKeys) {
    try {
      await stay.wire.command(step.command, step.payload ?? new Uint8Array(0));
    } catch (error) {
      if (step.optional && error instanceof CanonError) continue;
      if (error instanceof CameraStatusError && error.status === STATUS.LOCK_FAILED) {
        throw new CameraStatusError(error.command, error.status, {
          hint: "Release the shutter button and leave review or menu mode, then shoot again",
        });
      }
      throw error;
    }
  }
  return true;
}

async function unlockAfterCapture(stay: RemoteStay): Promise<void> {
  const unlock = traitsOf(stay.host.modelInfo).unlockKeys;
  if (!unlock) return;
  await stay.wire.command(unlock.command, unlock.payload ?? new Uint8Array(0), {
    allowStatus: true,
  }).catch((error) => log.warn(`unlocking the keys after the capture failed: ${error}`));
}

/**
 * Follow the capture's interrupt reports until its sequence ends. Empty
 * packets (the camera's "nothing yet") are counted; a packet the sequence
 * does not expect (a late "written to card" of the previous shot, the G2's
 * code 0x01, a late init packet) is logged and skipped, never fatal: only a
 * failure report ends the capture early. What is kept for an error message
 * is bounded, whatever the camera sends.
 */
async function awaitCapture(
  stay: RemoteStay,
  initial: CaptureProgress,
  timeout: number,
): Promise<CaptureProgress> {
  const rules = traitsOf(stay.host.modelInfo).captureRules;
  const deadline = performance.now() + timeout;
  let progress = initial;
  const seen: string[] = [];
  let reports = 0;
  let skipped = 0;
  let empty = 0;
  const detail = (): string => {
    const parts = [
      reports === 0
        ? "no report at all"
        : `reports seen: ${seen.join(", ")}${
          reports > seen.length ? ` and ${reports - seen.length} more` : ""
        }`,
    ];
    if (skipped > 0) parts.push(`${skipped} unexpected packet(s) skipped`);
    if (empty > 0) parts.push(`${empty} empty poll(s)`);
    return parts.join("; ");
  };
  for (;;) {
    const left = deadline - performance.now();
    if (left <= 0) throw new CaptureTimeoutError(timeout, detail());
    const packet = await stay.wire.readInterrupt(Math.max(1, Math.min(INTERRUPT_POLL, left)));
    if (!packet) continue;
    const step = advanceCapture(progress, packet, rules);
    if (step.kind === "continue" && step.idle) {
      empty++;
      continue;
    }
    reports++;
    if (seen.length < DETAIL_LIMIT) seen.push(`${hex(packet[4] ?? 0)}/${hex(packet[0x0c] ?? 0)}`);
    progress = step.progress;
    switch (step.kind) {
      case "continue":
        if (step.note) log.info(`capture: ${step.note}`);
        break;
      case "done":
        if (skipped > 0) log.info(`capture: ${skipped} unexpected interrupt packet(s) skipped`);
        return progress;
      case "failed":
        throw new PhotographicFailureError(step.code);
      case "unexpected":
        skipped++;
        if (skipped <= DETAIL_LIMIT) log.warn(`capture: skipped ${step.reason}`);
        else if (skipped === DETAIL_LIMIT + 1) {
          log.warn("capture: skipping further unexpected packets");
        }
        break;
    }
  }
}

/** The work of `cam.capture.shoot()`. */
export async function shoot(stay: RemoteStay, options: ShootOptions = {}): Promise<Shot> {
  stay.assertLive();
  const to: CaptureTarget = options.to ?? (options.destination ? "host" : "card");
  if (to !== "card" && to !== "host" && to !== "both") {
    throw new UnsupportedSettingError("to", to, ["card", "host", "both"]);
  }
  const keep = to !== "host";
  const toHost = to !== "card";
  const wantThumbnail = options.thumbnail ?? true;
  const timeout = options.timeout ?? CAPTURE_TIMEOUT;
  if (!(timeout > 0)) throw new RangeError(`timeout must be positive, got ${timeout}`);
  let targetDir: string | undefined;
  let targetFile: string | undefined;
  if (options.destination !== undefined) {
    if (await isDirectory(options.destination)) targetDir = options.destination;
    else targetFile = options.destination;
    if (targetFile && !options.overwrite && await pathExists(targetFile)) {
      throw new Deno.errors.AlreadyExists(
        `${targetFile} already exists; pass { overwrite: true } to replace it`,
      );
    }
  }
  if (options.settings) await changeSettings(stay, options.settings);

  const before = keep ? await snapshot(stay) : undefined;
  let mode = 0;
  if (keep) mode |= TRANSFER_MODE.FULL_TO_DRIVE;
  if (toHost) {
    mode |= TRANSFER_MODE.FULL_TO_PC | (wantThumbnail ? TRANSFER_MODE.THUMB_TO_PC : 0);
  }
  let pending: PendingFile | undefined;
  try {
    const taken = await stay.run(async (): Promise<Taken> => {
      const block = await stay.readBlock();
      const secondaryExpected = (block[RELEASE_PARAM.IMAGE_FORMAT + 1] & 0xf0) !== 0;
      const modeReply = await remote(stay.host, "setTransferMode", [4, mode], {
        timeout: Math.max(RC_INIT_TIMEOUT, stay.wire.timeout),
        allowStatus: true,
      });
      if (modeReply.status !== 0) {
        return refused(REMOTE.setTransferMode.name, modeReply.status);
      }
      await drainInterrupts(stay, DRAIN_WINDOW);
      const locked = await lockForCapture(stay);
      try {
        const release = await remote(stay.host, "release", [0], {
          timeout: Math.max(RELEASE_TIMEOUT, stay.wire.timeout),
          allowStatus: true,
        });
        if (release.status !== 0) return refused(REMOTE.release.name, release.status);
        if (newProtocol(stay.host)) {
          await stay.wire.command(CAPTURE_COMMANDS.afterRelease2, words(0x0f), {
            allowStatus: true,
          });
        }
        const progress = await awaitCapture(stay, startCapture(mode, secondaryExpected), timeout);
        if (!toHost) return { kind: "taken", size: 0 };
        if (!progress.image) {
          throw new ProtocolError("the capture ended without announcing the image for the host");
        }
        let image: Uint8Array | undefined;
        let size: number;
        if (options.destination !== undefined) {
          const file = pending = await PendingFile.create(
            targetDir ?? dirname(targetFile!),
            "capture",
          );
          size = await fetchCaptured(
            stay,
            CAPTURED_IMAGE_TYPE.FULL,
            progress.image,
            (chunk) => file.write(chunk),
            options.onProgress,
          );
          file.close();
        } else {
          image = await fetchToMemory(
            stay,
            CAPTURED_IMAGE_TYPE.FULL,
            progress.image,
            options.onProgress,
          );
          size = image.length;
        }
        const secondary = progress.secondary
          ? await fetchToMemory(stay, CAPTURED_IMAGE_TYPE.SECONDARY, progress.secondary)
          : undefined;
        const thumbnail = wantThumbnail && progress.thumbnail
          ? await fetchToMemory(stay, CAPTURED_IMAGE_TYPE.THUMBNAIL, progress.thumbnail)
          : undefined;
        return { kind: "taken", image, size, secondary, thumbnail };
      } catch (error) {
        // Whatever the camera still says about this shot is not for the next one.
        await drainInterrupts(stay, PURGE_WINDOW).catch(() => undefined);
        throw error;
      } finally {
        if (locked) await unlockAfterCapture(stay);
      }
    });
    if (taken.kind === "refused") {
      if (taken.status === STATUS.CARD_FULL) {
        throw await cardError(stay, taken.command, taken.status);
      }
      throw new CameraStatusError(taken.command, taken.status);
    }
    const path = before ? await findNewPicture(stay, before) : undefined;
    const shot: Shot = {
      path,
      image: taken.image,
      file: undefined,
      size: taken.size,
      thumbnail: taken.thumbnail,
      secondary: taken.secondary,
    };
    if (pending) {
      const file = pending;
      const name = path
        ? basename(path)
        : await freeName(stay, targetDir ?? dirname(targetFile!), extensionOf(file.head));
      const target = targetFile ?? join(targetDir!, name);
      await file.commit(target, options.overwrite ?? false);
      pending = undefined;
      shot.file = target;
    } else if (path && options.destination !== undefined) {
      const result = await stay.host.storage.download(path, options.destination, {
        overwrite: options.overwrite,
        onProgress: options.onProgress,
      });
      shot.file = result.file;
      shot.size = result.size;
    }
    if (path && wantThumbnail && !shot.thumbnail) {
      shot.thumbnail = await stay.host.storage.thumbnail(path);
    }
    return shot;
  } finally {
    await pending?.discard();
  }
}

async function freeName(stay: RemoteStay, directory: string, extension: string): Promise<string> {
  for (let n = stay.hostShots + 1; n <= 9999; n++) {
    const name = `CAP_${String(n).padStart(4, "0")}.${extension}`;
    if (!(await pathExists(join(directory, name)))) {
      stay.hostShots = n;
      return name;
    }
  }
  throw new Deno.errors.AlreadyExists(`${directory} holds CAP_0001 … CAP_9999 already`);
}

/** The work of `cam.capture.remainingShots()`: the camera's estimate (RC 0x0D). */
export async function remainingShots(stay: RemoteStay): Promise<number> {
  return await stay.run(async () => {
    const reply = await remote(stay.host, "availableShots", [0], { minData: 0x10 });
    return readU32(reply.data, 8);
  });
}
