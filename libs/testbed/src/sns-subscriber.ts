import { createServer, type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';

/** The fields of an SNS envelope this subscriber reads; tests name their own envelope type (contracts' SnsEnvelope). */
export interface SubscriberEnvelope {
  Type: string;
  SubscribeURL?: string;
}

export interface ReceivedDelivery<E extends SubscriberEnvelope = SubscriberEnvelope> {
  headers: IncomingHttpHeaders;
  envelope: E;
  /** The status this subscriber answered. */
  answered: number;
  at: number;
}

export interface SnsSubscriber<E extends SubscriberEnvelope = SubscriberEnvelope> {
  /** Where to subscribe it: http://<host>:<port>/sns */
  url: string;
  port: number;
  received: ReceivedDelivery<E>[];
  close(): Promise<void>;
}

export interface SnsSubscriberOptions<E extends SubscriberEnvelope = SubscriberEnvelope> {
  /** Address to listen on (default 127.0.0.1; 0.0.0.0 for a subscriber reached from a container). */
  host?: string;
  /** The status to answer a delivery with (default 200). */
  answer?: (envelope: E) => number;
  /** Wait this long before confirming a subscription (default 0). */
  confirmDelayMs?: number;
}

/**
 * An HTTP(S) endpoint as a webhook would be: records every delivery and confirms subscriptions by their SubscribeURL.
 */
export async function startSnsSubscriber<E extends SubscriberEnvelope = SubscriberEnvelope>(
  opts: SnsSubscriberOptions<E> = {},
): Promise<SnsSubscriber<E>> {
  const received: ReceivedDelivery<E>[] = [];
  const server = createServer((req, res) => {
    let body = '';
    req.on('data', (c) => (body += c));
    req.on('end', () => {
      const envelope = JSON.parse(body) as E;
      const status = opts.answer?.(envelope) ?? 200;
      received.push({ headers: req.headers, envelope, answered: status, at: Date.now() });
      res.writeHead(status).end();
      if (envelope.Type === 'SubscriptionConfirmation' && envelope.SubscribeURL) {
        const url = envelope.SubscribeURL;
        setTimeout(() => void fetch(url), opts.confirmDelayMs ?? 0);
      }
    });
  });
  const host = opts.host ?? '127.0.0.1';
  await new Promise<void>((r) => server.listen(0, host, r));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/sns`,
    port,
    received,
    close: () => new Promise((r) => server.close(() => r())),
  };
}
