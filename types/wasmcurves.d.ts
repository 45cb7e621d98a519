// Minimal typings for the WebAssembly curve builder that snarkjs (via ffjavascript) uses.
declare module "wasmbuilder" {
  export class ModuleBuilder {
    setMemory(pages: number): void;
    build(): Uint8Array<ArrayBuffer>;
    modules: Record<string, Record<string, number>>;
  }
}
declare module "wasmcurves" {
  const wasmcurves: { buildBn128(mb: unknown): void };
  export default wasmcurves;
}
