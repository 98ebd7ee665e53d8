import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseYaml, render, repoRoot, validate, type Manifest } from '../src/validate';

interface Container {
  resources: { requests: Record<string, string> };
  livenessProbe?: { httpGet: Record<string, unknown> };
  readinessProbe?: { httpGet: Record<string, unknown> };
}
const containerOf = (m: Manifest) =>
  (m.spec as { template: { spec: { containers: Container[] } } }).template.spec.containers[0]!;

const overlay = path.join(repoRoot, 'deploy/k8s/overlays/example');

describe('deploy/k8s', () => {
  it('renders the example overlay into documents the Kubernetes and KEDA schemas accept', async () => {
    const manifests = render(overlay);
    expect(manifests.map((m) => m.kind)).toEqual(
      expect.arrayContaining(['Deployment', 'Service', 'PodDisruptionBudget', 'Job', 'ScaledObject', 'Secret']),
    );
    expect(await validate(manifests)).toEqual([]);
  });

  it('gives every HTTP service /healthz and /readyz probes and every Deployment resource requests', () => {
    const deployments = render(overlay).filter((m) => m.kind === 'Deployment');
    expect(deployments).toHaveLength(6);
    for (const d of deployments) {
      const c = containerOf(d);
      expect(c.resources.requests, d.metadata.name).toMatchObject({ cpu: expect.any(String) });
      if (d.metadata.name === 'transcoder-worker') continue;
      expect(c.livenessProbe?.httpGet.path, d.metadata.name).toBe('/healthz');
      expect(c.readinessProbe?.httpGet.path, d.metadata.name).toBe('/readyz');
    }
  });

  it('rejects a misspelt field deep in a Deployment', async () => {
    const [gateway] = render(overlay).filter((m) => m.metadata.name === 'upload-gateway' && m.kind === 'Deployment');
    const broken = structuredClone(gateway!);
    containerOf(broken).readinessProbe!.httpGet = { pth: '/readyz', port: 'http' };
    const problems = await validate([broken]);
    expect(problems).toHaveLength(1);
    expect(problems[0]!.document).toBe('Deployment/upload-gateway');
    expect(problems[0]!.message).toMatch(/'"pth"' does not exist in type 'IHTTPGetAction'/);
  });

  it('rejects a wrong type, an unknown ScaledObject field and an unknown kind', async () => {
    const problems = await validate(
      parseYaml(`
apiVersion: policy/v1
kind: PodDisruptionBudget
metadata: { name: pdb }
spec: { maxUnavailable: 1, selector: { matchLabels: { a: b } }, minAvailabel: 1 }
---
apiVersion: apps/v1
kind: Deployment
metadata: { name: d }
spec:
  replicas: two
  selector: { matchLabels: { a: b } }
  template: { metadata: { labels: { a: b } }, spec: { containers: [{ name: c, image: i }] } }
---
apiVersion: keda.sh/v1alpha1
kind: ScaledObject
metadata: { name: s }
spec: { scaleTargetRef: { name: w }, triggers: [{ type: redis, metadata: {} }], maxReplicas: 3 }
---
apiVersion: example.com/v1
kind: Widget
metadata: { name: w }
`),
    );
    const text = problems.map((p) => `${p.document}: ${p.message}`).join('\n');
    expect(text).toMatch(/PodDisruptionBudget\/pdb: .*'"minAvailabel"' does not exist/);
    expect(text).toMatch(/Deployment\/d: .*replicas must be integer/);
    expect(text).toMatch(/ScaledObject\/s: .*'"maxReplicas"' does not exist/);
    expect(text).toMatch(/Widget\/w: no schema for example.com\/v1 Widget/);
  });
});
