/**
 * Pure encoders and decoders of remote capture (protocol reference §4.3.13,
 * §4.3.14, §4.3.17, §4.4, §5.4, §6.3–6.8 and errata E2, E3, E10): the
 * remote-control payloads, the release-parameter block and its value tables
 * (each written once, with its meaning), the zoom reply, the picture-abilities
 * table, custom functions, the captured-image and viewfinder requests, and the
 * interrupt-packet state machine of a shutter release. No I/O. Remote
 * capture is described in the package's `docs/protocol.md` (section 6).
 *
 * Sources of the value tables: §6.4–6.6 (gphoto2 `canon.h`, checked against
 * libgphoto2 2.5.30 by the errata), the G3 RemoteCapture traces (§6.3, §6.5:
 * SuperFine, Medium 2 and the macro byte) and the 20D dumps (§6.8).
 *
 * This file is their index; each part is a file of `capture/`: the
 * remote-control framing and zoom, the value tables, the release-parameter
 * block, picture abilities, custom functions, the capture sequence.
 *
 * @module
 */

export * from "./capture/remote_control.ts";
export * from "./capture/value_tables.ts";
export * from "./capture/release_params.ts";
export * from "./capture/picture_abilities.ts";
export * from "./capture/custom_functions.ts";
export * from "./capture/capture_sequence.ts";
