import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';
import { parseAllDocuments } from 'yaml';

export interface Manifest {
  apiVersion: string;
  kind: string;
  metadata: { name: string };
  [field: string]: unknown;
}

export interface Problem {
  document: string;
  message: string;
}

const here = path.dirname(fileURLToPath(import.meta.url));
export const repoRoot = path.resolve(here, '../../..');

/** Renders a kustomization with kubectl's built-in kustomize (the same one `kubectl apply -k` runs). */
export function render(dir: string, kubectl = process.env.KUBECTL ?? 'kubectl'): Manifest[] {
  let out: string;
  try {
    out = execFileSync(kubectl, ['kustomize', dir], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  } catch (err) {
    const e = err as { code?: string; stderr?: string; message: string };
    if (e.code === 'ENOENT') throw new Error(`${kubectl} not found: it renders the kustomization (set KUBECTL)`);
    throw new Error(`kubectl kustomize ${dir}: ${(e.stderr ?? e.message).trim()}`);
  }
  return parseYaml(out);
}

export function parseYaml(text: string): Manifest[] {
  return parseAllDocuments(text)
    .map((d) => d.toJS() as Manifest | null)
    .filter((d): d is Manifest => d !== null);
}

/** The kubernetes-models module of a kind: core v1 at its root, CRDs of KEDA in their own package. */
function modelModule(m: Manifest): string {
  if (m.apiVersion.startsWith('keda.sh/')) return `@kubernetes-models/keda/${m.apiVersion}/${m.kind}`;
  return `kubernetes-models/${m.apiVersion}/${m.kind}`;
}

const nameOf = (m: Manifest) => `${m.kind}/${m.metadata?.name ?? '?'}`;

/**
 * Two checks per document. The models' JSON Schemas (ajv, compiled from the Kubernetes OpenAPI and KEDA's CRDs)
 * check types, required fields and enums, but let unknown fields through, as the API server's non-strict mode
 * does. The same packages' TypeScript interfaces name every field, so a type check of each document as an object
 * literal rejects a misspelt or misplaced field at any depth, as `kubectl apply --validate=strict` would.
 */
export async function validate(manifests: Manifest[]): Promise<Problem[]> {
  const problems: Problem[] = [];
  const typed: Array<{ manifest: Manifest; module: string }> = [];
  for (const m of manifests) {
    if (typeof m.apiVersion !== 'string' || typeof m.kind !== 'string') {
      problems.push({ document: nameOf(m), message: 'apiVersion and kind are required' });
      continue;
    }
    const module = modelModule(m);
    let Model: new (data: unknown) => { validate(): void };
    try {
      Model = ((await import(module)) as Record<string, typeof Model>)[m.kind]!;
      if (!Model) throw new Error('no model');
    } catch {
      problems.push({ document: nameOf(m), message: `no schema for ${m.apiVersion} ${m.kind}` });
      continue;
    }
    try {
      new Model(m).validate();
    } catch (err) {
      problems.push({ document: nameOf(m), message: (err as Error).message });
    }
    typed.push({ manifest: m, module });
  }
  return [...problems, ...unknownFields(typed)];
}

function unknownFields(docs: Array<{ manifest: Manifest; module: string }>): Problem[] {
  if (docs.length === 0) return [];
  const file = path.join(here, '__manifests.ts');
  const starts: number[] = [];
  let source = '';
  docs.forEach(({ manifest, module }, i) => {
    source += `import type { I${manifest.kind} as T${i} } from '${module}';\n`;
  });
  docs.forEach(({ manifest }, i) => {
    starts.push(source.length);
    source += `export const d${i}: T${i} = ${JSON.stringify(manifest, null, 2)};\n`;
  });
  const options: ts.CompilerOptions = {
    strict: true,
    noEmit: true,
    skipLibCheck: true,
    module: ts.ModuleKind.NodeNext,
    moduleResolution: ts.ModuleResolutionKind.NodeNext,
    target: ts.ScriptTarget.ES2022,
    types: [],
  };
  const host = ts.createCompilerHost(options);
  const getSourceFile = host.getSourceFile.bind(host);
  const fileExists = host.fileExists.bind(host);
  host.getSourceFile = (name, lang, ...rest) =>
    name === file ? ts.createSourceFile(name, source, lang) : getSourceFile(name, lang, ...rest);
  host.fileExists = (name) => name === file || fileExists(name);
  const program = ts.createProgram([file], options, host);
  return ts.getPreEmitDiagnostics(program).map((d) => {
    const at = d.start ?? 0;
    let index = starts.findLastIndex((s) => s <= at);
    if (index < 0) index = 0;
    const line = source.slice(source.lastIndexOf('\n', at) + 1, source.indexOf('\n', at)).trim();
    return {
      document: d.file?.fileName === file ? nameOf(docs[index]!.manifest) : '?',
      message: `${ts.flattenDiagnosticMessageText(d.messageText, ' ')} (at: ${line})`,
    };
  });
}
