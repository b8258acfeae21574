/**
 * The camera commands (cmd2 0x12) other than remote control: identify, the
 * clock, the owner, power status, the key lock, picture abilities, custom
 * functions, the body id (§4.3.1–4.3.3, 4.3.12, 4.3.13, 4.3.16).
 *
 * @module
 */

import { CAMERA_STATUS, type Command, type FixedAnswer } from "./commands.ts";
import { type CameraContext, OWNER_MAX } from "./camera_state.ts";
import { putString, putU16, putU32, stringAt, u32At } from "./wire.ts";

/** The handlers of the camera commands, on one camera's state. */
export class CameraCommands {
  readonly #camera: CameraContext;

  /**
   * Handlers for one camera.
   *
   * @param camera the camera they answer for
   */
  constructor(camera: CameraContext) {
    this.#camera = camera;
  }

  /** @returns the identify reply: model code, firmware, name and (old protocol) owner */
  identify(): FixedAnswer {
    const { model, state } = this.#camera;
    const data = new Uint8Array(0x9c - 0x54);
    data.set(model.identifyBytes, 0x00); // 0x54
    data.set(state.firmware, 0x04); // 0x58
    putString(data, 0x08, 32, model.identifyName); // 0x5C
    // The new protocol leaves 0x7C zero: the owner comes from GetOwner (§4.3.1).
    if (!this.#camera.newProtocol) putString(data, 0x28, 32, state.owner); // 0x7C
    return { status: 0, data };
  }

  /** @returns the owner name (new protocol) */
  getOwner(): FixedAnswer {
    const data = new Uint8Array(0x74 - 0x54);
    putString(data, 0, 32, this.#camera.state.owner); // 0x54
    return { status: 0, data };
  }

  /** @returns the body id */
  bodyId(): FixedAnswer {
    const data = new Uint8Array(4);
    putU32(data, 0, this.#camera.model.bodyId ?? 0); // 0x54
    return { status: 0, data };
  }

  /** @returns every custom function's value (new protocol) */
  customFunctions(): FixedAnswer {
    // Two bytes per function from 0x58: its value, then its number (a real 20D's reply).
    const values = (this.#camera.model.customFunctions ?? []).slice(0, (0x94 - 0x58) / 2);
    const data = new Uint8Array(0x94 - 0x54);
    putU32(data, 0, 4 + 2 * values.length); // 0x54: byte count, itself included
    values.forEach((value, i) => data.set([value, i + 1], 4 + 2 * i));
    return { status: 0, data };
  }

  /** @returns the EOS lock's reply (0x1B old, 0x35 new); the new one carries 12 zero data bytes */
  eosLockKeys(): FixedAnswer {
    this.#camera.state.keysLocked = true;
    return { status: 0, data: new Uint8Array(8) };
  }

  /**
   * EOS unlock (0x1C old, 0x36 new).
   *
   * @param notLocked the status when nothing was locked
   * @returns the answer
   */
  eosUnlockKeys(notLocked: number): FixedAnswer {
    const state = this.#camera.state;
    if (!state.keysLocked) return { status: notLocked };
    state.keysLocked = false;
    return { status: 0 };
  }

  /** @returns the camera clock */
  getTime(): FixedAnswer {
    const data = new Uint8Array(0x0c);
    putU32(data, 0, this.#camera.state.cameraTime());
    return { status: 0, data };
  }

  /**
   * Set the clock.
   *
   * @param command seconds, then 8 bytes
   * @returns the answer
   */
  setTime(command: Command): FixedAnswer {
    if (command.payload.length !== 12) return { status: CAMERA_STATUS.INVALID_PARAMETERS };
    this.#camera.state.setCameraTime(u32At(command.payload, 0));
    return { status: 0 };
  }

  /**
   * Set the owner name.
   *
   * @param command the name, NUL-terminated
   * @returns the answer
   */
  setOwner(command: Command): FixedAnswer {
    const name = stringAt(command.payload, 0).text;
    if (name.length > OWNER_MAX) return { status: CAMERA_STATUS.INVALID_PARAMETERS };
    this.#camera.state.owner = name;
    return { status: 0 };
  }

  /** @returns the power supply; the 20D's withheld init packet follows */
  powerStatus(): FixedAnswer {
    const camera = this.#camera;
    if (camera.state.initPacketPending) queueMicrotask(() => camera.sendLateInitPacket());
    const data = new Uint8Array(4);
    data[0] = camera.power.low ? 0x04 : 0x06; // 0x54
    data[3] = camera.power.source === "battery" ? 0x30 : 0x10; // 0x57
    return { status: 0, data };
  }

  /** @returns the generic lock-keys answer (0x20) */
  lockKeys(): FixedAnswer {
    const { model, state } = this.#camera;
    // Class 1 needs "get picture abilities" first (§1.1); chosen: refused as a failed lock.
    if (model.lockNeedsAbilities && !state.abilitiesRead) return { status: 0x02000081 };
    state.keysLocked = true;
    return { status: 0, echo: model.lockKeysEcho };
  }

  /** @returns the picture abilities of the profile */
  pictureAbilities(): FixedAnswer {
    this.#camera.state.abilitiesRead = true;
    const abilities = this.#camera.model.pictureAbilities!;
    const data = new Uint8Array(abilities.replyLength - 0x54);
    putU16(data, 0x00, abilities.structureSize); // 0x54
    data.set(abilities.modelCode, 0x02); // 0x56
    putString(data, 0x06, 32, abilities.name, 0xff); // 0x5A
    putU32(data, 0x26, abilities.entries.length); // 0x7A
    abilities.entries.forEach((entry, i) => {
      const at = 0x2a + i * 32; // 0x7E + i * 32
      putString(data, at, 20, entry.name);
      putU32(data, at + 20, entry.height);
      putU32(data, at + 24, entry.width);
      putU32(data, at + 28, entry.compression);
    });
    return { status: 0, data };
  }
}
