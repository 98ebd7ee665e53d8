import { io } from 'socket.io-client';
import { SocketEvent, type NotificationDto } from '@mp/contracts';
import type { Logger } from '@mp/logging';

const FINAL_KINDS = new Set(['media.complete', 'media.failed']);

export interface CompletionWatcher {
  close(): void;
}

/**
 * Listens on the notifier's socket for the user's media reaching complete or failed. On every (re)connect
 * `onConnect` runs, so that the caller can ask the gateway about completions missed while disconnected.
 */
export function watchCompletions(opts: {
  url: string;
  token: string;
  log: Logger;
  onFinished: (mediaId: string) => void;
  onConnect: () => void;
  retryMs?: number;
}): CompletionWatcher {
  const socket = io(opts.url, {
    transports: ['websocket'],
    auth: { token: opts.token },
    reconnectionDelayMax: 10_000,
  });
  let closed = false;
  let retry: NodeJS.Timeout | null = null;

  socket.on('connect', () => {
    opts.log.info('connected to the notifier');
    opts.onConnect();
  });
  socket.on('disconnect', (reason) => opts.log.warn({ reason }, 'disconnected from the notifier'));
  socket.on('connect_error', (err: Error & { data?: { code?: string } }) => {
    opts.log.warn({ err: err.message, code: err.data?.code }, 'cannot connect to the notifier');
    // A refusal by the server (e.g. unauthorized) is not retried by the client itself.
    if (!socket.active && !closed) {
      retry = setTimeout(() => socket.connect(), opts.retryMs ?? 30_000);
      retry.unref();
    }
  });
  socket.on(SocketEvent.notification, (n: NotificationDto) => {
    if (n.mediaId && FINAL_KINDS.has(n.kind)) opts.onFinished(n.mediaId);
  });

  return {
    close() {
      closed = true;
      if (retry) clearTimeout(retry);
      socket.close();
    },
  };
}
