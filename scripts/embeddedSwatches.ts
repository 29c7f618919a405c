/**
 * Rebuilds the swatches shipped with the embedded model (`npm run swatches`): one swatch per training photo in
 * assets/textures, made from the whole photo with src/model/pretrained/default, written to that folder as
 * swatches.bin (the swatch files one after another) and swatches.json (name, photo, byte range of each). Run
 * it whenever the embedded model changes: a swatch only fits the model (and config) it was made with.
 */
import { writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Swatch } from '../src/latent/swatch.js';
import { textureVaeConfigHash } from '../src/model/configHash.js';
import { loadPretrained } from '../src/model/pretrained/pretrained.js';
import { readExemplarFile } from '../src/node/exemplarFiles.js';
import { useWasmBackend } from '../src/node/wasmBackend.js';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const photos = join(root, 'assets/textures');
const out = join(root, 'src/model/pretrained/default');

/** Swatch name -> training photo (see MODEL_CARD.md); the order is the order of the index. */
const SOURCES: readonly (readonly [string, string])[] = [
  ['bricks', 'bricks_bricks102.png'],
  ['concrete', 'concrete_concrete_wall_001.png'],
  ['grass', 'grass_sparse_grass.png'],
  ['ground', 'ground_ground054.png'],
  ['corrugatedMetal', 'metal_corrugated_factory_wall.png'],
  ['metal', 'metal_metal055a.png'],
  ['metalPlate', 'metal_plate_02.png'],
  ['moss', 'moss_mossy_rock053.png'],
  ['cliff', 'rock_cliff_side.png'],
  ['rock', 'rock_rock058.png'],
  ['stone', 'rock_rock_06.png'],
  ['rust', 'rust_rusty_metal_05.png'],
  ['sand', 'sand_coast_sand_02.png'],
  ['facadeTiles', 'tiles_concrete_tile_facade.png'],
  ['whiteTiles', 'tiles_long_white_tiles.png'],
  ['rosewood', 'wood_rosewood_veneer1.png'],
  ['wood', 'wood_wood_table_worn.png'],
];

await useWasmBackend();
const model = await loadPretrained('default');
const files: Uint8Array[] = [];
const entries: { name: string; source: string; offset: number; length: number }[] = [];
let offset = 0;
for (const [name, source] of SOURCES) {
  const start = performance.now();
  const image = await readExemplarFile(join(photos, source), 3);
  const bytes = (await Swatch.fromImage(model, image, { name })).toBytes();
  files.push(bytes);
  entries.push({ name, source, offset, length: bytes.length });
  offset += bytes.length;
  process.stdout.write(
    `${name}: ${source} ${image.width}x${image.height} px in ${((performance.now() - start) / 1000).toFixed(1)} s\n`,
  );
}
const bin = new Uint8Array(offset);
files.forEach((bytes, i) => {
  bin.set(bytes, entries[i].offset);
});
const index = {
  model: { name: model.config.name, configHash: textureVaeConfigHash(model.config) },
  swatches: entries,
};
writeFileSync(join(out, 'swatches.bin'), bin);
writeFileSync(join(out, 'swatches.json'), `${JSON.stringify(index, null, 2)}\n`);
model.dispose();
process.stdout.write(`wrote ${entries.length} swatches, ${bin.length} bytes, to ${out}\n`);
