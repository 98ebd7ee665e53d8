import type { IncomingMessage } from 'node:http';
import { finished } from 'node:stream';

/** Chunks read ahead of @tus/server before the request is paused. */
const READ_AHEAD_CHUNKS = 16;

/**
 * A request's body as a web stream of the very chunks read from the socket. `Readable.toWeb`, which srvx
 * uses, copies every chunk into a new Uint8Array (so that a reader may detach it): for an upload, a second
 * allocation and copy of each byte, and collections to match. @tus/server only turns the stream back into a
 * Node stream, which detaches nothing. The request is paused while the stream holds READ_AHEAD_CHUNKS chunks;
 * it ends as the request ends, and errs as it errs (a cut connection), as `Readable.toWeb`'s does.
 */
export function bodyStream(req: IncomingMessage): ReadableStream<Uint8Array> {
  let done = false;
  return new ReadableStream<Uint8Array>(
    {
      start(controller) {
        req.on('data', (chunk: Buffer) => {
          if (done) return;
          controller.enqueue(chunk);
          if ((controller.desiredSize ?? 0) <= 0) req.pause();
        });
        finished(req, (err) => {
          if (done) return;
          done = true;
          if (err) controller.error(err);
          else controller.close();
        });
      },
      pull() {
        req.resume();
      },
      cancel(reason) {
        done = true;
        req.destroy(reason instanceof Error ? reason : undefined);
      },
    },
    new CountQueuingStrategy({ highWaterMark: READ_AHEAD_CHUNKS }),
  );
}

/** Makes `request.body` (an srvx NodeRequest's) the uncopied stream of `req`'s body, for methods with one. */
export function useBodyStream(request: object, req: IncomingMessage): void {
  if (req.method === 'GET' || req.method === 'HEAD') return;
  let stream: ReadableStream<Uint8Array> | undefined;
  Object.defineProperty(request, 'body', { configurable: true, get: () => (stream ??= bodyStream(req)) });
}
