import { readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { renderChainMarkdown } from './chain';

// docs/architecture.md's chain tables are rendered from `chain`; `chain.test.ts` fails when they drift.
// Rewrite them with: npx tsx libs/contracts/src/architecture-doc.ts

export const architectureDocPath = fileURLToPath(new URL('../../../docs/architecture.md', import.meta.url));
const BEGIN = '<!-- chain:begin (rendered from libs/contracts/src/chain.json) -->';
const END = '<!-- chain:end -->';

/** The document with its chain section rendered afresh; the rest is left as written. */
export function withChainSection(doc: string): string {
  const start = doc.indexOf(BEGIN);
  const end = doc.indexOf(END);
  if (start < 0 || end < start) throw new Error(`docs/architecture.md has no ${BEGIN} … ${END} section`);
  return `${doc.slice(0, start)}${BEGIN}\n\n${renderChainMarkdown()}\n${doc.slice(end)}`;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  writeFileSync(architectureDocPath, withChainSection(readFileSync(architectureDocPath, 'utf8')));
}
