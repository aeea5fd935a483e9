/**
 * The embedder of the active recognizer id, which is either one manifest
 * recognizer or a fused pipeline of two (src/models/pipelines.ts), and the
 * version string galleries are keyed by: it changes whenever the built
 * weights, graphs or a pipeline's fusion change, so stale features are never
 * mixed with new ones.
 */
import { loadedModel, type LoadedModel } from '../models/loadModels.ts';
import { fusedPipeline } from '../models/pipelines.ts';
import { FusedRecognizer } from './fusedRecognizer.ts';
import { Recognizer, type FaceEmbedder } from './recognizer.ts';

export function embedderFor(activeId: string, byId: ReadonlyMap<string, LoadedModel>): FaceEmbedder {
  const recognizer = (id: string) => {
    const m = loadedModel(byId, id);
    return new Recognizer(m.session, m.entry);
  };
  const fused = fusedPipeline(activeId);
  if (!fused) return recognizer(activeId);
  return new FusedRecognizer(recognizer(fused.primary), recognizer(fused.secondary), { secondaryWeight: fused.secondaryWeight });
}

export function recognizerVersion(activeId: string, byId: ReadonlyMap<string, LoadedModel>): string {
  const checksum = (id: string) => loadedModel(byId, id).entry.sha256.slice(0, 12);
  const fused = fusedPipeline(activeId);
  if (fused) return `${fused.version}-w${fused.secondaryWeight}-${checksum(fused.primary)}-${checksum(fused.secondary)}`;
  return `${loadedModel(byId, activeId).entry.version}-${checksum(activeId)}`;
}
