/// <reference path="../../plugin/client.d.ts" />
import { expectTypeOf, it } from 'vitest';

// Type-only imports: nothing is loaded, `tsc` checks the declarations of plugin/client.d.ts.
type ModelModule = typeof import('./models/stone/model.json?vae');
type AtlasModule = typeof import('./models/stone/model.json?vae-atlas');
type AtlasWithParams = typeof import('./models/stone/model.json?count=16&tileSize=128&vae-atlas');

it('declares the value types of ?vae and ?vae-atlas imports', () => {
  expectTypeOf<ModelModule['default']>().toEqualTypeOf<string>();
  expectTypeOf<AtlasModule['urls']>().toEqualTypeOf<string[]>();
  expectTypeOf<AtlasModule['manifestUrl']>().toEqualTypeOf<string>();
  expectTypeOf<AtlasModule['default']['urls']>().toEqualTypeOf<string[]>();
  expectTypeOf<AtlasWithParams['default']['manifestUrl']>().toEqualTypeOf<string>();
});
