/**
 * udev rules that let a desktop user open the supported cameras without root.
 *
 * @module
 */

import { CANON_VENDOR_ID, MODELS } from "../protocol/models.ts";

function hex4(n: number): string {
  return n.toString(16).padStart(4, "0");
}

/**
 * udev rules for every supported model: the logged-in user (`uaccess`) and
 * the `plugdev` group may open them.
 *
 * @returns the rules file's text
 * @example
 * ```ts
 * import { udevRules } from "./udev.ts";
 * Deno.writeTextFileSync("/tmp/60-canon-remote.rules", udevRules());
 * ```
 */
export function udevRules(): string {
  const lines = [
    "# canon-remote: Canon cameras in normal (non-PTP) USB mode.",
    "# Install: sudo cp 60-canon-remote.rules /etc/udev/rules.d/ &&",
    "#          sudo udevadm control --reload && sudo udevadm trigger",
    'SUBSYSTEM!="usb", GOTO="canon_remote_end"',
    'ENV{DEVTYPE}!="usb_device", GOTO="canon_remote_end"',
  ];
  for (const model of MODELS) {
    lines.push(
      `# ${[model.name, ...model.aliases].join(" / ")}`,
      `ATTR{idVendor}=="${hex4(CANON_VENDOR_ID)}", ATTR{idProduct}=="${
        hex4(model.productId)
      }", MODE="0660", GROUP="plugdev", TAG+="uaccess"`,
    );
  }
  lines.push('LABEL="canon_remote_end"', "");
  return lines.join("\n");
}
