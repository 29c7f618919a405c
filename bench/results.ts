import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { writeResultsSection as writeSection } from '../cli/resultsSection.js';

export { machineLine, markdownTable } from '../cli/resultsSection.js';

const resultsPath = join(dirname(fileURLToPath(import.meta.url)), 'RESULTS.md');

/** Rewrites one named section of bench/RESULTS.md (or of `path`); see cli/resultsSection.ts. */
export function writeResultsSection(name: string, markdown: string, path = resultsPath): void {
  writeSection(name, markdown, path);
}
