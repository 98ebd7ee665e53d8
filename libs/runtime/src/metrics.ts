import client from 'prom-client';

export { client as prom };

/** One registry per process, with default Node metrics and the service label. */
export function createMetrics(service: string) {
  const registry = new client.Registry();
  registry.setDefaultLabels({ service });
  client.collectDefaultMetrics({ register: registry });
  const httpRequests = new client.Counter({
    name: 'http_requests_total',
    help: 'HTTP requests',
    labelNames: ['method', 'route', 'status'] as const,
    registers: [registry],
  });
  const httpDuration = new client.Histogram({
    name: 'http_request_duration_seconds',
    help: 'HTTP request duration',
    labelNames: ['method', 'route', 'status'] as const,
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60],
    registers: [registry],
  });
  const connectionsRefused = new client.Counter({
    name: 'http_connections_refused_total',
    help: 'Connections closed at once: their address already held the most allowed',
    registers: [registry],
  });
  return { registry, httpRequests, httpDuration, connectionsRefused };
}
export type Metrics = ReturnType<typeof createMetrics>;
