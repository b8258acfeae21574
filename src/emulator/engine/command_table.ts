/**
 * The command table of §4.1: which (cmd1, cmd2) pairs a camera answers, for
 * each protocol generation and class, and which handler answers each.
 *
 * @module
 */

import { CameraCommands } from "./camera_commands.ts";
import type { CameraContext } from "./camera_state.ts";
import { type Command, CommandTable, REMOTE_CONTROL } from "./commands.ts";
import { RemoteControl } from "./remote_commands.ts";
import { StorageCommands } from "./storage_commands.ts";

/**
 * The commands one camera answers.
 *
 * @param context the camera the handlers answer for
 * @returns the table
 */
export function commandTable(context: CameraContext): CommandTable {
  const { model, newProtocol } = context;
  const camera = new CameraCommands(context);
  const remote = new RemoteControl(context);
  const storage = new StorageCommands(context);
  const table = new CommandTable();
  const fixed = table.fixed.bind(table);
  const long = table.long.bind(table);

  // camera control (cmd2 0x12), both generations
  fixed(0x01, 0x12, 0x9c, () => camera.identify());
  fixed(0x03, 0x12, 0x60, () => camera.getTime());
  fixed(0x04, 0x12, 0x54, (c) => camera.setTime(c));
  const rc = (c: Command) => remote.run(c);
  if (newProtocol) {
    // The overloaded codes of §4.1: 0x05 get owner, 0x13 power, 0x1D custom functions.
    fixed(0x05, 0x12, 0x74, () => camera.getOwner());
    fixed(0x06, 0x12, 0x54, (c) => camera.setOwner(c));
    fixed(0x13, 0x12, 0x58, () => camera.powerStatus());
    fixed(0x25, 0x12, (c) => remote.length(c), rc);
    fixed(0x1d, 0x12, 0x94, () => camera.customFunctions());
    fixed(0x23, 0x12, 0x58, () => camera.bodyId());
    // Lock keys 2 answers 12 zero data bytes; unlock when not locked 0x00000086 (§4.3.16).
    fixed(0x35, 0x12, 0x5c, () => camera.eosLockKeys());
    fixed(0x36, 0x12, 0x54, () => camera.eosUnlockKeys(0x00000086));
    // "20D unknown 2", sent after a release (§4.5): answered, meaning unknown.
    fixed(0x22, 0x12, 0x54, () => ({ status: 0 }));
  } else {
    fixed(0x05, 0x12, 0x54, (c) => camera.setOwner(c));
    fixed(0x0a, 0x12, 0x58, () => camera.powerStatus());
    fixed(REMOTE_CONTROL, 0x12, (c) => remote.length(c), rc);
    if (model.cameraClass === 4) {
      fixed(0x1b, 0x12, 0x54, () => camera.eosLockKeys());
      fixed(0x1c, 0x12, 0x54, () => camera.eosUnlockKeys(0x02000082));
      fixed(0x1d, 0x12, 0x58, () => camera.bodyId());
    }
  }
  if (model.genericLockKeys) fixed(0x20, 0x12, 0x54, () => camera.lockKeys());
  // §4.3.17 and §4.4.4: pictures kept for the host, viewfinder frames.
  long(model.cameraClass === 6 ? 0x26 : 0x17, 0x12, (c) => remote.retrieveCapture(c));
  long(0x18, 0x12, () => remote.viewfinderFrame());
  const abilities = model.pictureAbilities;
  if (abilities) {
    fixed(
      newProtocol ? 0x24 : 0x1f,
      0x12,
      abilities.replyLength,
      () => camera.pictureAbilities(),
    );
  }

  // storage (cmd2 0x11)
  long(0x01, 0x11, (c) => storage.getFile(c));
  fixed(0x05, 0x11, 0x54, (c) => storage.mkdir(c));
  fixed(0x06, 0x11, 0x54, (c) => storage.rmdir(c));
  long(0x0b, 0x11, (c) => storage.getDirectory(c));
  fixed(0x0f, 0x11, 0x54, (c) => storage.setFileTime(c));
  if (newProtocol) {
    fixed(0x0d, 0x11, 0x5c, (c) => storage.diskInfo(c));
    long(0x0e, 0x11, () => storage.flashDeviceIdent());
    // The 350D refuses delete and set attributes with 0x00000086 (gphoto2 issue #92,
    // pibooth issue #613); the 20D answers set attributes with 0 and changes nothing
    // (Protocol.xml). With the quirk off, both do what they are asked.
    const limited = () => context.quirks.fileCommandLimits;
    const refuses = model.refusesFileCommands === true;
    fixed(
      0x0a,
      0x11,
      0x54,
      (c) => limited() && refuses ? { status: 0x00000086 } : storage.deleteFileNew(c),
    );
    fixed(
      0x07,
      0x11,
      0x54,
      (c) => limited() ? { status: refuses ? 0x00000086 : 0 } : storage.setAttributes(c),
    );
  } else {
    fixed(0x09, 0x11, 0x5c, (c) => storage.diskInfo(c));
    long(0x0a, 0x11, () => storage.flashDeviceIdent());
    fixed(0x0d, 0x11, 0x54, (c) => storage.deleteFile(c));
    fixed(0x0e, 0x11, 0x54, (c) => storage.setAttributes(c));
  }
  return table;
}
