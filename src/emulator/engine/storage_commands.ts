/**
 * The storage commands (cmd2 0x11, §4.3.4–4.3.11): disk info, directory
 * listings, downloads, deletes, attributes, directories, file times, and the
 * data of an upload (§4.3.10). Card errors are thrown as {@link CardError}
 * and answered by the engine with their status.
 *
 * @module
 */

import { CARD_ATTRIBUTE, CARD_STATUS, CardError } from "../card/card_model.ts";
import type { CardFileSystem, CardNode } from "../card/card_model.ts";
import { type ByteSource, bytesSource } from "./byte_fifo.ts";
import type { CameraContext } from "./camera_state.ts";
import { CAMERA_STATUS, type Command, type FixedAnswer } from "./commands.ts";
import { concatBytes, latin1, putU32, stringAt, u32At } from "./wire.ts";

/** The handlers of the storage commands, on one camera's card. */
export class StorageCommands {
  readonly #camera: CameraContext;

  /**
   * Handlers for one camera.
   *
   * @param camera the camera they answer for
   */
  constructor(camera: CameraContext) {
    this.#camera = camera;
  }

  /** The card, or a NO_CARD error. */
  #presentCard(): CardFileSystem {
    const card = this.#camera.card;
    if (!card?.present) throw new CardError(CARD_STATUS.NO_CARD, "no card in the camera");
    return card;
  }

  /**
   * "D:\DCIM\100CANON" → ["DCIM", "100CANON"]; undefined for another drive.
   * Backslashes or slashes, any case (FAT is case-insensitive), trailing
   * separator ignored.
   */
  #cardPath(text: string): string[] | undefined {
    const drive = this.#camera.model.drive.toUpperCase();
    if (text.slice(0, drive.length).toUpperCase() !== drive) return undefined;
    const rest = text.slice(drive.length);
    if (rest.length > 0 && rest[0] !== "\\" && rest[0] !== "/") return undefined;
    return rest.split(/[\\/]/).filter((part) => part.length > 0).map((part) => part.toUpperCase());
  }

  #pathOrInvalid(text: string): string[] {
    const path = this.#cardPath(text);
    if (!path) throw new CardError(CARD_STATUS.PATH_NOT_FOUND, `no drive in "${text}"`);
    return path;
  }

  flashDeviceIdent(): ByteSource {
    const data = new Uint8Array(4);
    data.set(latin1(this.#camera.model.drive).subarray(0, 3));
    return bytesSource(data);
  }

  diskInfo(command: Command): FixedAnswer {
    const path = this.#pathOrInvalid(stringAt(command.payload, 0).text);
    if (path.length !== 0) return { status: CAMERA_STATUS.INVALID_PARAMETERS };
    const card = this.#presentCard();
    const scale = this.#camera.model.diskInfoUnit === "KiB" ? 1024 : 1;
    const clamp = (n: number) => Math.min(0xffffffff, Math.floor(n / scale));
    const data = new Uint8Array(8);
    putU32(data, 0, clamp(card.capacity)); // 0x54
    putU32(data, 4, clamp(card.free)); // 0x58
    return { status: 0, data };
  }

  getDirectory(command: Command): ByteSource {
    const depth = command.payload[0] ?? 0;
    const requested = stringAt(command.payload, 1).text;
    const terminator = new Uint8Array(11);
    const path = this.#cardPath(requested);
    const card = this.#camera.card;
    const node = path && card?.present ? card.find(path) : undefined;
    if (!node?.isDirectory) return bytesSource(terminator);
    const parts: Uint8Array[] = [entry(CARD_ATTRIBUTE.DESCENDED, 0, node.mtime, requested)];
    listInto(parts, node, depth);
    parts.push(terminator);
    return bytesSource(concatBytes(...parts));
  }

  getFile(command: Command): ByteSource {
    const empty = bytesSource(new Uint8Array(0));
    const payload = command.payload;
    if (payload.length < 9) return empty;
    const thumbnail = u32At(payload, 0) === 1;
    // Old: flag, block size, path; new: flag, path, two NULs (§4.3.7).
    const path = this.#cardPath(stringAt(payload, this.#camera.newProtocol ? 4 : 8).text);
    const card = this.#camera.card;
    if (!path || !card?.present) return empty;
    const node = card.find(path);
    if (!node || node.isDirectory) return empty;
    if (thumbnail) {
      const blob = card.thumbnailBlob(path);
      return blob ? bytesSource(blob) : empty;
    }
    // Streamed from the card as the host reads: memory stays bounded for any file size.
    return {
      size: node.size,
      bytes: (offset, length) => card.read(path, offset, length),
    };
  }

  /** dir NUL name NUL [name NUL ...] NUL → the directory and the names. */
  #dirAndNames(payload: Uint8Array, start: number): { dir: string[]; names: string[] } {
    const first = stringAt(payload, start);
    const dir = this.#pathOrInvalid(first.text);
    const names: string[] = [];
    let at = first.next;
    while (first.terminated && at < payload.length) {
      const next = stringAt(payload, at);
      if (next.text.length === 0) break;
      names.push(next.text.toUpperCase());
      at = next.next;
    }
    if (names.length === 0) {
      throw new CardError(CARD_STATUS.PATH_NOT_FOUND, "no file name given");
    }
    return { dir, names };
  }

  #directory(card: CardFileSystem, dir: readonly string[]): void {
    if (!card.find(dir)?.isDirectory) {
      throw new CardError(CARD_STATUS.PATH_NOT_FOUND, `no directory ${dir.join("\\")}`);
    }
  }

  deleteFile(command: Command): FixedAnswer {
    const card = this.#presentCard();
    const { dir, names } = this.#dirAndNames(command.payload, 0);
    this.#directory(card, dir);
    for (const name of names) card.delete([...dir, name]);
    return { status: 0 };
  }

  /**
   * New-protocol delete (§4.3.9): "dir\\file" + NUL in a 0x30-byte field, then
   * the directory with its trailing separator and no NUL.
   */
  deleteFileNew(command: Command): FixedAnswer {
    const card = this.#presentCard();
    const payload = command.payload;
    if (payload.length <= 0x30) return { status: 0x82220040 };
    const full = stringAt(payload.subarray(0, 0x30), 0);
    const dirText = stringAt(payload.subarray(0x30), 0).text;
    const path = this.#cardPath(full.text);
    const dir = this.#cardPath(dirText);
    if (!full.terminated || !path || path.length === 0 || !dir || !/[\\/]$/.test(dirText)) {
      return { status: 0x82220040 };
    }
    if (dir.join("\\") !== path.slice(0, -1).join("\\")) return { status: 0x82220040 };
    this.#directory(card, dir);
    card.delete(path);
    return { status: 0 };
  }

  setAttributes(command: Command): FixedAnswer {
    const card = this.#presentCard();
    if (command.payload.length < 5) return { status: CAMERA_STATUS.INVALID_PARAMETERS };
    const attributes = u32At(command.payload, 0);
    const { dir, names } = this.#dirAndNames(command.payload, 4);
    this.#directory(card, dir);
    for (const name of names) card.setAttributes([...dir, name], attributes);
    return { status: 0 };
  }

  mkdir(command: Command): FixedAnswer {
    const card = this.#presentCard();
    const path = this.#pathOrInvalid(stringAt(command.payload, 0).text);
    if (path.length === 0) return { status: CAMERA_STATUS.INVALID_PARAMETERS };
    card.mkdir(path);
    return { status: 0 };
  }

  rmdir(command: Command): FixedAnswer {
    const card = this.#presentCard();
    const path = this.#pathOrInvalid(stringAt(command.payload, 0).text);
    if (path.length === 0) return { status: CAMERA_STATUS.INVALID_PARAMETERS };
    card.rmdir(path);
    return { status: 0 };
  }

  setFileTime(command: Command): FixedAnswer {
    const card = this.#presentCard();
    if (command.payload.length < 5) return { status: CAMERA_STATUS.INVALID_PARAMETERS };
    const path = this.#pathOrInvalid(stringAt(command.payload, 4).text);
    const node = card.find(path);
    if (!node || node.isDirectory) return { status: CAMERA_STATUS.FILE_NOT_FOUND };
    card.setMtime(path, u32At(command.payload, 0));
    return { status: 0 };
  }

  uploadData(payload: Uint8Array): FixedAnswer {
    const card = this.#presentCard();
    const offset = u32At(payload, 4);
    const length = u32At(payload, 8);
    const name = stringAt(payload, 0x0c);
    const data = payload.subarray(name.next, name.next + length);
    if (!name.terminated || data.length !== length || payload.length !== name.next + length) {
      return { status: CAMERA_STATUS.INVALID_PARAMETERS };
    }
    const path = this.#pathOrInvalid(name.text);
    if (path.length === 0) return { status: CAMERA_STATUS.INVALID_PARAMETERS };
    card.write(path, offset, data);
    const answer = new Uint8Array(8);
    putU32(answer, 0, offset + length); // 0x54: bytes of the file so far
    putU32(answer, 4, length); // 0x58: bytes accepted from this block
    return { status: 0, data: answer };
  }
}

