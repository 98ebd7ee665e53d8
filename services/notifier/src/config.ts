import { common, env, loadConfig, z } from '@mp/config';

export const NotifierConfigSchema = z.object({
  ...common,
  PORT: env.port(3001),
  HOST: z.string().min(1).default('0.0.0.0'),
  /** Consume `notify` jobs in this process. Socket-only replicas set it to false. */
  NOTIFIER_WORKER: env.bool(true),
  /** Largest client message accepted; a bigger one closes that socket. */
  SOCKET_MAX_PAYLOAD_BYTES: env.int(4096).pipe(
    z
      .number()
      .min(256)
      .max(1024 * 1024),
  ),
  /** Per-socket client events: bucket size and refill per second. */
  SOCKET_RATE_BURST: env.int(20).pipe(z.number().min(1)),
  SOCKET_RATE_PER_SECOND: env.int(10).pipe(z.number().min(1)),
  /** Events dropped by the limiter in a row before the socket is disconnected. */
  SOCKET_MAX_DROPPED: env.int(100).pipe(z.number().min(1)),
  /** Open sockets one user may have on one notifier process; more are refused at the handshake. */
  SOCKETS_PER_USER: env.int(20).pipe(z.number().min(1).max(10_000)),
  /** Unread notifications replayed on connect (newest ones; the rest over REST). */
  REPLAY_LIMIT: env.int(100).pipe(z.number().min(1).max(1000)),
  /** Allowed browser origins for the websocket; empty: any. */
  CORS_ORIGINS: env.list(''),
  /**
   * Time a client has to send a request's headers (the websocket handshake's too), then its body; slower ones get 408.
   */
  HTTP_HEADERS_TIMEOUT_MS: env.int(10_000).pipe(z.number().min(50)),
  HTTP_REQUEST_TIMEOUT_MS: env.int(30_000).pipe(z.number().min(50)),
  /**
   * Open connections (sockets and REST) one client address may hold; more are closed at once. Behind a proxy, every
   * client has the proxy's.
   */
  MAX_CONNECTIONS_PER_IP: env.int(64).pipe(z.number().min(1)),
});

export type NotifierConfig = z.infer<typeof NotifierConfigSchema>;
/** What a caller must give; everything else has a default. */
export type NotifierConfigInput = z.input<typeof NotifierConfigSchema>;

export function loadNotifierConfig(source: NodeJS.ProcessEnv = process.env): NotifierConfig {
  return loadConfig(NotifierConfigSchema, source);
}
