import { describe, expect, it } from 'vitest';
import { autoDeclinesAdapter } from '../../../src/core/autoBackend.ts';

describe('autoDeclinesAdapter', () => {
  it('lets auto run on a hardware adapter', () => {
    expect(autoDeclinesAdapter({ isFallbackAdapter: false, description: 'nvidia / hopper' }, 'WASM')).toBeNull();
  });

  it('sends auto to the CPU path on a software adapter, naming the adapter, the path taken and how to force WebGPU', () => {
    const note = autoDeclinesAdapter({ isFallbackAdapter: true, description: 'google / swiftshader' }, 'WASM');
    expect(note).toContain('google / swiftshader');
    expect(note).toContain('software fallback');
    expect(note).toContain('WASM');
    expect(note).toMatch(/choose WebGPU/);
  });
});
