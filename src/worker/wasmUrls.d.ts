// Vite's `?url` imports, declared here because the package build does not load vite/client's types.
declare module '*.wasm?url' {
  const url: string;
  export default url;
}
