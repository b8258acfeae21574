/**
 * One stay in remote mode: entering and leaving it, the remote-control
 * dialogue, and the release-parameter block the settings and the shot share
 * (protocol reference §4.4.1–4.4.2, §6.3).
 *
 * @module
 */

import {
  decodeGetReleaseParams,
  encodeGetReleaseParams,
  encodeRemoteControl,
  encodeSetReleaseParams,
} from "../../protocol/capture_codec.ts";
import type { FixedReply } from "../../protocol/codec.ts";
import { hex, REMOTE, type RemotePurpose, STATUS } from "../../protocol/commands.ts";
import { CameraStatusError, CanonError } from "../../protocol/errors.ts";
import { log } from "../../protocol/log.ts";
import type { Session } from "../../protocol/session.ts";
import { traitsOf } from "../../protocol/traits.ts";
import type { CaptureHost, CaptureStartOptions, RemoteMode } from "./types.ts";

/** Milliseconds to wait for remote mode (the lens extends). */
export const RC_INIT_TIMEOUT = 15000;

/** Whether the camera is an EOS body (its traits say; the model table holds the exceptions). */
export function isEos(host: CaptureHost): boolean {
  return traitsOf(host.modelInfo).eos;
}

/** Whether the camera speaks the new protocol generation (class 6). */
export function newProtocol(host: CaptureHost): boolean {
  return traitsOf(host.modelInfo).newProtocol;
}

/** One remote-control dialogue; the caller holds the wire (`host.run`). */
export function remote(
  host: CaptureHost,
  purpose: RemotePurpose,
  params: readonly number[] | Uint8Array = [],
  options: { timeout?: number; allowStatus?: boolean; minData?: number } = {},
): Promise<FixedReply> {
  const sub = REMOTE[purpose];
  return host.session.command(
    host.spec("remoteControl"),
    encodeRemoteControl(sub.code, params, newProtocol(host)),
    {
      replyLength: sub.replyLength,
      minData: options.minData ?? 8,
      label: sub.name,
      timeout: options.timeout,
      allowStatus: options.allowStatus,
    },
  );
}

/**
 * One stay in remote mode, from `cam.capture.start()` to its end
 * ({@link RemoteMode.stop}, `cam.capture.stop()` or `cam.close()`): the
 * state the settings, shot and viewfinder functions share. Its dialogues
 * fail once it has ended.
 */
export class RemoteStay {
  /** The camera. */
  readonly host: CaptureHost;
  /** Whether remote mode was left. */
  ended = false;
  /** How many users keep the viewfinder running (a `previews` loop, a `preview`). */
  viewfinder = 0;
  /** The last `CAP_nnnn` number given to a picture that is not on the card. */
  hostShots = 0;
  /** What `cam.capture.start()` hands out: the stay's state and its end, nothing else. */
  readonly handle: RemoteMode;

  private constructor(host: CaptureHost) {
    this.host = host;
    // deno-lint-ignore no-this-alias -- the handle's getter reads the stay's state
    const stay = this;
    this.handle = {
      get active() {
        return stay.active;
      },
      stop: () => stay.stop(),
      [Symbol.asyncDispose]: () => stay.stop(),
    };
  }

  /**
   * Enter remote mode (RC 0x00) and make the stay.
   *
   * @param host the camera
   * @param options the timeout of entering
   * @returns the stay
   * @throws {CameraStatusError} when the camera cannot enter remote mode
   */
  static async enter(
    host: CaptureHost,
    options: CaptureStartOptions = {},
  ): Promise<RemoteStay> {
    const timeout = Math.max(options.timeout ?? RC_INIT_TIMEOUT, host.session.timeout);
    await host.run(async () => {
      let reply = await remote(host, "init", [], { timeout, allowStatus: true });
      if (reply.status === STATUS.CAPTURE_MODE_FAILED) {
        // Left in remote mode by an earlier session (§4.4.2): leave, then enter again.
        log.info("the camera is still in remote mode from an earlier session; leaving it first");
        await remote(host, "exit", [], { allowStatus: true });
        reply = await remote(host, "init", [], { timeout, allowStatus: true });
      }
      if (reply.status !== STATUS.OK) {
        throw new CameraStatusError(REMOTE.init.name, reply.status, {
          hint: reply.status === STATUS.CAPTURE_MODE_FAILED
            ? "The camera could not enter remote-capture mode: take the lens cap off, check " +
              "the card, and switch the camera off and on"
            : undefined,
        });
      }
    });
    return new RemoteStay(host);
  }

  /** Whether the camera is still in remote mode through this stay. */
  get active(): boolean {
    return !this.ended;
  }

  /** The protocol session. */
  get wire(): Session {
    return this.host.session;
  }

  /** Whether the camera is an EOS body. */
  get eos(): boolean {
    return isEos(this.host);
  }

  /** Fail when the stay has ended. */
  assertLive(): void {
    if (this.ended) {
      throw new CanonError("this stay in remote mode has ended", {
        hint: "Call cam.capture's methods again: they enter remote mode anew",
      });
    }
  }

  /**
   * Run dialogues with the wire to themselves, while the stay lasts.
   *
   * @param body the dialogues
   * @returns what `body` returns
   */
  run<T>(body: () => Promise<T>): Promise<T> {
    try {
      this.assertLive();
    } catch (error) {
      return Promise.reject(error);
    }
    return this.host.run(body);
  }

  /** Leave remote mode (RC 0x01), stopping the viewfinder first. Safe to call twice. */
  async stop(): Promise<void> {
    if (this.ended) return;
    this.ended = true;
    await this.host.run(async () => {
      if (this.viewfinder > 0) {
        this.viewfinder = 0;
        await remote(this.host, "viewfinderStop", [], { allowStatus: true });
      }
      const reply = await remote(this.host, "exit", [], { allowStatus: true });
      if (reply.status !== 0) {
        log.warn(`leaving remote mode: the camera answered ${hex(reply.status)}`);
      }
    });
  }

  /** The release-parameter block (RC 0x0A, §6.3); the caller holds the wire. */
  async readBlock(): Promise<Uint8Array> {
    const sub = REMOTE.getParams;
    const reply = await this.wire.command(
      this.host.spec("remoteControl"),
      encodeGetReleaseParams(newProtocol(this.host)),
      { replyLength: sub.replyLength, minData: sub.replyLength - 0x50, label: sub.name },
    );
    return decodeGetReleaseParams(reply.data);
  }

  /** Write the release-parameter block (RC 0x07); the caller holds the wire. */
  async writeBlock(block: Uint8Array): Promise<void> {
    const sub = REMOTE.setParams;
    await this.wire.command(
      this.host.spec("remoteControl"),
      encodeSetReleaseParams(block, newProtocol(this.host)),
      { replyLength: sub.replyLength, minData: 8, label: sub.name },
    );
  }
}
