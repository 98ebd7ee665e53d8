import type { Queue } from 'bullmq';
import { prom, type Metrics } from '@mp/runtime';

/** The notifier's gauges and counters, on the service's registry (served at /metrics). */
export function createNotifierMetrics(
  metrics: Metrics,
  sources: { connectedSockets: () => number; queue: Queue | null },
) {
  const registers = [metrics.registry];
  new prom.Gauge({
    name: 'notifier_connected_sockets',
    help: 'Sockets connected to this process',
    registers,
    collect() {
      this.set(sources.connectedSockets());
    },
  });
  const eventsEmitted = new prom.Counter({
    name: 'notifier_events_emitted_total',
    help: 'Events emitted to user rooms, by event',
    labelNames: ['event'] as const,
    registers,
  });
  const clientEventsDropped = new prom.Counter({
    name: 'notifier_client_events_dropped_total',
    help: 'Client events ignored, by reason',
    labelNames: ['reason'] as const,
    registers,
  });
  const jobs = new prom.Counter({
    name: 'notifier_jobs_total',
    help: 'notify jobs handled, by kind and outcome',
    labelNames: ['kind', 'outcome'] as const,
    registers,
  });
  const queueLag = new prom.Gauge({
    name: 'notifier_queue_lag_seconds',
    help: 'Time the last notify job waited in the queue before this process took it',
    registers,
  });
  const queueLagHistogram = new prom.Histogram({
    name: 'notifier_queue_lag_distribution_seconds',
    help: 'Time notify jobs waited in the queue before this process took them',
    buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
    registers,
  });
  const { queue } = sources;
  if (queue) {
    new prom.Gauge({
      name: 'notifier_queue_waiting_jobs',
      help: 'notify jobs waiting in the queue (all processes)',
      registers,
      async collect() {
        this.set(await queue.getWaitingCount().catch(() => Number.NaN));
      },
    });
  }
  return {
    eventsEmitted,
    clientEventsDropped,
    jobs,
    observeQueueLag(seconds: number) {
      queueLag.set(seconds);
      queueLagHistogram.observe(seconds);
    },
  };
}

export type NotifierMetrics = ReturnType<typeof createNotifierMetrics>;
