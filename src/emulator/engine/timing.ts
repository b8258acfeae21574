/**
 * How long a real camera takes to answer a command: the virtual camera's
 * per-command processing delay, on top of the bus model (`bus_model.ts`,
 * which paces the bytes). With a timing model, the reply to a command is
 * put in the bulk IN pipe only once the delay has passed, as a real camera
 * has its reply ready only after it looked at its card or moved its lens.
 *
 * {@link G3_TIMING} comes from a gphoto2 2.4.10 debug log of a real
 * PowerShot G3 (timestamps in ms): see `docs/real-cameras/timing.md` for
 * each figure and where it was read. Off by default (`VirtualCamera`'s
 * `timing` option); the benchmarks switch it on.
 *
 * @module
 */

/** A command as the timing model sees it. */
export interface TimedCommand {
  /** cmd1, e.g. 0x01. */
  readonly cmd1: number;
  /** cmd2: 0x11 storage, 0x12 camera control. */
  readonly cmd2: number;
  /** The remote-control sub-command (first payload word); only the remote-control command has one. */
  readonly subcommand?: number;
}

/** A per-command processing delay. */
export interface CommandTiming {
  /**
   * Milliseconds from the command's arrival to the first byte of its reply.
   *
   * @param command the command
   * @param replyBytes the reply's length without its 0x40-byte header
   *   (for a directory listing: the listing's length)
   * @returns the delay, ms (0: at once)
   */
  replyDelayMs(command: TimedCommand, replyBytes: number): number;
}

/** The figures {@link G3_TIMING} uses, in ms. */
export const G3_DELAYS = {
  /** Identify camera 0x01/0x12: the 0x80-byte read ends 4.0–4.2 ms after the command. */
  identify: 3,
  /** Lock keys 0x20/0x12: 6.0 ms. */
  lockKeys: 5,
  /** Power status 0x0A/0x12 and the other short camera-control commands: 3.0 ms. */
  control: 2,
  /** Remote control 0x13/0x12, sub-command 0 (enter remote mode: the lens comes out): 2,673 ms. */
  remoteInit: 2670,
  /** Remote control 0x13/0x12, other sub-commands: 3–13 ms. */
  remote: 3,
  /** Flash device ident (disk name) 0x0A/0x11 and disk info: 49–55 ms. */
  disk: 50,
  /** Get directory 0x0B/0x11: 19–74 ms, growing with the listing: base ... */
  directoryBase: 15,
  /** ... plus this per byte of listing (54 B: 21 ms, 194 B: 58–74 ms) ... */
  directoryPerByte: 0.2,
  /**
   * ... up to this much in all: the log has no listing over 213 bytes, and
   * the straight line would put a 2,000-file card past every client's 5 s
   * transfer timeout (an assumption, not a measurement).
   */
  directoryMax: 1000,
  /** Get file 0x01/0x11 (file or thumbnail): its header read ends 18 ms after the command. */
  getFile: 17,
  /** Set file attributes 0x0E/0x11: 28 ms. */
  setAttributes: 27,
  /** Delete file 0x0D/0x11: 192 ms. */
  deleteFile: 190,
} as const;

/**
 * The delays of a PowerShot G3, read from a real camera's gphoto2 log.
 * Commands the log does not show get {@link G3_DELAYS}.control.
 */
export const G3_TIMING: CommandTiming = {
  replyDelayMs(command: TimedCommand, replyBytes: number): number {
    const d = G3_DELAYS;
    const { cmd1, cmd2 } = command;
    if (command.subcommand !== undefined) {
      return command.subcommand === 0 ? d.remoteInit : d.remote;
    }
    if (cmd2 === 0x11) {
      switch (cmd1) {
        case 0x01:
          return d.getFile;
        case 0x09: // disk info
        case 0x0a: // flash device ident
          return d.disk;
        case 0x0b:
          return Math.min(d.directoryMax, d.directoryBase + d.directoryPerByte * replyBytes);
        case 0x0d:
          return d.deleteFile;
        case 0x0e:
          return d.setAttributes;
        default:
          return d.control;
      }
    }
    if (cmd2 === 0x12 && cmd1 === 0x01) return d.identify;
    if (cmd2 === 0x12 && cmd1 === 0x20) return d.lockKeys;
    return d.control;
  },
};
