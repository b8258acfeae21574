/**
 * The tables a camera answers with, in or out of remote mode: its picture
 * abilities (§4.3.13) and its custom functions (§4.3.14, §4.4.2, §6.8).
 *
 * @module
 */

import { words } from "../../protocol/bytes.ts";
import {
  type CustomFunction,
  decodeCustomFunctionReply,
  decodeCustomFunctions2,
  decodePictureAbilities,
  encodeGetCustomFunction,
  type PictureAbilities,
} from "../../protocol/capture_codec.ts";
import { type CommandSpec, REMOTE } from "../../protocol/commands.ts";
import {
  CameraStatusError,
  CameraTimeoutError,
  CanonError,
  ProtocolError,
} from "../../protocol/errors.ts";
import { log } from "../../protocol/log.ts";
import { traitsOf } from "../../protocol/traits.ts";
import type { CaptureHost, RemoteMode } from "./types.ts";

/** Picture-abilities tables already read, per camera (null: the camera has none). */
const abilitiesCache = new WeakMap<CaptureHost, PictureAbilities | null>();

/** The picture-abilities table (§4.3.13), read once; the caller holds the wire. */
export async function readPictureAbilities(
  host: CaptureHost,
): Promise<PictureAbilities | undefined> {
  const cached = abilitiesCache.get(host);
  if (cached !== undefined) return cached ?? undefined;
  // gphoto2 sends it for classes 1–3 and 6; of class 5, only the G3 answers it (its quirk).
  const spec = traitsOf(host.modelInfo).pictureAbilities;
  let table: PictureAbilities | null = null;
  if (spec) {
    try {
      const reply = await host.session.command(spec, new Uint8Array(0), { minData: 0 });
      const decoded = decodePictureAbilities(reply.data);
      if (decoded.entries.length > 0) table = decoded;
    } catch (error) {
      if (
        !(error instanceof CameraStatusError || error instanceof ProtocolError ||
          error instanceof CameraTimeoutError)
      ) throw error;
      log.info(`picture abilities unavailable (${error.message}); using the format table`);
    }
  }
  abilitiesCache.set(host, table);
  return table ?? undefined;
}

/** Custom functions read with one command (class 6); the caller holds the wire. */
async function readCustomFunctionsCommand(
  host: CaptureHost,
  spec: CommandSpec,
): Promise<CustomFunction[]> {
  const reply = await host.session.command(spec, words(0));
  return decodeCustomFunctions2(reply.data, traitsOf(host.modelInfo).customFunctionNames);
}

/**
 * The camera's picture-abilities table (what `cam.pictureAbilities()` reads).
 *
 * @param host the camera
 * @returns the table
 * @throws {CanonError} when the camera answers none
 */
export async function pictureAbilitiesOf(host: CaptureHost): Promise<PictureAbilities> {
  const table = await host.run(() => readPictureAbilities(host));
  if (!table) throw new CanonError(`the ${host.modelInfo.name} answers no picture-abilities table`);
  return table;
}

/**
 * The custom functions of an EOS body (what `cam.customFunctions()` reads):
 * old EOS bodies answer RC 0x0F one function at a time in remote mode;
 * class 6 answers one 0x1D/0x12 command.
 *
 * @param host the camera
 * @param enterRemote puts the camera in remote mode (`cam.capture.start`)
 * @returns the functions and their values
 * @throws {CanonError} for a camera without custom functions (PowerShots)
 */
export async function customFunctionsOf(
  host: CaptureHost,
  enterRemote: () => Promise<RemoteMode>,
): Promise<CustomFunction[]> {
  const traits = traitsOf(host.modelInfo);
  const where = traits.customFunctions;
  if (where === undefined) {
    throw new CanonError(`the ${host.modelInfo.name} has no custom functions`);
  }
  if (where !== "remote-control") {
    return await host.run(() => readCustomFunctionsCommand(host, where));
  }
  const remoteMode = await enterRemote();
  return await host.run(async () => {
    if (!remoteMode.active) {
      throw new CanonError("remote mode ended while reading custom functions");
    }
    const sub = REMOTE.getCustomFunction;
    const out: CustomFunction[] = [];
    for (const info of traits.customFunctionNames) {
      const reply = await host.session.command(
        host.spec("remoteControl"),
        encodeGetCustomFunction(info.index),
        { replyLength: sub.replyLength, minData: sub.replyLength - 0x50, label: sub.name },
      );
      out.push(decodeCustomFunctionReply(reply.data, traits.customFunctionNames));
    }
    return out;
  });
}