/** One directory entry (§4.3.6): attribute, 0, size, time, name, NUL. */
function entry(attributes: number, size: number, mtime: number, name: string): Uint8Array {
  const text = latin1(name);
  const out = new Uint8Array(11 + text.length);
  out[0] = attributes;
  putU32(out, 2, size);
  putU32(out, 6, mtime);
  out.set(text, 10);
  return out;
}

/**
 * The contents of `dir`: files with their attributes; sub-directories as
 * plain 0x10 names when `depth` is 0, otherwise descended as ".\NAME" (0x80),
 * their contents, and a closing ".." (0x80).
 */
function listInto(parts: Uint8Array[], dir: CardNode, depth: number): void {
  for (const child of dir.children ?? []) {
    if (!child.isDirectory) {
      parts.push(entry(child.attributes, child.size, child.mtime, child.name));
    } else if (depth === 0) {
      parts.push(entry(CARD_ATTRIBUTE.DIRECTORY, 0, child.mtime, child.name));
    } else {
      parts.push(entry(CARD_ATTRIBUTE.DESCENDED, 0, child.mtime, `.\\${child.name}`));
      listInto(parts, child, depth - 1);
      parts.push(entry(CARD_ATTRIBUTE.DESCENDED, 0, 0, ".."));
    }
  }
}
