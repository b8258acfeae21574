// Shared by the per-model test files: what each emulated model must show a
// user, stated from the protocol reference (§1.2, §2.2 step 8, §4.3), not
// read from the emulator's profiles.
import type { VirtualCamera } from "../src/emulator/mod.ts";

/** Per model, what a user of the library sees. */
export const EXPECTED: Record<string, {
  identify: string;
  cameraClass: number;
  drive: string;
  raw?: string;
  /** The commands of the init after identify, as cmd1/cmd2 pairs. */
  init: [number, number][];
  lockedAtInit: boolean;
  bodyId?: string;
  powerCommand: number;
}> = {
  "PowerShot G1": {
    identify: "Canon PowerShot G1",
    cameraClass: 0,
    drive: "C:",
    raw: "/DCIM/100CANON/CRW_0006.CRW",
    init: [[0x0a, 0x12]],
    lockedAtInit: false,
    powerCommand: 0x0a,
  },
  "PowerShot S200": {
    identify: "Canon PowerShot S200",
    cameraClass: 1,
    drive: "D:",
    init: [[0x1f, 0x12], [0x20, 0x12], [0x0a, 0x12]],
    lockedAtInit: true,
    powerCommand: 0x0a,
  },
  "PowerShot S45": {
    identify: "Canon PowerShot S45",
    cameraClass: 5,
    drive: "D:",
    raw: "/DCIM/100CANON/CRW_0006.CRW",
    init: [[0x20, 0x12], [0x0a, 0x12]],
    lockedAtInit: true,
    powerCommand: 0x0a,
  },
  "PowerShot G3": {
    identify: "Canon PowerShot G3",
    cameraClass: 5,
    drive: "D:",
    raw: "/DCIM/100CANON/CRW_0006.CRW",
    init: [[0x20, 0x12], [0x0a, 0x12]],
    lockedAtInit: true,
    powerCommand: 0x0a,
  },
  "EOS 10D": {
    identify: "Canon EOS 10D",
    cameraClass: 4,
    drive: "D:",
    raw: "/DCIM/100CANON/CRW_0006.CRW",
    init: [[0x0a, 0x12]],
    lockedAtInit: false,
    bodyId: "1120304567",
    powerCommand: 0x0a,
  },
  "EOS 300D": {
    identify: "Canon EOS 300D DIGITAL",
    cameraClass: 4,
    drive: "D:",
    raw: "/DCIM/100CANON/CRW_0006.CRW",
    init: [[0x0a, 0x12]],
    lockedAtInit: false,
    bodyId: "560107143",
    powerCommand: 0x0a,
  },
  "EOS 20D": {
    identify: "Canon EOS 20D",
    cameraClass: 6,
    drive: "A:",
    raw: "/DCIM/100CANON/IMG_0006.CR2",
    // Identify is followed by get owner; then body id, abilities, power (§2.2 step 8).
    init: [[0x05, 0x12], [0x23, 0x12], [0x24, 0x12], [0x13, 0x12]],
    lockedAtInit: false,
    bodyId: "0520308238",
    powerCommand: 0x13,
  },
  "EOS 350D": {
    identify: "Canon EOS 350D DIGITAL",
    cameraClass: 6,
    drive: "A:",
    raw: "/DCIM/100CANON/IMG_0006.CR2",
    init: [[0x05, 0x12], [0x23, 0x12], [0x24, 0x12], [0x13, 0x12]],
    lockedAtInit: false,
    bodyId: "1370512345",
    powerCommand: 0x13,
  },
};

/** The bytes of a file on the virtual camera's card. */
export function cardBytes(vc: VirtualCamera, path: string): Uint8Array {
  const segments = path.split("/").filter(Boolean);
  return vc.card!.read(segments, 0, vc.card!.find(segments)!.size);
}
