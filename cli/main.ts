/** The `babylon-vae-textures` command line: one module per command, each exporting `run(argv)`. */
const commands: Record<
  string,
  { summary: string; load: () => Promise<{ run(argv: string[]): Promise<number> }> }
> = {
  train: { summary: 'train a model on exemplar images (PNG/JPEG)', load: () => import('./train.js') },
  bake: { summary: 'bake an atlas of variations to PNG + manifest', load: () => import('./bake.js') },
  swatch: { summary: 'make a swatch (a material) from one image', load: () => import('./swatch.js') },
  sample: { summary: 'decode textures from a model to PNG', load: () => import('./sample.js') },
  encode: { summary: 'encode images to latent files', load: () => import('./encode.js') },
  eval: { summary: 'measure reconstruction, realism and tileability', load: () => import('./eval.js') },
};

export function usage(): string {
  const lines = Object.entries(commands).map(([name, c]) => `  ${name.padEnd(8)} ${c.summary}`);
  return `usage: babylon-vae-textures <command> [options]\n\ncommands:\n${lines.join('\n')}\n\nRun a command with --help for its options.\n`;
}

export async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (!name || name === '--help' || name === '-h') {
    process.stdout.write(usage());
    return name ? 0 : 1;
  }
  // An own key only: 'constructor' or '__proto__' are unknown commands, not Object's members.
  const command = Object.hasOwn(commands, name) ? commands[name] : undefined;
  if (!command) {
    process.stderr.write(
      `unknown command "${name}"; allowed: ${Object.keys(commands).join(', ')}\n\n${usage()}`,
    );
    return 2;
  }
  try {
    return await (await command.load()).run(rest);
  } catch (e) {
    process.stderr.write(`error: ${(e as Error).message}\n`);
    return 1;
  }
}
