/** Stage 2's second core: decodes candidates' stored records and scores them, as the engine worker would (src/engine/stage2Helper.ts). */
import * as Comlink from 'comlink';
import { installComlinkErrorHandler } from '../src/app/comlinkErrors.ts';
import { EncodedStage2Scorer } from '../src/engine/stage2Helper.ts';
import { decodeNamedFaceDetail } from '../src/storage/faceRecordCodec.ts';

installComlinkErrorHandler();
Comlink.expose(new EncodedStage2Scorer(decodeNamedFaceDetail));
