import path from 'node:path';
import { render, repoRoot, validate } from './validate';

// The base alone, and the example overlay that adds the namespace, images and the credentials Secret.
const targets = ['deploy/k8s/base', 'deploy/k8s/overlays/example'];
let failed = 0;
for (const target of targets) {
  const manifests = render(path.join(repoRoot, target));
  const problems = await validate(manifests);
  for (const p of problems) console.error(`${target}: ${p.document}: ${p.message}`);
  failed += problems.length;
  process.stdout.write(`${target}: ${manifests.length} documents, ${problems.length} problems\n`);
}
process.exit(failed === 0 ? 0 : 1);
