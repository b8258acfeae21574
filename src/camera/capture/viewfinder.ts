/**
 * The viewfinder in remote mode: start it, fetch frames, stop it when the
 * last user is done (protocol reference §4.4.4).
 *
 * @module
 */

import { encodePreviewRequest } from "../../protocol/capture_codec.ts";
import { COMMANDS, hex } from "../../protocol/commands.ts";
import { ProtocolError } from "../../protocol/errors.ts";
import { log } from "../../protocol/log.ts";
import { remote, type RemoteStay } from "./remote_stay.ts";
import type { PreviewOptions } from "./types.ts";

const MAX_PREVIEW = 4 * 1024 * 1024;

async function viewfinderOn(stay: RemoteStay): Promise<void> {
  if (stay.viewfinder++ > 0) return;
  try {
    await remote(stay.host, "viewfinderStart");
    // Canon RemoteCapture switches the camera's own display off before the stream (§4.4.4).
    const output = await remote(stay.host, "selectOutput", Uint8Array.of(1, 0, 0, 0, 3), {
      allowStatus: true,
    });
    if (output.status !== 0) log.info(`select output: status ${hex(output.status)} (ignored)`);
  } catch (error) {
    stay.viewfinder--;
    throw error;
  }
}

async function viewfinderOff(stay: RemoteStay): Promise<void> {
  if (stay.viewfinder === 0 || --stay.viewfinder > 0) return;
  await remote(stay.host, "viewfinderStop", [], { allowStatus: true });
}

async function fetchFrame(stay: RemoteStay): Promise<Uint8Array> {
  const frame = await stay.wire.longReplyBytes(COMMANDS.retrievePreview, encodePreviewRequest(), {
    maxLength: MAX_PREVIEW,
    label: "RetrievePreview",
  });
  const size = frame.length;
  if (size === 0 || frame[0] !== 0xff || frame[1] !== 0xd8) {
    throw new ProtocolError(
      size === 0
        ? "the camera sent an empty viewfinder frame"
        : "the viewfinder frame is not a JPEG",
    );
  }
  return frame;
}

/** The work of `cam.capture.preview()`. */
export async function preview(stay: RemoteStay): Promise<Uint8Array> {
  return await stay.run(async () => {
    await viewfinderOn(stay);
    try {
      return await fetchFrame(stay);
    } finally {
      await viewfinderOff(stay);
    }
  });
}

/** The work of `cam.capture.previews()`. */
export async function* previews(
  stay: RemoteStay,
  options: PreviewOptions = {},
): AsyncGenerator<Uint8Array> {
  await stay.run(() => viewfinderOn(stay));
  try {
    for (let n = 0; options.frames === undefined || n < options.frames; n++) {
      options.signal?.throwIfAborted();
      yield await stay.run(() => fetchFrame(stay));
    }
  } finally {
    if (!stay.ended) {
      await stay.run(() => viewfinderOff(stay)).catch((error) =>
        log.warn(`stopping the viewfinder failed: ${error}`)
      );
    }
  }
}
