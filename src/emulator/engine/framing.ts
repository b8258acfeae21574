/**
 * Command blocks and reply framing (§3): parsing the 0x50-byte header, the
 * fixed reply's header and status, the long reply's 0x40-byte header and the
 * transfers its data comes in — with the faults that lie in a header.
 *
 * @module
 */

import { type ByteSource, bytesSource, segmentSource } from "./byte_fifo.ts";
import { type Command, FIXED, type FixedAnswer, LONG, UPLOAD_BLOCK } from "./commands.ts";
import type { EmulatedModel } from "./emulated_models.ts";
import type { Fault, FaultInjector } from "./faults.ts";
import { putU16, putU32, u32At } from "./wire.ts";

/**
 * Parse a command block.
 *
 * @param block the bytes of the control transfer
 * @param newProtocol class 6: byte 0x46 must be 0x10 (fixed) or 0x20 (long) (§3.1)
 * @returns the command, or undefined for a block shorter than its header
 */
export function parseCommand(block: Uint8Array, newProtocol: boolean): Command | undefined {
  if (block.length < 0x50) return undefined;
  const length = u32At(block, 0);
  const cmd3 = u32At(block, 4);
  const byte46 = block[0x46];
  const byte46Ok = !newProtocol ||
    (cmd3 === FIXED ? byte46 === 0x10 : cmd3 === LONG ? byte46 === 0x20 : true);
  const wellFormed = length === block.length - 0x40 && u32At(block, 0x48) === length &&
    block[0x40] === 0x02 && byte46Ok;
  return {
    cmd1: block[0x44],
    cmd2: block[0x47],
    cmd3,
    serial: u32At(block, 0x4c),
    payload: block.slice(0x50),
    wellFormed,
  };
}

/**
 * A fixed reply: header, status at 0x50, data from 0x54.
 *
 * @param model the model profile (word 0, byte 0x46)
 * @param command the command answered
 * @param length the reply's total length
 * @param answer status and data
 * @param fault a garble or oversize fault, if any
 * @returns the reply's bytes
 */
export function frameFixed(
  model: EmulatedModel,
  command: Command,
  length: number,
  answer: FixedAnswer,
  fault?: Fault,
): Uint8Array {
  let total = length;
  if (fault?.kind === "oversize") total += Math.max(0, fault.extra);
  const reply = new Uint8Array(total);
  const claimed = fault?.kind === "garble" ? total - 0x40 + 0x100 : total - 0x40;
  const lies = fault?.kind === "garble" || fault?.kind === "oversize";
  putU32(reply, 0, model.fixedReplyWord0 === "length" || lies ? claimed : 0);
  const cmd3Echo = command.cmd3 === UPLOAD_BLOCK ? 0x303 : command.cmd3 + 0x100;
  putU16(reply, 4, fault?.kind === "garble" ? 0xeeee : cmd3Echo);
  putU32(reply, 0x40, 2);
  reply[0x44] = answer.echo ?? command.cmd1;
  reply[0x46] = model.cameraClass === 6 ? 0x10 : 0;
  reply[0x47] = command.cmd2 + 0x10;
  putU32(reply, 0x48, claimed);
  putU32(reply, 0x4c, command.serial);
  putU32(reply, 0x50, answer.status);
  if (answer.data) reply.set(answer.data.subarray(0, Math.max(0, length - 0x54)), 0x54);
  return reply;
}

/**
 * A long reply: its 0x40-byte header (a transfer of its own), then the data.
 *
 * @param model the model profile
 * @param faults the switchboard (short transfers)
 * @param data the reply's data
 * @param fault a length-claim, garble or oversize fault, if any
 * @returns the reply's transfers
 */
export function frameLong(
  model: EmulatedModel,
  faults: FaultInjector,
  data: ByteSource,
  fault?: Fault,
): ByteSource[] {
  const header = new Uint8Array(0x40);
  putU16(header, 4, 0x302);
  const announced = fault?.kind === "length-claim" ? fault.length : data.size;
  header[6] = announced & 0xff;
  header[7] = (announced >>> 8) & 0xff;
  header[8] = (announced >>> 16) & 0xff;
  header[9] = (announced >>> 24) & 0xff;
  if (fault?.kind === "garble") {
    putU16(header, 4, 0xeeee);
    putU32(header, 0, data.size + 0x100);
  }
  // The header is a transfer of its own (a short packet at high speed).
  const sources = [
    { ...bytesSource(header), endsTransfer: true },
    ...transfersOf(model, faults, data),
  ];
  if (fault?.kind === "oversize") {
    // The surplus comes as a transfer of its own, after the reply's.
    sources.splice(0, sources.length, ...endEachReply(sources));
    sources.push({ ...bytesSource(new Uint8Array(fault.extra)), surplus: true });
  }
  return sources;
}

/**
 * A long reply's data as the camera sends it: a class-6 camera ends its
 * transfers early (shortTransfers, on by default), in the blocks the EOS
 * 20D's download shows in Protocol.xml: one transfer length, 0x10c0, then
 * 0x40 and transfer length − 0x140 in turn.
 */
function transfersOf(
  model: EmulatedModel,
  faults: FaultInjector,
  source: ByteSource,
): ByteSource[] {
  const data: ByteSource = { size: source.size, bytes: source.bytes, longData: true };
  if (model.cameraClass !== 6 || !faults.shortTransfers || data.size === 0) return [data];
  const word = model.initWords[1];
  const length = word === 0xffffffff || word < 0x200 ? 0x1400 : word - (word % 0x40);
  return segmentSource(data, [length, 0x10c0, 0x40, length - 0x140], 2);
}

/**
 * A reply's sources with the last one (before any surplus) ending its
 * transfer: a camera sends each reply in transfers of its own, so a host
 * read never runs on into the next reply.
 *
 * @param sources the reply's sources
 * @returns the same, the last one ending its transfer
 */
export function endEachReply(sources: ByteSource[]): ByteSource[] {
  const out = [...sources];
  for (let i = out.length - 1; i >= 0; i--) {
    if (out[i].surplus) continue;
    if (!out[i].endsTransfer) out[i] = { ...out[i], endsTransfer: true };
    break;
  }
  return out;
}
