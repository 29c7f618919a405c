import { existsSync, readFileSync, writeFileSync } from 'node:fs';

/**
 * Replaces (or appends) one named section of a Markdown results file, between `<!-- name:start -->` and
 * `<!-- name:end -->`, so each benchmark rewrites only its own table.
 */
export function writeResultsSection(name: string, markdown: string, path: string): void {
  const start = `<!-- ${name}:start -->`;
  const end = `<!-- ${name}:end -->`;
  const block = `${start}\n${markdown.trim()}\n${end}`;
  const current = existsSync(path) ? readFileSync(path, 'utf8') : '# Benchmark results\n';
  const from = current.indexOf(start);
  const to = current.indexOf(end);
  const next =
    from >= 0 && to > from
      ? `${current.slice(0, from)}${block}${current.slice(to + end.length)}`
      : `${current.trimEnd()}\n\n${block}\n`;
  writeFileSync(path, next);
}

/** Markdown table from a header row and rows of cells. */
export function markdownTable(header: string[], rows: (string | number)[][]): string {
  const line = (cells: (string | number)[]) => `| ${cells.join(' | ')} |`;
  return [line(header), line(header.map(() => '---')), ...rows.map(line)].join('\n');
}

/** Describes the machine a figure was measured on, for the line under each table. */
export function machineLine(): string {
  return `Node ${process.version}, ${process.platform}/${process.arch}, measured ${new Date().toISOString().slice(0, 10)}`;
}
