/**
 * Long replies as web streams: a reply that arrives chunk by chunk (a file,
 * a listing, a thumbnail) handed on as a `ReadableStream<Uint8Array>` that
 * reads the camera only as fast as it is read, and the one place a whole
 * reply is joined into a single buffer.
 *
 * @module
 */

import { joinBytes } from "./bytes.ts";

/**
 * Delivers a long reply's chunks to `sink`, in order, awaiting each, and
 * stops when `signal` aborts; resolves once the reply has ended.
 */
export type ReplyProducer = (
  sink: (chunk: Uint8Array) => Promise<void>,
  signal: AbortSignal,
) => Promise<unknown>;

/**
 * A stream of the chunks `produce` delivers. Nothing is asked of the camera
 * until the first read; each chunk is then handed to a waiting read, and the
 * producer waits until the reader asks for the next (back-pressure; no chunk
 * is queued in the stream). Cancelling the stream
 * aborts the producer and settles only once it has stopped, so the next
 * command may follow at once. A producer that fails errors the stream with
 * its error.
 *
 * @param produce the reply's producer (e.g. a call of `Session.longCommand`); its chunks
 *   may be reused once it is asked for the next
 * @returns the stream; each chunk is a copy that belongs to the reader
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { readAll, replyStream } from "@canon-remote/canon-remote/protocol";
 * const stream = replyStream(async (sink) => {
 *   await sink(Uint8Array.of(1, 2));
 *   await sink(Uint8Array.of(3));
 * });
 * assert.deepEqual([...await readAll(stream)], [1, 2, 3]);
 * ```
 */
export function replyStream(produce: ReplyProducer): ReadableStream<Uint8Array> {
  const stop = new AbortController();
  let running: Promise<void> | undefined;
  let space: (() => void) | undefined;
  const wake = () => {
    const resume = space;
    space = undefined;
    resume?.();
  };
  return new ReadableStream<Uint8Array>({
    pull(controller) {
      wake();
      if (running) return;
      const sink = async (chunk: Uint8Array) => {
        stop.signal.throwIfAborted();
        // A device lends a chunk only until its next read (UsbDevice.readBulkChunks),
        // while a reader may keep what it was given: the stream hands out a copy.
        controller.enqueue(chunk.slice());
        if ((controller.desiredSize ?? 0) <= 0) await new Promise<void>((r) => space = r);
        stop.signal.throwIfAborted();
      };
      running = (async () => {
        try {
          await produce(sink, stop.signal);
        } catch (error) {
          if (!stop.signal.aborted) controller.error(error);
          return;
        }
        if (!stop.signal.aborted) controller.close();
      })();
    },
    async cancel(reason) {
      stop.abort(reason ?? new DOMException("the stream was cancelled", "AbortError"));
      wake();
      await running;
    },
  }, { highWaterMark: 0 });
}

/**
 * Run a long reply's producer to its end and join what it delivers into one
 * buffer, with no stream in between: for replies wanted whole (a drive
 * name, a directory listing, a thumbnail). The first web stream a process
 * makes costs it about 2.5 ms (Deno compiles its streams code then), which
 * `canon info` paid before its first card command; a thumbnail also made
 * one per picture. A producer that fails rejects with its error.
 *
 * @param produce the reply's producer; its chunks may be reused once it is
 *   asked for the next (each is copied)
 * @returns all its bytes, in order, the caller's to keep
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { replyBytes } from "@canon-remote/canon-remote/protocol";
 * const lent = new Uint8Array(2);
 * const bytes = await replyBytes(async (sink) => {
 *   lent.set([1, 2]);
 *   await sink(lent);
 *   lent.set([3, 4]); // the producer reuses its buffer
 *   await sink(lent.subarray(0, 1));
 * });
 * assert.deepEqual([...bytes], [1, 2, 3]);
 * ```
 */
export async function replyBytes(produce: ReplyProducer): Promise<Uint8Array> {
  const parts: Uint8Array[] = [];
  // Never aborted: nobody reads this reply but this function, which reads it all.
  await produce((chunk) => {
    parts.push(chunk.slice());
    return Promise.resolve();
  }, new AbortController().signal);
  return parts.length === 1 ? parts[0] : joinBytes(parts);
}

/**
 * Read a stream to its end and join its chunks into one buffer (a single
 * chunk is returned as it is).
 *
 * @param stream the stream, e.g. from {@link replyStream}
 * @returns all its bytes, in order
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { readAll } from "@canon-remote/canon-remote/protocol";
 * const stream = ReadableStream.from([Uint8Array.of(1), Uint8Array.of(2, 3)]);
 * assert.deepEqual([...await readAll(stream)], [1, 2, 3]);
 * ```
 */
export async function readAll(stream: ReadableStream<Uint8Array>): Promise<Uint8Array> {
  const parts: Uint8Array[] = [];
  for await (const part of stream) parts.push(part);
  return parts.length === 1 ? parts[0] : joinBytes(parts);
}
