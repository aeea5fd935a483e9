/**
 * Compiles a kernel module from its committed base64 bytes, once per process.
 * Null where WebAssembly or its SIMD extension is missing: every kernel has a
 * JS fallback that computes the same thing, so that is not an error.
 */
const compiled = new Map<string, WebAssembly.Module | null>();

export function kernelModule(base64: string): WebAssembly.Module | null {
  const cached = compiled.get(base64);
  if (cached !== undefined) return cached;
  let module: WebAssembly.Module | null = null;
  if (typeof WebAssembly !== 'undefined') {
    // atob exists in every place the engine runs (page, worker, Node).
    const binary = atob(base64);
    const bytes = new Uint8Array(binary.length);
    for (let i = 0; i < binary.length; i++) bytes[i] = binary.charCodeAt(i);
    try {
      // validate() is false without SIMD support.
      module = WebAssembly.validate(bytes) ? new WebAssembly.Module(bytes) : null;
    } catch {
      // A page whose Content-Security-Policy forbids compiling WebAssembly throws here; the JS loops compute the same.
      module = null;
    }
  }
  compiled.set(base64, module);
  return module;
}
