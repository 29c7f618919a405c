import { expect, test } from 'vitest';

test('webgl2', () => {
  const c = document.createElement('canvas');
  const gl = c.getContext('webgl2');
  expect(gl).not.toBeNull();
  expect(gl?.getParameter(gl.VERSION)).toContain('WebGL 2');
});
